"""How fast does a big CSV import go? `uv run python benchmarks/bench_import.py`

Generates realistic exports (accents, commas and newlines in quoted notes, phone numbers, dates):
5,000 parent accounts, 100,000 contacts that name one of them as their company, and 100,000
accounts that name one of them as their parent. Each scenario runs in a fresh process on a fresh
database (so that its peak RSS is its own), through the same calls as `crm import`:
`jobs.prepare_import` then `jobs.run_import`. Every big file is imported twice: the second run
finds every row by its source id and updates it.

Prints a Markdown table: read+map (prepare_import: decode, parse, map, convert), plan/resolve
(run_import up to the write: plan rows, resolve references, validate, duplicates), apply/commit
(the one transaction: journal write + fsync + in-memory indexes), total, rows/s, peak RSS.

Options: --rows N (default 100000), --accounts N (5000), --profile (cProfile of the first big
import of each scenario, top functions on stderr), --keep DIR (keep the files and databases).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

FIRST = [
    "Ada",
    "Björn",
    "Chloé",
    "Dmitri",
    "Émile",
    "Fatima",
    "Grace",
    "Hannah",
    "Iñigo",
    "Jürgen",
    "Kenji",
    "Léa",
    "Mateo",
    "Nadia",
    "Oscar",
    "Priya",
    "Quentin",
    "Rosa",
    "Søren",
    "Tomás",
    "Uma",
    "Valentina",
    "Wei",
    "Xavier",
    "Yasmin",
    "Zoë",
]
LAST = [
    "Andersson",
    "Berg",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fernández",
    "García",
    "Hansen",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Müller",
    "Nowak",
    "O'Brien",
    "Peña",
    "Quist",
    "Rossi",
    "Schäfer",
    "Tanaka",
    "Ueda",
    "van der Berg",
    "Wójcik",
    "Yilmaz",
]
CITIES = [
    ("Berlin", "10115", "Deutschland"),
    ("München", "80331", "Deutschland"),
    ("Zürich", "8001", "Schweiz"),
    ("Paris", "75001", "France"),
    ("Besançon", "25000", "France"),
    ("Oslo", "0154", "Norge"),
    ("Malmö", "211 34", "Sverige"),
    ("Kraków", "31-001", "Polska"),
    ("São Paulo", "01310-100", "Brasil"),
    ("New York", "10001", "USA"),
]
TITLES = [
    "CEO",
    "CTO, R&D",
    "Head of Sales",
    "Einkäufer",
    "Directeur général",
    "Jefe de compras",
    "Office manager",
    "VP, Procurement",
    "Engineer",
    "",
]
INDUSTRIES = ["Retail", "Consulting", "Manufacturing", "Logistics", "Software", "Finance"]
WORDS = ["GmbH", "AG", "S.A.", "Ltd", "Inc.", "AB", "AS", "Sp. z o.o."]
NOTES = [
    "",
    "",
    "Met at the fair.",
    "Prefers email, never calls after 5pm.",
    'Follow up in Q3.\nAsked for "volume" pricing, see offer #12.',
    "Key contact; très important.",
]


def account_name(i: int) -> str:
    return (
        f"{LAST[i % len(LAST)]} & {LAST[(i // len(LAST)) % len(LAST)]} {i} {WORDS[i % len(WORDS)]}"
    )


def write(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def parents_csv(count: int) -> bytes:
    rnd = random.Random(1)
    rows = [["Account ID", "Account Name", "Industry", "Main Phone", "City", "ZIP", "Country"]]
    for i in range(count):
        city, code, country = rnd.choice(CITIES)
        rows.append(
            [
                f"ACC-{i:06d}",
                account_name(i),
                rnd.choice(INDUSTRIES),
                f"+49 30 {rnd.randrange(10**6, 10**7)}",
                city,
                code,
                country,
            ]
        )
    return write(rows)


def contacts_csv(count: int, accounts: int) -> bytes:
    rnd = random.Random(2)
    rows = [
        [
            "Contact ID",
            "First Name",
            "Last Name",
            "Job Title",
            "Company Name",
            "Email",
            "Business Phone",
            "Mobile Phone",
            "Street",
            "City",
            "ZIP",
            "Country",
            "Notes",
            "Created On",
            "Preferred Method of Contact",
        ]
    ]
    for i in range(count):
        first, last = rnd.choice(FIRST), rnd.choice(LAST)
        city, code, country = rnd.choice(CITIES)
        email = f"{first}.{last}.{i}@example.com".lower().replace(" ", "").replace("'", "")
        rows.append(
            [
                f"CON-{i:07d}",
                first,
                last,
                rnd.choice(TITLES),
                account_name(rnd.randrange(accounts)),
                email,
                f"+49 30 {rnd.randrange(10**6, 10**7)}",
                f"+49 170 {rnd.randrange(10**6, 10**7)}" if i % 3 else "",
                f"{rnd.randrange(1, 200)} Hauptstraße",
                city,
                code,
                country,
                rnd.choice(NOTES),
                f"{rnd.randrange(1, 13)}/{rnd.randrange(1, 29)}/2024 "
                f"{rnd.randrange(1, 13)}:{rnd.randrange(60):02d} PM",
                rnd.choice(["Email", "Phone", "Any"]),
            ]
        )
    return write(rows)


def accounts_csv(count: int, parents: int) -> bytes:
    rnd = random.Random(3)
    rows = [
        [
            "accountid",
            "name",
            "accountnumber",
            "customertypecode",
            "industrycode",
            "parentaccountid",
            "telephone1",
            "emailaddress1",
            "websiteurl",
            "address1_line1",
            "address1_city",
            "address1_postalcode",
            "address1_country",
            "description",
            "statecode",
            "createdon",
        ]
    ]
    for i in range(count):
        city, code, country = rnd.choice(CITIES)
        rows.append(
            [
                f"SUB-{i:07d}",
                f"{rnd.choice(LAST)} Filiale {i} {rnd.choice(WORDS)}",
                f"N-{i:07d}",
                str(rnd.randrange(1, 13)),
                str(rnd.randrange(1, 34)),
                account_name(rnd.randrange(parents)),
                f"+33 1 {rnd.randrange(10**7, 10**8)}",
                f"info{i}@filiale.example",
                f"https://filiale{i}.example",
                f"{rnd.randrange(1, 99)} rue de la Paix",
                city,
                code,
                country,
                rnd.choice(NOTES),
                rnd.choice(["0", "0", "0", "1"]),
                "2024-01-15T10:22:31Z",
            ]
        )
    return write(rows)


# ---------------------------------------------------------------------------- one scenario


def run_scenario(name: str, folder: Path, rows: int, accounts: int, profile: bool) -> dict:
    """Runs in its own process: returns the timings of each import and the peak RSS."""
    from store.io import jobs
    from store.service import CRM

    # The commit: the importer's one CRM.apply (rules under the lock, journal, indexes).
    applied: list[float] = []
    original_apply = CRM.apply

    def timed_apply(*args, **kwargs):  # instrumentation only: the real method runs
        start = time.perf_counter()
        try:
            return original_apply(*args, **kwargs)
        finally:
            applied.append(time.perf_counter() - start)

    CRM.apply = timed_apply  # type: ignore[method-assign]
    setup = time.perf_counter()
    big = contacts_csv(rows, accounts) if name == "contacts" else accounts_csv(rows, accounts)
    parents = parents_csv(accounts)
    (folder / f"{name}.csv").write_bytes(big)
    generated = time.perf_counter() - setup

    crm = CRM.open(folder / f"{name}.json", user="bench")
    results = []
    steps = [("parents", "accounts", parents), (name, name, big), (f"{name} again", name, big)]
    for label, kind, data in steps:
        applied.clear()
        start = time.perf_counter()
        prepared = jobs.prepare_import(kind, data)
        read = time.perf_counter() - start
        profiler = None
        if profile and label == name:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        report = jobs.run_import(crm, prepared)
        total = time.perf_counter() - start
        if profiler is not None:
            import pstats

            profiler.disable()
            print(f"\n--- cProfile of run_import ({label}) ---", file=sys.stderr)
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
        apply = sum(applied)
        assert report.applied and not report.errors, [str(e) for e in report.errors[:5]]
        results.append(
            {
                "step": label,
                "rows": report.rows,
                "created": report.created,
                "updated": report.updated,
                "read": read,
                "plan": total - read - apply,
                "apply": apply,
                "total": total,
            }
        )
    problems = crm.check()
    assert problems == [], problems[:5]
    assert crm.count("contacts" if name == "contacts" else "accounts") >= rows
    return {
        "generated": generated,
        "steps": results,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "file_mib": len(big) / 2**20,
    }


# ---------------------------------------------------------------------------- driver


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=5_000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--keep", type=Path)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        folder = args.keep or Path(tempfile.mkdtemp())
        print(json.dumps(run_scenario(args.child, folder, args.rows, args.accounts, args.profile)))
        return

    rows_out = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        for scenario in ("contacts", "accounts"):
            command = [
                sys.executable,
                __file__,
                "--child",
                scenario,
                "--rows",
                str(args.rows),
                "--accounts",
                str(args.accounts),
                "--keep",
                str(folder),
            ]
            if args.profile:
                command.append("--profile")
            done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
            sys.stderr.write(done.stderr)
            if done.returncode:
                raise SystemExit(f"{scenario}: failed ({done.returncode})")
            rows_out.append((scenario, json.loads(done.stdout.strip().splitlines()[-1])))

    print(
        f"\nImport benchmark: {args.rows:,} rows referencing {args.accounts:,} accounts by "
        f"name (Python {sys.version.split()[0]})\n"
    )
    print(
        "| import | rows | new | updated | read+map s | plan/resolve s | apply/commit s "
        "| total s | rows/s | peak RSS MiB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for scenario, result in rows_out:
        for step in result["steps"]:
            print(
                f"| {step['step']} | {step['rows']:,} | {step['created']:,} | "
                f"{step['updated']:,} | {step['read']:.2f} | {step['plan']:.2f} | "
                f"{step['apply']:.2f} | {step['total']:.2f} | "
                f"{step['rows'] / step['total']:,.0f} | |"
            )
        print(
            f"| ({scenario}: whole process, {result['file_mib']:.1f} MiB file) | | | | | | | "
            f"| | {result['peak_rss_mib']:,.0f} |"
        )


if __name__ == "__main__":
    main()
