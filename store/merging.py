"""Duplicate accounts and contacts: finding likely pairs, and merging one record into another.

Both only plan: they read through the CRM's public methods and a merge is one `CRM.apply`
batch, so the service's rules (versions, references, loops) and its journal, history and trash
apply to a merge as to any other change.

Likely pairs, each with why:
  same email      the email, in any case (`Ann@X.example` == `ann@x.example`)
  same name       the normalised name (CRM.same_name: case, accents, punctuation ignored)
  similar names   rapidfuzz's token_sort_ratio of the normalised names >= SIMILAR_NAMES
                  (word order ignored: `Lovelace Ada` == `Ada Lovelace`)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from store.errors import MergeRefused, NotFoundError
from store.model import (
    ACCOUNTS,
    CONTACTS,
    FIELD_BY_NAME,
    SINGULAR,
    SYSTEM_FIELDS,
    TABLE_REGARDING,
    Record,
    display_name,
)
from store.service import CRM, Batch, BatchResult, Delete, Update
from store.text import counted, name_key

# token_sort_ratio (0-100) from which two different names are reported as similar. Tried on
# the demo data (`crm demo --size M`, 10,000 accounts): at 90, 1,340 account pairs, mostly
# the same firm spelt twice (`Ferreira & Filhos, Lda.` / `... S.A.`, `Bjørg Aasen` /
# `Bjørn Aasen`), some long names that share their boilerplate (`Nowak Przedsiębiorstwo
# Budowlane` / `Król ...`); at 85, 4,458 pairs, most of them such lookalikes
# (`Clínica Guimarães, Lda.` / `Clínica Coimbra, Lda.`). Short names are the weak spot: one
# letter of four (`Yuko` / `Yuto Nakamura`) still scores above 90.
SIMILAR_NAMES = 90

SAME_EMAIL = "same email"
SAME_NAME = "same name"
SIMILAR = "similar names"

MERGEABLE = (ACCOUNTS, CONTACTS)
# Fields a merge never copies: the service's stamps, and the id the record was imported with
# (each record keeps its own, so that a re-import still finds the kept one).
_NOT_MERGED = frozenset(SYSTEM_FIELDS)


@dataclass(frozen=True)
class DuplicatePair:
    """Two records that look like one: `keep_id` is the one suggested to keep (more fields
    filled in, else the older), `reasons` say why they look alike, strongest first."""

    table: str
    keep_id: str
    other_id: str
    reasons: tuple[str, ...]
    score: int  # 100 for the same email or name, else the names' similarity


def duplicate_pairs(crm: CRM, table: str) -> list[DuplicatePair]:
    """Likely duplicate pairs among the accounts or contacts, each pair once, the surest first
    (same email or name, then by similarity), then by name."""
    _check_table(table)
    records = crm.all(table)
    found: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)

    def add(first: str, second: str, reason: str, score: int) -> None:
        if first != second:
            found[(min(first, second), max(first, second))][reason] = score

    by_email: dict[str, list[str]] = defaultdict(list)
    names: dict[str, str] = {}  # id -> normalised name
    for record_id, record in records.items():
        email = (record.get("email") or "").strip().casefold()
        if email:
            by_email[email].append(record_id)
        name = display_name(table, record)
        if record.get("name" if table == ACCOUNTS else "first_name") or record.get("last_name"):
            key = name_key(name)
            if key:
                names[record_id] = key
                for same in crm.same_name(table, name):
                    add(record_id, same, SAME_NAME, 100)
    for ids in by_email.values():
        for index, first in enumerate(ids):
            for second in ids[index + 1 :]:
                add(first, second, SAME_EMAIL, 100)
    for first, second, score in _similar_names(names):
        add(first, second, SIMILAR, score)

    pairs = []
    for (first, second), reasons in found.items():
        if SAME_NAME in reasons:
            reasons.pop(SIMILAR, None)  # the same name is the stronger way of saying it
        keep, other = _suggest_keep(records[first], records[second])
        ordered = tuple(r for r in (SAME_EMAIL, SAME_NAME, SIMILAR) if r in reasons)
        pairs.append(DuplicatePair(table, keep, other, ordered, max(reasons.values())))
    pairs.sort(
        key=lambda p: (
            -p.score,
            name_key(display_name(table, records[p.keep_id])),
            p.keep_id,
            p.other_id,
        )
    )
    return pairs


def likely_duplicates(crm: CRM, table: str, record_id: str, limit: int = 10) -> list[Record]:
    """The records most likely to duplicate one record, surest first, by the rules of
    `duplicate_pairs` (same email or name, then names scoring >= SIMILAR_NAMES): what the
    app offers first when you merge into a record."""
    _check_table(table)
    from rapidfuzz import fuzz, process  # see _similar_names

    record = crm.get(table, record_id)
    if record is None:
        return []
    sure = [r["id"] for r in crm.duplicates(table, record, exclude=record_id)]
    key = name_key(display_name(table, record))
    names = {
        rid: name_key(display_name(table, other))
        for rid, other in crm.all(table).items()
        if rid != record_id and rid not in sure
    }
    similar = process.extract(
        key,
        names,
        scorer=fuzz.token_sort_ratio,
        score_cutoff=SIMILAR_NAMES,
        limit=limit,
    )
    ids = sure + [rid for _name, _score, rid in similar]
    return crm.records(table, ids[:limit])


def _similar_names(names: Mapping[str, str]) -> Iterable[tuple[str, str, int]]:
    """Pairs of ids whose names score at least SIMILAR_NAMES (and are not the same).

    Each distinct name is scored once (fifty `Ana Silva`s are one name here; the same name is
    its own reason). Comparing every name with every other is n^2: 50 million comparisons at
    10,000 accounts. So names are compared only within blocks that share the first letter of
    their sorted words (what token_sort_ratio lines up first): about 1/20 of the work. The
    price: a typo in that first letter (`Bcme` / `Acme`) is not found as similar."""
    # Imported here: every `crm` command loads the command line's rooms, few look for pairs.
    from rapidfuzz import fuzz, process

    ids_by_name: dict[str, list[str]] = defaultdict(list)
    for record_id, key in names.items():
        ids_by_name[" ".join(sorted(key.split()))].append(record_id)
    blocks: dict[str, list[str]] = defaultdict(list)
    for name in ids_by_name:
        blocks[name[:1]].append(name)
    for block in blocks.values():
        for index, name in enumerate(block):
            for similar, score, _at in process.extract(
                name,
                block[index + 1 :],
                scorer=fuzz.token_sort_ratio,
                score_cutoff=SIMILAR_NAMES,
                limit=None,
            ):
                for first in ids_by_name[name]:
                    for second in ids_by_name[similar]:
                        yield first, second, int(score)


def _filled(record: Record) -> int:
    return sum(1 for name, value in record.items() if name not in _NOT_MERGED and value)


def _suggest_keep(first: Record, second: Record) -> tuple[str, str]:
    """(keep, other): the record with more fields filled in, else the older, else the lower id
    (so that the suggestion is the same every time)."""

    def rank(record: Record) -> tuple[int, str, str]:
        return (-_filled(record), record.get("created_at") or "", record["id"])

    keep, other = sorted((first, second), key=rank)
    return keep["id"], other["id"]


def _a(noun: str) -> str:
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


def _check_table(table: str) -> None:
    if table not in MERGEABLE:
        raise MergeRefused(f"only accounts or contacts can be merged, not {table}")


# ---------------------------------------------------------------------------- merging


# The kinds of `MergePlan.moved`, each as one of them is called.
_MOVED_NOUN = {
    "activities": "activity",
    "contacts": "contact",
    "subsidiaries": "subsidiary",
    "primary contact links": "primary contact link",
}


@dataclass(frozen=True)
class MergePlan:
    """What `merge` will do, for a confirmation before it does it."""

    table: str
    keep: Record
    other: Record
    changes: Record  # to the kept record: field -> the other's value (None clears)
    moved: dict[str, int]  # "activities", "contacts", "subsidiaries", "primary contact links"
    batch: Batch

    @property
    def moved_counts(self) -> list[str]:
        """What moves to the kept record, counted (`2 activities`, `1 contact`): the wording
        of both the CLI and the TUI."""
        return [counted(n, _MOVED_NOUN[kind]) for kind, n in self.moved.items()]

    @property
    def taken(self) -> list[str]:
        """The fields the kept record gets from the other, in form order."""
        order = list(FIELD_BY_NAME[self.table])
        return sorted(self.changes, key=order.index)

    @property
    def outcome(self) -> str:
        """`merged Acme Ltd into Acme: 2 activities moved; fields taken: phone`, once done."""
        moved = self.moved_counts
        return (
            f"merged {display_name(self.table, self.other)} into "
            f"{display_name(self.table, self.keep)}: "
            + (", ".join(moved) + " moved" if moved else "nothing moved")
            + "; fields taken: "
            + (", ".join(self.taken) or "none")
        )


def plan_merge(
    crm: CRM, table: str, keep_id: str, other_id: str, take: Collection[str] = ()
) -> MergePlan:
    """The batch that merges `other_id` into `keep_id` (see `merge`), not yet applied.
    Raises MergeRefused or NotFoundError."""
    _check_table(table)
    if keep_id == other_id:
        raise MergeRefused(f"a {SINGULAR[table]} cannot be merged into itself")
    keep, other = crm.get(table, keep_id), crm.get(table, other_id)
    for record_id, record in ((keep_id, keep), (other_id, other)):
        if record is None:
            found = crm.find(record_id)
            if found is not None:
                raise MergeRefused(
                    f"{record_id} is {_a(SINGULAR[found[0]])}, not {_a(SINGULAR[table])}: only two "
                    f"{table} can be merged"
                )
            raise NotFoundError(f"no {SINGULAR[table]} with id '{record_id}'")
    assert keep is not None and other is not None
    fields = FIELD_BY_NAME[table]
    for name in take:
        if name not in fields or name in _NOT_MERGED:
            raise MergeRefused(f"'{name}' is not a field of {table} that a merge can take")

    keep_name, other_name = display_name(table, keep), display_name(table, other)
    # Accounts: the other's own parent, when it is the kept account or below it, would make a
    # loop once its subsidiaries hang under the kept one; never carry that one over.
    below_keep = table == ACCOUNTS and keep_id in {a["id"] for a in crm.parent_chain(other_id)}
    if table == ACCOUNTS and other_id in {a["id"] for a in crm.parent_chain(keep_id)}:
        raise MergeRefused(
            f"{keep_name} is a subsidiary of {other_name}: merging {other_name} into it "
            "would make a loop (merge the other way round)"
        )
    if below_keep and "parent_account_id" in take:
        raise MergeRefused(
            f"{other_name} is below {keep_name}: its parent account cannot become "
            f"{keep_name}'s (a loop)"
        )

    changes: Record = {}
    for name in fields:
        if name in _NOT_MERGED or (name == "parent_account_id" and below_keep):
            continue
        theirs = other.get(name)
        if name in take:
            if theirs != keep.get(name):
                changes[name] = theirs if theirs not in ("", None) else None
        elif theirs not in ("", None) and keep.get(name) in ("", None):
            changes[name] = theirs  # by default the kept record only fills its gaps

    updates = [Update(table, keep_id, changes, expected_version=keep.get("version"))]
    moved: dict[str, int] = {}

    def move(kind: str, moving: Iterable[tuple[str, Record, Record]]) -> None:
        count = 0
        for moving_table, record, link in moving:
            # As read: someone changing a moved record meanwhile refuses the merge (try again)
            # rather than having their change put back.
            updates.append(
                Update(moving_table, record["id"], link, expected_version=record.get("version"))
            )
            count += 1
        if count:
            moved[kind] = count

    regarding = TABLE_REGARDING[table]
    move(
        "activities",
        (
            ("activities", a, {"regarding_type": regarding, "regarding_id": keep_id})
            for a in crm.timeline(other_id)
        ),
    )
    if table == ACCOUNTS:
        move(
            "contacts",
            ((CONTACTS, c, {"account_id": keep_id}) for c in crm.contacts_of(other_id)),
        )
        move(
            "subsidiaries",
            (
                (ACCOUNTS, a, {"parent_account_id": keep_id})
                for a in crm.subsidiaries(other_id)
                if a["id"] != keep_id
            ),
        )
    else:
        move(
            "primary contact links",
            (
                (ACCOUNTS, a, {"primary_contact_id": keep_id})
                for a in crm.all(ACCOUNTS).values()
                if a.get("primary_contact_id") == other_id
            ),
        )
    batch = Batch(
        updates=updates,
        deletes=[
            Delete(table, other_id, merged_into=keep_id, expected_version=other.get("version"))
        ],
        summary=f"merge {other_name} into {keep_name}",
    )
    return MergePlan(table, keep, other, changes, moved, batch)


def merge(
    crm: CRM, table: str, keep_id: str, other_id: str, take: Collection[str] = ()
) -> BatchResult:
    """Merge the account or contact `other_id` into `keep_id`, as one batch: the kept record
    gets the other's values for the fields in `take` and fills its own empty fields from the
    other; the other's activities, and for accounts its contacts and subsidiaries, for
    contacts the accounts it is primary contact of, move to the kept record; then the other
    is deleted, marked `merged_into` the kept one. Versions are checked as read: a change
    made meanwhile refuses the merge with ConflictError, and nothing is written."""
    return crm.apply(plan_merge(crm, table, keep_id, other_id, take).batch)
