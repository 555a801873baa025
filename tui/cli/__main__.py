"""`python -m tui.cli`: the `crm` command where the console script is not installed."""

from tui.cli import main

main()
