"""The demo generator: `generate(size, seed)` builds the records, `fill(crm, ...)` stores them.

It draws from the pools in `store.demo.pools` with one `random.Random(seed)`, in a fixed order,
so the same size, seed, `now` and user give the same records (tests/store/test_demo.py holds a
digest). Speed matters more than elegance here: times are integers turned into text through
lookup tables and ids are encoded ten bits at a time.
"""

from __future__ import annotations

import gc
import random
from bisect import bisect_right
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from ulid import base32

from store.demo.pools import (
    ACCOUNT_NOTES,
    CONTACT_NOTES,
    DESCRIPTIONS,
    DIVISIONS,
    INDUSTRIES,
    LOCATIONS,
    RELATIONSHIP_WEIGHTS,
    SUBJECTS,
    TYPE_WEIGHTS,
    City,
    Country,
    ascii_words,
    countries,
    subject_pool,
)
from store.model import (
    ACCOUNTS,
    ACTIVITIES,
    CONTACTS,
    Direction,
    Priority,
    Relationship,
)

if TYPE_CHECKING:
    from store.service import CRM

Record = dict[str, Any]
Tables = dict[str, dict[str, Record]]

SIZES: dict[str, tuple[int, int, int]] = {
    "S": (100, 500, 2_500),
    "M": (10_000, 50_000, 250_000),
    "L": (100_000, 500_000, 2_000_000),
}
# How many key accounts carry how many activities of their own (the "busy record" of a size).
_KEY_ACCOUNTS = {"S": (2, 120), "M": (5, 1_000), "L": (8, 1_000)}
COLLEAGUES = ("ana", "bjorn", "chloe", "kenji", "omar")
COMPANY_DOMAIN = "example.com"  # our own (the CRM user's) company

_DAY = 86_400
_YEAR = 365 * _DAY
_HISTORY = 730 * _DAY  # activities reach back two years...
_AHEAD = 28 * _DAY  # ...and plans a few weeks ahead
_B2C_SHARE = 0.2


# --------------------------------------------------------------------------- text by lookup
_ULID_CHARS = base32.ENCODE  # python-ulid's Crockford alphabet
_ULID_PAIRS = [a + b for a in _ULID_CHARS for b in _ULID_CHARS]


def _ulid_text(value: int) -> str:
    """The 26-character text of a 128-bit ULID, as `str(ulid.ULID.from_int(value))` gives it.

    Encoded here ten bits at a time because python-ulid's per-character encoder costs seconds at
    size L; the tests check that both agree."""
    p = _ULID_PAIRS
    return "".join(
        (
            _ULID_CHARS[value >> 125],
            p[(value >> 115) & 1023],
            p[(value >> 105) & 1023],
            p[(value >> 95) & 1023],
            p[(value >> 85) & 1023],
            p[(value >> 75) & 1023],
            p[(value >> 65) & 1023],
            p[(value >> 55) & 1023],
            p[(value >> 45) & 1023],
            p[(value >> 35) & 1023],
            p[(value >> 25) & 1023],
            p[(value >> 15) & 1023],
            p[(value >> 5) & 1023],
            _ULID_CHARS[value & 31],
        )
    )


_TIME_OF_DAY: list[str] = []


def _times_of_day() -> list[str]:
    """ "THH:MM:SSZ" for every second of a day: turning integers into stored text by lookup."""
    if not _TIME_OF_DAY:
        _TIME_OF_DAY.extend(
            f"T{h:02d}:{m:02d}:{s:02d}Z" for h in range(24) for m in range(60) for s in range(60)
        )
    return _TIME_OF_DAY


# --------------------------------------------------------------------------- the generator
class _Generator:
    def __init__(self, rng: random.Random, now: datetime, user: str) -> None:
        self.rng = rng
        self.now = int(now.timestamp())
        self.local_now = now.astimezone()  # "today" in the agenda is the machine's local day
        self.user = user
        colleagues = [c for c in COLLEAGUES if c != user][:4]
        self.owners = [user, *colleagues]
        # About 40% of everything is the user's own: their agenda is full but not everything.
        self.owner_weights = list(accumulate([40, 18, 16, 14, 12]))
        self.owner_emails = {
            o: f"{ascii_words(o).replace(' ', '.') or 'sales'}@{COMPANY_DOMAIN}"
            for o in self.owners
        }
        self.countries = countries()
        self.country_weights = list(accumulate(c.weight for c in self.countries))
        self.first_day = (self.now - 8 * _YEAR) // _DAY
        start = date(1970, 1, 1) + timedelta(days=self.first_day)
        span = (self.now + 2 * _AHEAD) // _DAY - self.first_day + 1
        self.days = [(start + timedelta(days=d)).isoformat() for d in range(span)]
        self.tod = _times_of_day()
        self.used_names: set[str] = set()
        self.used_domains: set[str] = set()
        self.used_emails: set[str] = set()
        self.repeats: dict[str, int] = {}
        year = now.year
        self.subjects = {t: subject_pool(rng, tpl, year) for t, tpl in SUBJECTS.items()}
        self.account_notes = subject_pool(rng, ACCOUNT_NOTES, year - 4, 60)

    # -------------------------------------------------------------- helpers
    def iso(self, seconds: int) -> str:
        return self.days[seconds // _DAY - self.first_day] + self.tod[seconds % _DAY]

    def day(self, seconds: int) -> str:
        return self.days[seconds // _DAY - self.first_day]

    def new_id(self, seconds: int) -> str:
        # The time part is the record's creation time, so ids sort like real ones would.
        millis = seconds * 1000 + int(self.rng.random() * 1000)
        return _ulid_text(millis << 80 | self.rng.getrandbits(80))

    def owner(self) -> str:
        return self.owners[bisect_right(self.owner_weights, self.rng.random() * 100)]

    def country(self) -> Country:
        r = self.rng.random() * self.country_weights[-1]
        return self.countries[bisect_right(self.country_weights, r)]

    def unique(self, used: set[str], value: str, alternatives: Iterable[str]) -> str:
        for candidate in (value, *alternatives):
            if candidate not in used:
                used.add(candidate)
                return candidate
        number = self.repeats.get(value, 2)
        while f"{value} ({number})" in used:
            number += 1
        self.repeats[value] = number + 1
        used.add(f"{value} ({number})")
        return f"{value} ({number})"

    def address(self, country: Country, city: City, record: Record) -> None:
        rng = self.rng
        record["address_line1"] = country.street.format(
            st=rng.choice(country.streets),
            n=rng.randint(1, 250),
            k=rng.randint(1, 9),
            m=rng.randint(1, 30),
        )
        if country.code == "AE" and rng.random() < 0.6:
            record["address_line2"] = f"P.O. Box {rng.randint(1000, 99999)}"
        elif country.code in ("US", "GB") and rng.random() < 0.25:
            record["address_line2"] = f"Suite {rng.randint(100, 2400)}"
        record["address_city"] = city.name
        if city.state and city.state != city.name:
            record["address_state"] = city.state
        if city.postal is not None:
            record["address_postal_code"] = city.postal(rng)
        record["address_country"] = country.name

    # -------------------------------------------------------------- accounts
    def company(self, country: Country, city: City, latin: bool) -> tuple[str, str, str, str]:
        """(name, core name without the legal form, ascii words for the web domain, industry)
        of a new company in `city`."""
        rng = self.rng
        for attempt in range(12):
            surname, surname2 = rng.choice(country.last_m), rng.choice(country.last_m)
            word = rng.choice(country.words)
            brand = rng.choice(country.brands) if country.brands else surname
            core_tpl = rng.choice(country.cores)
            values = {
                "s": surname,
                "s2": surname2,
                "w": word,
                "b": brand,
                "p": (city.name, city.roman),
                "f": rng.choice(country.first_m),
            }
            spaced = core_tpl.replace("}{", "} {")
            roman = spaced.format(**{k: v[1] for k, v in values.items()})
            if latin:  # e.g. "Al Fares Trading LLC" beside "الفارس للتجارة ذ.م.م"
                core = spaced.format(**{k: v[1].title() for k, v in values.items()})
            else:
                core = core_tpl.format(**{k: v[0] for k, v in values.items()})
            town = rng.choice(country.cities)
            if attempt >= 4 and town.name not in core:  # with a town: "Müller Bau Köln GmbH"
                core, roman = f"{core} {town.name}", f"{roman} {town.roman}"
            name = self.legal_name(country, core, latin)
            if name not in self.used_names:
                break
        industry = word[2] if "{w}" in core_tpl else rng.choice(INDUSTRIES)
        return self.unique(self.used_names, name, ()), core, ascii_words(roman), industry

    def legal_name(self, country: Country, core: str, latin: bool) -> str:
        native, roman = self.rng.choice(country.suffixes)
        fmt = self.rng.choice(country.formats)
        if latin:
            return fmt.replace("}{", "} {").format(
                core=core, x=roman.upper() if len(roman) <= 4 else roman.title()
            )
        return fmt.format(core=core, x=native)

    def domain(self, words: str, country: Country) -> str:
        base = words.replace(" ", "-")[:40].strip("-") or "company"
        tld = country.tld if self.rng.random() < 0.75 else "com"
        candidate = f"{base}.{tld}"
        if candidate in self.used_domains:
            candidate = f"{base}-{country.code.lower()}.{tld}"
        number = 2
        while candidate in self.used_domains:
            candidate = f"{base}{number}.{tld}"
            number += 1
        self.used_domains.add(candidate)
        return candidate

    def accounts(self, count: int, key_count: int) -> None:
        rng = self.rng
        now = self.now
        relationships = list(RELATIONSHIP_WEIGHTS)
        rel_weights = list(accumulate(RELATIONSHIP_WEIGHTS.values()))
        self.acc_ids: list[str] = []
        self.acc: list[Record] = []
        self.acc_created: list[int] = []
        self.acc_country: list[Country] = []
        self.acc_city: list[City] = []
        self.acc_domain: list[str] = []
        self.acc_weight: list[float] = []
        self.acc_contacts: list[list[int]] = []
        self.key_accounts: list[int] = []
        # Group structure: the parent of each account (an index) decided before any record, so a
        # parent always exists first and no cycle can form.
        parents: list[int | None] = []
        while len(parents) < count:
            left = count - len(parents)
            if left >= 3 and rng.random() < 0.06:
                root = len(parents)
                parents.append(None)
                for _ in range(min(left - 1, rng.choice((1, 2, 2, 3, 3, 4, 5, 6, 8)))):
                    child = len(parents)
                    parents.append(root)
                    if rng.random() < 0.3 and len(parents) < count:
                        for _ in range(min(count - len(parents), rng.randint(1, 3))):
                            parents.append(child)
            else:
                parents.append(None)
        self.acc_core: list[str] = []  # the name without the legal form
        self.acc_core_latin: list[str] = []  # the same in Latin letters
        self.acc_latin: list[bool] = []
        relationship_cycle = iter(relationships)  # every value appears at least once
        for index, parent in enumerate(parents):
            if parent is None:
                country = self.country()
            elif self.acc[parent].get("parent_account_id") or rng.random() < 0.75:
                country = self.acc_country[parent]  # divisions stay home, some firms go abroad
            else:
                country = self.country()
            city = rng.choice(country.cities)
            domain = None
            if parent is None:
                latin = rng.random() < country.latin
                name, core, words, industry = self.company(country, city, latin)
                core_latin = core if latin or not country.latin else words.title()
            else:
                # "Müller Logistik Hamburg GmbH", "Müller Logistik Poland Sp. z o.o.",
                # "Müller Logistik Hamburg Services GmbH"; abroad in Latin letters:
                # "Towa Seisakusho Germany GmbH".
                division = rng.choice(DIVISIONS)
                home = country is self.acc_country[parent]
                latin = self.acc_latin[parent] if home else country.latin > 0
                parent_core = self.acc_core[parent] if home else self.acc_core_latin[parent]
                if self.acc[parent].get("parent_account_id"):
                    place, place_roman = division, division
                elif home:
                    place, place_roman = city.name, city.roman
                else:
                    place, place_roman = country.name, country.name
                core = f"{parent_core} {place}"
                core_latin = (
                    f"{self.acc_core_latin[parent]} {place_roman.title() if home else place}"
                )
                name = self.unique(
                    self.used_names,
                    self.legal_name(country, core, latin),
                    (
                        self.legal_name(country, f"{core} {other}", latin)
                        for other in rng.sample(DIVISIONS, 3)
                        if other != place
                    ),
                )
                parent_domain = self.acc_domain[parent]
                if home and rng.random() < 0.6:
                    domain = parent_domain  # one group, one web site
                words = ascii_words(f"{parent_domain.split('.')[0]} {place_roman}")
                industry = self.acc[parent].get("industry") or rng.choice(INDUSTRIES)
            is_key = index >= 5 and len(self.key_accounts) < key_count and parent is None
            if parent is not None:
                created = self.acc_created[parent] + int(rng.random() * 400 * _DAY)
                created = min(created, now - 20 * _DAY)
            elif is_key or rng.random() < 0.7:
                created = now - 2 * _YEAR - 3 * _DAY - int(rng.random() * 4 * _YEAR)
            else:
                created = now - 20 * _DAY - int(rng.random() * (2 * _YEAR - 20 * _DAY))
            if is_key:
                relationship = Relationship.CUSTOMER
            else:
                relationship = (
                    next(relationship_cycle, None)
                    or relationships[bisect_right(rel_weights, rng.random() * rel_weights[-1])]
                )
            domain = domain or self.domain(words, country)
            owner = self.owner() if parent is None else self.acc[parent]["owner"]
            stamp = self.iso(created)
            record: Record = {"id": self.new_id(created), "name": name}
            if rng.random() < 0.7:
                record["account_number"] = f"ACC-{100000 + index:06d}"
            record["relationship"] = relationship.value
            record["industry"] = industry
            if rng.random() < 0.92:
                record["phone"] = city.phone(rng)
            if rng.random() < 0.8:
                record["email"] = f"{rng.choice(('info', 'contact', 'sales', 'office'))}@{domain}"
            if rng.random() < 0.85:
                record["website"] = f"{rng.choice(('https://www.', 'www.', 'https://'))}{domain}"
            if rng.random() < 0.9:
                self.address(country, city, record)
            else:
                record["address_country"] = country.name
            if parent is not None:
                record["parent_account_id"] = self.acc_ids[parent]
            if rng.random() < 0.25:
                record["description"] = rng.choice(self.account_notes)
            record["owner"] = owner
            record["status"] = "inactive" if rng.random() < 0.06 and not is_key else "active"
            record.update(
                created_at=stamp, created_by=owner, modified_at=stamp, modified_by=owner, version=1
            )
            weight = rng.lognormvariate(0, 1)
            if relationship == Relationship.PROSPECT:
                weight *= 0.5
            if record["status"] == "inactive":
                weight *= 0.2
            if is_key:
                self.key_accounts.append(index)
            self.acc_ids.append(record["id"])
            self.acc_core.append(core)
            self.acc_core_latin.append(core_latin)
            self.acc_latin.append(latin)
            self.acc.append(record)
            self.acc_created.append(created)
            self.acc_country.append(country)
            self.acc_city.append(city)
            self.acc_domain.append(domain)
            self.acc_weight.append(weight)
            self.acc_contacts.append([])

    # -------------------------------------------------------------- contacts
    def person(self, country: Country) -> tuple[str, str, str, str]:
        """(first name, last name, ascii first, ascii last)."""
        rng = self.rng
        female = rng.random() < 0.5
        first = rng.choice(country.first_f if female else country.first_m)
        at = int(rng.random() * len(country.last_m))
        last = (country.last_f if female else country.last_m)[at]
        if rng.random() < country.latin:  # e.g. "Wei Zhang" written in Latin letters
            return first[1].title(), last[1].title(), first[1], last[1]
        return first[0], last[0], first[1], last[1]

    def email(self, first: str, last: str, domain: str, personal: bool) -> str:
        rng = self.rng
        first, last = first.replace(" ", ""), last.replace(" ", "")
        style = rng.random()
        if personal:
            local = f"{first}.{last}" if style < 0.5 else f"{first}{last}{rng.randint(1, 99)}"
        elif style < 0.6:
            local = f"{first}.{last}"
        elif style < 0.8:
            local = f"{first[:1]}{last}"
        elif style < 0.9:
            local = f"{first}"
        else:
            local = f"{last}.{first}"
        address = f"{local}@{domain}"
        while address in self.used_emails:
            address = f"{local}{rng.randint(2, 9999 if personal else 99)}@{domain}"
        self.used_emails.add(address)
        return address

    def contacts(self, count: int) -> None:
        rng = self.rng
        now = self.now
        n_accounts = len(self.acc)
        b2b = round(count * (1 - _B2C_SHARE))
        # Key accounts have many people: about 2% of the B2B contacts each, at most 80.
        others = sum(self.acc_weight)
        share = min(80, 0.02 * b2b) / max(b2b, 1)
        for key in self.key_accounts:
            self.acc_weight[key] = share * others / max(1 - len(self.key_accounts) * share, 0.1)
        cum = list(accumulate(self.acc_weight))
        employer = [bisect_right(cum, rng.random() * cum[-1]) for _ in range(b2b)]
        employer += [-1] * (count - b2b)
        rng.shuffle(employer)
        self.con_ids: list[str] = []
        self.con: list[Record] = []
        self.con_created: list[int] = []
        self.con_account: list[int] = employer
        self.con_weight: list[float] = []
        self.con_country: list[Country] = []
        for index, account in enumerate(employer):
            if account >= 0:
                acc = self.acc[account]
                country = self.acc_country[account] if rng.random() < 0.85 else self.country()
                span = max(now - _DAY - self.acc_created[account], 3600)
                created = self.acc_created[account] + int(rng.random() ** 2 * span)
                owner = acc["owner"] if rng.random() < 0.8 else self.owner()
            else:
                country = self.country()
                created = now - _DAY - int(rng.random() * 4 * _YEAR)
                owner = self.owner()
            first, last, first_ascii, last_ascii = self.person(country)
            stamp = self.iso(created)
            record: Record = {"id": self.new_id(created), "first_name": first, "last_name": last}
            if account >= 0:
                record["job_title"] = rng.choice(country.titles)
                record["account_id"] = self.acc_ids[account]
                if rng.random() < 0.93:
                    record["email"] = self.email(
                        first_ascii, last_ascii, self.acc_domain[account], False
                    )
                phone = acc.get("phone")
                if phone and rng.random() < 0.4:
                    record["phone"] = f"{phone} ext. {rng.randint(100, 999)}"
                elif rng.random() < 0.5:
                    record["phone"] = self.acc_city[account].phone(rng)
                if rng.random() < 0.65:
                    record["mobile"] = rng.choice(country.cities).mobile(rng)
                if rng.random() < 0.3:  # works away from the head office
                    office = self.acc_country[account]
                    record["address_city"] = rng.choice(office.cities).name
                    record["address_country"] = office.name
                self.acc_contacts[account].append(index)
            else:
                city = rng.choice(country.cities)
                if rng.random() < 0.85:
                    record["email"] = self.email(
                        first_ascii, last_ascii, rng.choice(country.personal), True
                    )
                if rng.random() < 0.9:
                    record["mobile"] = city.mobile(rng)
                if rng.random() < 0.25:
                    record["phone"] = city.phone(rng)
                self.address(country, city, record)
            if rng.random() < 0.08:
                record["description"] = rng.choice(CONTACT_NOTES)
            record["owner"] = owner
            record["status"] = "inactive" if rng.random() < 0.07 else "active"
            record.update(
                created_at=stamp, created_by=owner, modified_at=stamp, modified_by=owner, version=1
            )
            self.con_ids.append(record["id"])
            self.con.append(record)
            self.con_created.append(created)
            self.con_country.append(country)
            weight = rng.lognormvariate(0, 0.8)
            if record["status"] == "inactive":
                weight *= 0.2
            self.con_weight.append(weight)
        # Primary contacts: one of the account's own people, for most accounts that have any.
        for account in range(n_accounts):
            people = self.acc_contacts[account]
            if people and rng.random() < 0.75:
                self.acc[account]["primary_contact_id"] = self.con_ids[rng.choice(people)]

    # -------------------------------------------------------------- activities
    def activities(self, count: int, key_activities: int) -> list[Record]:
        rng = self.rng
        rand = rng.random
        getrandbits = rng.getrandbits
        now = self.now
        history_start = now - _HISTORY
        days, tod, first_day = self.days, self.tod, self.first_day
        iso, day = self.iso, self.day
        pick_owner = self.owner
        owners = self.owners
        owner_emails = self.owner_emails
        subjects = {t.value: (pool, len(pool)) for t, pool in self.subjects.items()}
        descriptions = DESCRIPTIONS
        n_desc = len(descriptions)
        types = [t.value for t, _ in TYPE_WEIGHTS]
        type_cum = list(accumulate(w for _, w in TYPE_WEIGHTS))
        type_total = type_cum[-1]
        priorities = (
            Priority.LOW.value,
            Priority.NORMAL.value,
            Priority.NORMAL.value,
            Priority.NORMAL.value,
            Priority.HIGH.value,
        )
        incoming, outgoing = Direction.INCOMING.value, Direction.OUTGOING.value
        # What an activity needs from the record it is regarding, looked up once per record:
        # (regarding type, id, earliest moment, time zone, owner, email, phone, first name,
        # the account's people as (email, phone, first name)).
        people_of = [
            (c.get("email"), c.get("mobile") or c.get("phone"), c.get("first_name"))
            for c in self.con
        ]
        contact_info = [
            (
                "contact",
                c["id"],
                max(self.con_created[i] + 60, history_start),
                self.con_country[i].tz,
                c["owner"],
                *people_of[i],
                None,
            )
            for i, c in enumerate(self.con)
        ]
        account_info = [
            (
                "account",
                a["id"],
                max(self.acc_created[i] + 60, history_start),
                self.acc_country[i].tz,
                a["owner"],
                a.get("email"),
                a.get("phone"),
                None,
                [people_of[p] for p in self.acc_contacts[i]],
            )
            for i, a in enumerate(self.acc)
        ]
        weights = list(self.acc_weight)
        for key in self.key_accounts:  # their share is given below, not drawn
            weights[key] = 0.5
        acc_cum = list(accumulate(weights))
        con_cum = list(accumulate(self.con_weight))
        acc_total, con_total = acc_cum[-1], con_cum[-1]
        # Key accounts first, then the weighted rest.
        targets: list[tuple[Any, ...]] = []
        for key in self.key_accounts:
            targets += [account_info[key]] * max(0, key_activities + rng.randint(-30, 90))
        targets = targets[: max(0, count - 8)]
        while len(targets) < count:
            if rand() < 0.45:
                targets.append(account_info[bisect_right(acc_cum, rand() * acc_total)])
            else:
                targets.append(contact_info[bisect_right(con_cum, rand() * con_total)])
        out: list[Record] = []
        append = out.append
        specials = self._today_specials(count)
        for number, target in enumerate(targets):
            (regarding_type, regarding_id, lo, tz, target_owner, email, phone, first, people) = (
                target
            )
            if people:  # an account: talk to one of its people
                person_email, person_phone, first = people[int(rand() * len(people))]
                email = person_email or email
                phone = person_phone or phone
            kind = types[bisect_right(type_cum, rand() * type_total)]
            owner = target_owner if rand() < 0.7 else pick_owner()
            planned = kind == "task" or kind == "appointment"
            hi = now + _AHEAD if planned else now - 60
            special = specials.get(number)
            if special is not None:
                kind, when, _date_only = special
                owner, planned = owners[0], True
                lo = min(lo, now - _DAY)
            else:
                when = lo + int(rand() * max(hi - lo, 60))
                # Business days and hours (country local time), mostly.
                weekday = (when // _DAY + 3) % 7
                if weekday >= 5 and rand() < 0.85:
                    when += (7 - weekday) * _DAY if when + 2 * _DAY < hi else -(weekday - 4) * _DAY
                local_hour = 8 + int(rand() * 10)
                when = (when // _DAY) * _DAY + (local_hour - tz) * 3600 + int(rand() * 3600)
                when = min(max(when, lo), hi)
            pool, pool_size = subjects[kind]
            record: Record = {"id": "", "type": kind}
            if kind != "note" or rand() < 0.6:
                subject = pool[int(rand() * pool_size)]
                if kind == "phone_call" and first and rand() < 0.3:
                    subject = f"Call with {first}"
                record["subject"] = subject
            if kind == "note" or rand() < 0.3:
                record["description"] = descriptions[int(rand() * n_desc)]
            record["regarding_type"] = regarding_type
            record["regarding_id"] = regarding_id
            if kind == "task":
                if when > now:
                    status = "open"
                    created = max(lo, now - int(rand() * 21 * _DAY))
                else:
                    created = max(lo, when - int(rand() * 14 * _DAY))
                    r = rand()
                    open_share = 0.3 if now - when < 60 * _DAY else 0.04
                    status = (
                        "open"
                        if r < open_share or special is not None
                        else ("canceled" if r < open_share + 0.08 else "completed")
                    )
                record["status"] = status
                record["priority"] = priorities[int(rand() * 5)]
                if special is not None and special[2]:
                    record["due_at"] = special[2]
                elif rand() < 0.3:
                    record["due_at"] = day(when + tz * 3600)
                elif rand() < 0.97:
                    record["due_at"] = iso(when - when % 900)
                if status == "completed":
                    done = created + int(rand() * (min(now, when + 5 * _DAY) - created))
                    record["completed_at"] = iso(max(done, created))
            elif kind == "appointment":
                start = when - when % 900
                created = max(lo, min(start, now) - int(rand() * 30 * _DAY))
                if special is not None and special[2]:
                    record["start_at"] = record["end_at"] = special[2]
                    record["all_day"] = True
                    end = now + _DAY
                elif rand() < 0.1:
                    local_day = start + tz * 3600
                    record["start_at"] = day(local_day)
                    length = _DAY * (0 if rand() < 0.7 else rng.randint(1, 2))
                    record["end_at"] = day(local_day + length)
                    record["all_day"] = True
                    end = start + length + 10 * 3600
                else:
                    end = start + (1800, 3600, 3600, 5400, 7200)[int(rand() * 5)]
                    record["start_at"] = iso(start)
                    record["end_at"] = iso(end)
                    if rand() < 0.7:
                        record["location"] = LOCATIONS[int(rand() * len(LOCATIONS))]
                if end > now:
                    status = "canceled" if rand() < 0.04 and special is None else "open"
                else:
                    r = rand()
                    open_share = 0.15 if now - end < 30 * _DAY else 0.02
                    status = (
                        "open"
                        if r < open_share
                        else ("canceled" if r < open_share + 0.1 else "completed")
                    )
                record["status"] = status
                record["priority"] = "high" if rand() < 0.1 else "normal"
                if status == "completed":
                    record["completed_at"] = iso(min(max(end, created), now))
            else:
                created = when
                record["status"] = "completed"
                if kind != "note":
                    record["priority"] = "high" if rand() < 0.05 else "normal"
                    direction = incoming if rand() < 0.4 else outgoing
                    record["direction"] = direction
                    if kind == "phone_call":
                        if phone:
                            record["phone_number"] = phone
                    else:
                        mine = owner_emails[owner]
                        if direction == outgoing:
                            record["email_from"] = mine
                            if email:
                                record["email_to"] = email
                        else:
                            if email:
                                record["email_from"] = email
                            record["email_to"] = mine
                record["completed_at"] = iso(created)
            created = min(created, now)
            stamp = days[created // _DAY - first_day] + tod[created % _DAY]
            record["owner"] = owner
            # The id's time is the creation time, to the millisecond, as a real one would be.
            record["id"] = _ulid_text((created * 1000 + int(rand() * 1000)) << 80 | getrandbits(80))
            record["created_at"] = stamp
            record["created_by"] = owner
            record["modified_at"] = stamp
            record["modified_by"] = owner
            record["version"] = 1
            append(record)
        return out

    def _today_specials(self, count: int) -> dict[int, tuple[str, int, str | None]]:
        """A few of the user's own plans for today, so the agenda is never empty on a demo.

        Maps activity number -> (type, moment, date-only value or None)."""
        if count < 50:
            return {}
        local = self.local_now
        today = local.date().isoformat()
        at = local.replace(hour=0, minute=0, second=0, microsecond=0)

        def moment(hour: int) -> int:
            return int((at + timedelta(hours=hour)).timestamp())

        start = count - 8  # after the key accounts' share
        return {
            start: ("task", moment(10), None),
            start + 1: ("task", moment(16), today),
            start + 2: ("appointment", moment(14), None),
            start + 3: ("appointment", moment(9), today),
            start + 4: ("task", moment(17) - _DAY, None),
        }


def generate(
    size: str = "S", seed: int = 0, now: datetime | None = None, user: str = "demo"
) -> dict[str, dict[str, Record]]:
    """Demo records for `size` ("S", "M" or "L"): {"accounts": {id: record}, "contacts": ...,
    "activities": ...}, complete as stored. The same size, seed, `now` and user give the same
    data; `now` defaults to the current time (activities are placed around it)."""
    key = size.upper()
    if key not in SIZES:
        raise ValueError(f"unknown demo size {size!r}: choose one of {', '.join(SIZES)}")
    n_accounts, n_contacts, n_activities = SIZES[key]
    moment = (now or datetime.now(UTC)).replace(microsecond=0)
    if moment.tzinfo is None:
        moment = moment.astimezone()
    key_count, key_activities = _KEY_ACCOUNTS[key]
    # Millions of new dicts would make the cyclic collector rescan them over and over.
    collecting = gc.isenabled()
    gc.disable()
    try:
        generator = _Generator(random.Random(seed), moment, user)
        generator.accounts(n_accounts, key_count)
        generator.contacts(n_contacts)
        activities = generator.activities(n_activities, key_activities)
    finally:
        if collecting:
            gc.enable()
    return {
        ACCOUNTS: {r["id"]: r for r in generator.acc},
        CONTACTS: {r["id"]: r for r in generator.con},
        ACTIVITIES: {r["id"]: r for r in activities},
    }


def fill(
    crm: CRM, size: str = "S", seed: int = 0, *, now: datetime | None = None
) -> dict[str, int]:
    """Replace everything in `crm` with demo data; returns the count per table."""
    tables = generate(size, seed, now=now, user=crm.user)
    crm.replace_all(tables)
    return {table: len(records) for table, records in tables.items()}
