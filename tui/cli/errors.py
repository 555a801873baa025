"""How the command line fails: one line on stderr, and an exit status a script can test.

A module of its own, below the others, so that `fields` (which raises `FieldProblem`) and
`context` (whose error handler names fields by their flags) need not import each other."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import click

from store.text import visible

EXIT_ERROR = 1  # any mistake or failure: the message says which
EXIT_CONFLICT = 3  # --if-version: someone else changed the record first; nothing was changed


class CLIError(click.ClickException):
    """A one-line `error: ...` on stderr and exit status 1."""

    exit_code = EXIT_ERROR

    def show(self, file: Any = None) -> None:
        click.echo("error: " + visible(self.format_message()), err=True)


class VersionConflict(CLIError):
    """`--if-version N` and the record is no longer at version N: nothing was changed. A
    status of its own, so that a script can tell "someone else changed it" from a mistake."""

    exit_code = EXIT_CONFLICT


class FieldProblem(CLIError):
    def __init__(self, flag: str, message: str) -> None:
        super().__init__(f"{flag}: {message}")
        self.flag = flag


def warn(messages: Iterable[str]) -> None:
    for message in messages:
        click.echo("warning: " + visible(message), err=True)
