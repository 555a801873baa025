"""Time the app at scale: launch to an interactive list, a search keystroke, opening a record
with 1,000 activities, saving an activity until it shows on the timeline.

    uv run python benchmarks/bench_tui.py [--scale M] [--repeat 5]

The app runs headless (Textual's test driver renders every frame as a terminal would, without
the terminal); launch is also timed in a real terminal through tmux when tmux is installed.
Prints a Markdown table with the targets from the issue beside the numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from store.demo import generate  # noqa: E402
from store.model import ACCOUNTS  # noqa: E402
from store.service import CRM  # noqa: E402

DATA = ROOT / "benchmarks" / "data"


def database(scale: str) -> Path:
    path = DATA / f"tui-{scale}.json"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        crm = CRM.open(path, user="demo")
        crm.replace_all(generate(scale, seed=7))
    return path


def busiest_account(path: Path) -> tuple[str, int]:
    crm = CRM.open(path)
    # Counted in the file engine's index (one grouped query, not a walk of every record).
    best, count = crm._engine.index.conn.execute(
        "SELECT regarding_id, count(*) FROM activities WHERE regarding_id IN "
        "(SELECT id FROM accounts) GROUP BY regarding_id ORDER BY 2 DESC LIMIT 1"
    ).fetchone()
    assert crm.get(ACCOUNTS, best) is not None
    return best, int(count)


LAUNCH = """
import sys, time
t0 = time.perf_counter()
from pathlib import Path
from store.service import CRM
from tui.app import CrmApp
crm = CRM(Path(sys.argv[1]), user="demo"); crm.open_for_screen()
app = CrmApp(crm, poll_seconds=0)
async def main():
    async with app.run_test(size=(80, 24)) as pilot:
        while app.screen.query_one("#records").row_count == 0:
            await pilot.pause(0.005)
        print(time.perf_counter() - t0)
import asyncio; asyncio.run(main())
"""


def launch_headless(path: Path, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", LAUNCH, str(path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return times


def launch_tmux(path: Path, repeat: int) -> list[float]:
    """From `crm` starting in a real 80x24 terminal to the list showing its count line."""
    if not shutil.which("tmux"):
        return []
    times = []
    for _ in range(repeat):
        socket = f"bench{time.monotonic_ns()}"
        tmux = ["tmux", "-L", socket, "-f", "/dev/null"]
        command = (
            f"cd {ROOT} && env TERM=xterm-256color LANG=C.UTF-8 "
            f"{sys.executable} -m tui.cli --db {path} --user demo"
        )
        start = time.perf_counter()
        subprocess.run(
            [*tmux, "new-session", "-d", "-x", "80", "-y", "24", "-s", "b", command], check=True
        )
        try:
            while time.perf_counter() - start < 30:
                screen = subprocess.run(
                    [*tmux, "capture-pane", "-p", "-t", "b"], capture_output=True, text=True
                ).stdout
                if " accounts  ·  sort" in screen:
                    times.append(time.perf_counter() - start)
                    break
                time.sleep(0.01)
        finally:
            subprocess.run([*tmux, "kill-server"], capture_output=True)
    return times


DRAWN: dict[int, tuple[float, int]] = {}  # table -> (when its first row was last drawn, version)


def watch_drawing() -> None:
    """Record when each table draws its first row: the moment new rows reach the screen."""
    from tui.widgets.virtual_table import VirtualTable

    original = VirtualTable.render_line

    def render_line(self: VirtualTable, y: int):  # noqa: ANN202
        strip = original(self, y)
        if y == 1:
            DRAWN[id(self)] = (time.perf_counter(), self.rows_version)
        return strip

    VirtualTable.render_line = render_line  # type: ignore[method-assign]


async def until_drawn(table, version: int) -> float:  # noqa: ANN001
    """Wait until `table` has drawn rows of `version` (or later); return when it did."""
    while True:
        when, drawn = DRAWN.get(id(table), (0.0, -1))
        if drawn >= version:
            return when
        await asyncio.sleep(0.0005)


async def interactive(path: Path, account_id: str, repeat: int) -> dict[str, list[float]]:
    from textual.widgets import Input

    from tui.app import CrmApp
    from tui.screens.detail import AccountScreen
    from tui.widgets.timeline import Timeline
    from tui.widgets.virtual_table import VirtualTable

    watch_drawing()

    work = Path(tempfile.mkdtemp()) / "crm.json"
    shutil.copy(path, work)
    crm = CRM(work, user="demo")
    crm.open_for_screen()
    app = CrmApp(crm, poll_seconds=0)
    results: dict[str, list[float]] = {"search": [], "open": [], "save": []}
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("f3")  # contacts: 50k at M
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        search = screen.query_one("#search", Input)
        search.focus()
        await pilot.pause()
        table = screen.query_one("#records", VirtualTable)
        for word in ["a", "an", "ana", "s", "sa", "sao", "j", "jo", "joao", "m", "ma", "mar"] * max(
            1, repeat // 4
        ):
            if search.value:
                expected = table.rows_version + 1
                search.value = ""
                await until_drawn(table, expected)
            await pilot.pause()
            version = table.rows_version
            started = time.perf_counter()
            search.value = word  # what a keystroke does: Input.Changed -> search worker
            results["search"].append(await until_drawn(table, version + 1) - started)
        await pilot.press("f2")
        await pilot.pause()
        for _ in range(repeat):
            started = time.perf_counter()
            app.open_record(ACCOUNTS, account_id)
            timeline = None
            while timeline is None or timeline.row_count == 0:
                await asyncio.sleep(0.0005)
                found = (
                    app.screen.query(Timeline) if isinstance(app.screen, AccountScreen) else None
                )
                timeline = found.first().table if found else None
            results["open"].append(await until_drawn(timeline, timeline.rows_version) - started)
            await pilot.pause()
            version = timeline.rows_version
            started = time.perf_counter()
            await app.in_thread(
                crm.log_activity, "note", account_id, {"description": f"bench note {time.time()}"}
            )
            app.data_changed()
            results["save"].append(await until_drawn(timeline, version + 1) - started)
            app.pop_screen()
            await pilot.pause()
    return results


def row(name: str, values: list[float], target: str, note: str = "") -> str:
    if not values:
        return f"| {name} | n/a | n/a | {target} | {note or 'not measured'} |"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return (
        f"| {name} | {statistics.median(values) * 1000:,.0f} ms | {p95 * 1000:,.0f} ms "
        f"| {target} | {note} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="M", choices=["S", "M", "L"])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    path = database(args.scale)
    account_id, activity_count = busiest_account(path)
    headless = launch_headless(path, args.repeat)
    tmux = launch_tmux(path, args.repeat)
    measured = asyncio.run(interactive(path, account_id, args.repeat))
    print(
        f"\nThe app at scale {args.scale} ({path.stat().st_size / 1e6:,.0f} MB database), "
        f"{args.repeat} runs each\n"
    )
    print("| operation | median | p95 | target | note |")
    print("|---|---|---|---|---|")
    print(row("launch to interactive accounts list (tmux, real terminal)", tmux, "<= 1.5 s"))
    print(row("launch to interactive accounts list (headless)", headless, "<= 1.5 s"))
    print(
        row(
            "search keystroke to updated contacts list drawn",
            measured["search"],
            "<= 50 ms",
            "50k contacts at M",
        )
    )
    print(
        row(
            "open an account to its timeline drawn",
            measured["open"],
            "<= 150 ms",
            f"{activity_count:,} activities",
        )
    )
    print(
        row(
            "save an activity to its row drawn on the timeline",
            measured["save"],
            "<= 100 ms",
            "durable write + refresh",
        )
    )


if __name__ == "__main__":
    main()
