"""What the history costs: save latency and start-up at scale M, with a year of history.

    uv run python benchmarks/bench_history.py [--db M.json] [--edits 250000]

Builds (or takes) an M-scale database (10,000 accounts, 50,000 contacts, 250,000 activities),
then measures, in fresh processes where it matters:
- start-up (`CRM.open`) and the latency of one save (an account edit, fsync included), before
  the history grows;
- the same with a year of a ten-person team's history in `crm.json.history` (`--edits`
  entries, as compaction writes them: 250,000 = 10 people x 100 changes a day x 250 days);
- `CRM.history(record)` (one record's history: a byte search, then parsing the hits) and
  `CRM.history(user=...)` on that file, and the file's size.
Prints a Markdown table. The sqlite3 and stock TinyDB references are in bench_store.py; a
history is an append-only file, like a log table with an index on nothing.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from store.model import ACCOUNTS, CONTACTS  # noqa: E402
from store.service import CRM  # noqa: E402

CHILD = """
import json, sys, time
sys.path.insert(0, sys.argv[2])
start = time.perf_counter()
from store.service import CRM
crm = CRM.open(sys.argv[1], user="bench")
opened = time.perf_counter() - start
account = next(iter(crm.all("accounts")))
saves = []
for n in range(int(sys.argv[3])):
    t = time.perf_counter()
    crm.update("accounts", account, {"description": f"take {n}"})
    saves.append(time.perf_counter() - t)
print(json.dumps({"open": opened, "saves": saves}))
"""


def measure(db: Path, saves: int = 200) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(db), str(ROOT), str(saves)],
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(done.stdout)
    ordered = sorted(data["saves"])
    return {
        "open": data["open"],
        "p50": statistics.median(ordered) * 1000,
        "p95": ordered[int(len(ordered) * 0.95)] * 1000,
    }


def synthesize_history(crm: CRM, path: Path, edits: int) -> None:
    """`edits` history entries as compaction archives them: edits of real records by ten
    people over a year, a field or two each."""
    rng = random.Random(10)
    people = [f"user{n}" for n in range(10)]
    ids = [(t, rid) for t in (ACCOUNTS, CONTACTS) for rid in list(crm.all(t))[:20000]]
    start = time.mktime((2025, 12, 1, 8, 0, 0, 0, 0, 0))
    with path.open("wb") as out:
        for n in range(edits):
            table, rid = rng.choice(ids)
            at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start + n * 126))
            entry = {
                "id": f"01HIST{n:020d}",
                "at": at,
                "by": rng.choice(people),
                "what": f"edit {table[:-1]} {rid}",
                "changes": [
                    {
                        "t": table,
                        "id": rid,
                        "a": "update",
                        "n": "Some Name",
                        "v": rng.randint(2, 40),
                        "f": {"phone": ["+1 555 0100", f"+1 555 {n % 10000:04d}"]},
                    }
                ],
            }
            out.write(orjson.dumps(entry) + b"\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, help="an M-scale database to copy (else built)")
    parser.add_argument("--edits", type=int, default=250_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-history-"))
    db = work / "crm.json"
    if args.db:
        shutil.copy(args.db, db)
    else:
        from store.demo import generate

        print("building scale M...", file=sys.stderr)
        CRM.open(db, user="bench").replace_all(generate("M", 0))
    crm = CRM.open(db, user="bench")
    crm.compact()
    rows = [("M, empty history", measure(db))]
    synthesize_history(crm, Path(f"{db}.history"), args.edits)
    size = Path(f"{db}.history").stat().st_size
    rows.append((f"M + {args.edits:,} history entries", measure(db)))
    crm = CRM.open(db, user="bench")
    probe = json.loads(Path(f"{db}.history").open().readline())["changes"][0]["id"]
    t = time.perf_counter()
    one = crm.history(probe)
    one_s = time.perf_counter() - t
    t = time.perf_counter()
    mine = crm.history(user="user3")
    user_s = time.perf_counter() - t
    print("| database | start-up s | save p50 ms | save p95 ms |")
    print("|---|---:|---:|---:|")
    for label, m in rows:
        print(f"| {label} | {m['open']:.2f} | {m['p50']:.2f} | {m['p95']:.2f} |")
    print()
    print(f"history file: {size / 2**20:.0f} MiB for {args.edits:,} entries")
    print(f"`history(record)`: {one_s:.2f} s ({len(one)} entries)")
    print(f"`history(user=...)`: {user_s:.2f} s ({len(mine):,} entries)")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
