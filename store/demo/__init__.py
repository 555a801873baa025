"""Realistic demo data: accounts, contacts and activities for trying the CRM and for benchmarks.

`generate(size, seed)` returns whole stored records ({table: {id: record}}), the same ones for the
same seed and `now`; `fill(crm, size, seed)` writes them with `crm.replace_all`. Sizes
(accounts / contacts / activities): S 100 / 500 / 2,500, M 10,000 / 50,000 / 250,000,
L 100,000 / 500,000 / 2,000,000.

The data is clean (every record passes `CRM.check()`) but lived-in: names in many scripts with their
accents, addresses whose cities, postal codes and phone numbers belong to the same country, account
hierarchies, people with and without a company, two years of calls, emails, notes, meetings and
tasks (some overdue, some canceled, a few weeks of plans ahead) and a handful of key accounts with
about a thousand activities each at M and L.

Standard library and python-ulid only. Speed matters more than elegance here: pools are built once,
times are integers turned into text through lookup tables, and the random source is one
`random.Random(seed)`.
"""

from store.demo.generator import (
    COLLEAGUES,
    COMPANY_DOMAIN,
    SIZES,
    Record,
    Tables,
    fill,
    generate,
)

# Private, but tests/store/test_demo.py checks the fast ULID text against python-ulid.
from store.demo.generator import _ulid_text as _ulid_text

__all__ = ["COLLEAGUES", "COMPANY_DOMAIN", "SIZES", "Record", "Tables", "fill", "generate"]
