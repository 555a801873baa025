"""Bringing parsed rows into the database: resolve references, validate, report, then apply.

The parsers (csv_import, vcard, ics) turn files into ParsedRows; this module decides, for every
row, whether it creates or updates a record (a second import of the same file updates by source
id instead of duplicating), resolves references after every row has been read (a parent later in
the file, by id, source id or name), and reports each problem with its line. Nothing is written
on a dry run; with all-or-nothing, one bad row stops the whole import.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ulid import ULID

from store.io.common import ParsedRow, Progress
from store.model import (
    ACCOUNTS,
    ACTIVITIES,
    CONTACTS,
    REGARDING_TABLE,
    SINGULAR,
    TABLE_REGARDING,
    Record,
    clean,
    display_name,
)
from store.service import CRM, Batch, Create, Update, now_iso
from store.text import counted, name_key

# "line 4: ", "vevent at line 86: ", "card 2 (line 9): ": the report gives the line itself.
_LINE_PREFIX = re.compile(r"^(?:line \d+|v(?:event|todo) at line \d+|card \d+ \(line \d+\)): ")
_ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
REF_TARGETS = {
    "parent_account_id": ACCOUNTS,
    "account_id": ACCOUNTS,
    "primary_contact_id": CONTACTS,
}


@dataclass
class RowIssue:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class ImportReport:
    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    accounts_created: int = 0  # accounts named by contacts or vCard organisations, new
    errors: list[RowIssue] = field(default_factory=list)  # rows that will not be imported
    warnings: list[RowIssue] = field(default_factory=list)  # imported, but look at them
    notes: list[str] = field(default_factory=list)  # file-level remarks
    applied: bool = False
    dry_run: bool = False
    all_or_nothing: bool = False

    @property
    def valid(self) -> int:
        return self.created + self.updated

    def summary(self) -> str:
        verb = "would" if self.dry_run or not self.applied else "did"
        what = (
            f"{counted(self.rows, 'row')}: {self.created:,} new, {self.updated:,} updated, "
            f"{len(self.errors):,} with errors, {counted(len(self.warnings), 'warning')}"
        )
        if self.accounts_created:
            what += f", {counted(self.accounts_created, 'new account')}"
        if self.dry_run and self.all_or_nothing and self.errors:
            return f"Dry run, nothing written. {what} (all-or-nothing: nothing would be imported)."
        if self.dry_run:
            return f"Dry run, nothing written. {what} ({verb} import)."
        if not self.applied and not self.valid:
            return f"Nothing imported: no row could be. {what}."
        if not self.applied:
            return f"Nothing imported (all-or-nothing, errors found). {what}."
        return f"Imported. {what}."


@dataclass
class _Planned:
    """A row as it is planned: `record` is what it would store, before the service adds its
    defaults and stamps (a new record: the file's fields and the id; an update: the stored
    record with the file's fields over it). The service is given the difference."""

    line: int
    table: str
    record: Record
    existing: Record | None
    refs: dict[str, str]
    ref_names: dict[str, str] = field(default_factory=dict)  # see ParsedRow.ref_names
    created_at: str | None = None  # the source's, for a new record


class _Ambiguous(LookupError):
    """A name that fits several records: never a reason to create one more."""

    def __str__(self) -> str:
        return f"{self.args[0]}; give an id"


class _Resolver:
    """Finds a record id for the text a file gives: an id, a source id, or a unique name,
    among existing records and the rows of this import."""

    def __init__(self, crm: CRM) -> None:
        self.crm = crm
        # Texts already resolved (a big file names the same few accounts over and over). Rows
        # are only added before resolving starts, except accounts created for names that found
        # nothing, so an answer once found stays right.
        self.found: dict[tuple[str, str], str] = {}
        self.batch_ids: dict[str, set[str]] = {ACCOUNTS: set(), CONTACTS: set()}
        self.batch_source: dict[str, dict[str, str]] = {ACCOUNTS: {}, CONTACTS: {}}
        self.batch_names: dict[str, dict[str, set[str]]] = {ACCOUNTS: {}, CONTACTS: {}}

    def alias(self, table: str, text: str, record_id: str) -> None:
        """`text` (a vCard's UID, say) names the record `record_id` of this import."""
        self.batch_source[table][text] = record_id

    def add(self, table: str, record: Record) -> None:
        if table not in self.batch_ids:
            return
        self.batch_ids[table].add(record["id"])
        if record.get("source_id"):
            self.batch_source[table][record["source_id"]] = record["id"]
        key = name_key(display_name(table, record))
        self.batch_names[table].setdefault(key, set()).add(record["id"])

    def resolve(self, table: str, text: str) -> str:
        """The id, or raises LookupError with a message for the report (_Ambiguous when the
        text names several records)."""
        text = text.strip()
        found = self.found.get((table, text))
        if found is None:
            found = self.found[(table, text)] = self._lookup(table, text)
        return found

    def _lookup(self, table: str, text: str) -> str:
        if text in self.batch_ids[table] or self.crm.get(table, text):
            return text
        found = self.batch_source[table].get(text) or self.crm.by_source_id(table, text)
        if found:
            return found
        in_file = self.batch_names[table].get(name_key(text), set())
        ids = set(in_file) | self.crm.same_name(table, text)
        if len(ids) == 1:
            return next(iter(ids))
        if len(in_file) == 1:  # a file that names its own record means that one
            return next(iter(in_file))
        if len(ids) > 1:
            raise _Ambiguous(f"'{text}' names {len(ids)} {table}")
        raise LookupError(f"no {SINGULAR[table]} '{text}' in the database or the file")


def import_rows(
    crm: CRM,
    kind: str,
    rows: list[ParsedRow],
    *,
    dry_run: bool = False,
    all_or_nothing: bool = False,
    regarding: str | None = None,
    create_missing_accounts: bool = False,
    progress: Progress | None = None,
    extra_accounts: list[ParsedRow] | None = None,
    source: str = "",
) -> ImportReport:
    """Plan and (unless dry run) apply an import of `kind` records.

    `regarding`: for activities without their own, the account or contact they are about.
    `create_missing_accounts`: a contact's account given by a name that does not exist yet is
    created (vCard ORG). `extra_accounts`: organisation records to import first (vCard KIND:org).
    """
    report = ImportReport(kind, rows=len(rows), dry_run=dry_run, all_or_nothing=all_or_nothing)
    resolver = _Resolver(crm)
    planned: list[_Planned] = []
    default_regarding = crm.resolve_regarding(regarding) if regarding else None
    taken: set[str] = set()  # ids given to new records of this import
    stamp = now_iso()  # one moment for the whole import

    org_plans = []
    for row in extra_accounts or []:
        for problem in row.problems:
            report.warnings.append(RowIssue(row.line, _LINE_PREFIX.sub("", problem)))
        plan = _plan_row(crm, ACCOUNTS, row, report, taken)
        if plan is not None:
            org_plans.append(plan)
    claimed = {p.existing["id"] for p in org_plans if p.existing is not None}
    for plan in org_plans:
        if plan.existing is None:
            _link_org_card(crm, plan, claimed, resolver)
        planned.append(plan)
        resolver.add(ACCOUNTS, plan.record)
    for row in rows:
        for problem in row.problems:
            report.warnings.append(RowIssue(row.line, _LINE_PREFIX.sub("", problem)))
        plan = _plan_row(crm, kind, row, report, taken)
        if plan is not None:
            planned.append(plan)
            resolver.add(kind, plan.record)

    new_accounts: dict[str, Record] = {}
    accepted: list[_Planned] = []
    total = len(planned)
    for done, plan in enumerate(planned, start=1):
        if progress and done % 500 == 0:
            progress(done, total)
        if _resolve_refs(
            crm,
            plan,
            resolver,
            report,
            default_regarding,
            new_accounts if create_missing_accounts else None,
        ):
            accepted.append(plan)
    if progress:
        progress(total, total)

    # The service's rules (fields, references, loops), asked row by row so that the report
    # names every refused row; what refers to a refused row of the file is refused too.
    accepted = _drop_dependants(crm, planned, accepted, report)
    summary = f"import {source or kind}"
    batch, plan_of = _batch(accepted, new_accounts.values(), stamp, summary)
    refused = {
        id(plan_of[id(item)]): error for item, error in crm.problems(batch) if id(item) in plan_of
    }
    for plan in accepted:
        if id(plan) in refused:
            report.errors.append(RowIssue(plan.line, str(refused[id(plan)])))
    accepted = [p for p in accepted if id(p) not in refused]
    accepted = _drop_dependants(crm, planned, accepted, report)
    # An account created for a contact that was then refused would be left without its contact.
    wanted = {p.record.get("account_id") for p in accepted if p.table == CONTACTS}
    new_accounts = {k: a for k, a in new_accounts.items() if a["id"] in wanted}
    _warn_duplicates(crm, accepted, report)

    for plan in accepted:
        if plan.table != kind:
            continue
        if plan.existing is None:
            report.created += 1
        else:
            report.updated += 1
    report.accounts_created = len(new_accounts) + sum(
        1 for p in accepted if p.table == ACCOUNTS and kind != ACCOUNTS and p.existing is None
    )

    if dry_run or (all_or_nothing and report.errors) or not (accepted or new_accounts):
        report.applied = False
        return report
    # One batch: every accepted record or none, the rules checked again under the write lock
    # (another user may have deleted a target meanwhile).
    crm.apply(_batch(accepted, new_accounts.values(), stamp, summary)[0])
    report.applied = True
    return report


_TABLE_ORDER: dict[str, int] = {ACCOUNTS: 0, CONTACTS: 1, ACTIVITIES: 2}


def _batch(
    accepted: list[_Planned], new_accounts: Iterable[Record], stamp: str, summary: str = ""
) -> tuple[Batch, dict[int, _Planned]]:
    """The batch that saves `accepted` and the accounts made for contacts, and the plan of
    each of its items (by id())."""
    batch = Batch(stamp=stamp, warn_duplicates=False, summary=summary)
    plan_of: dict[int, _Planned] = {}
    for account in new_accounts:
        batch.creates.append(Create(ACCOUNTS, _without_id(account), record_id=account["id"]))
    for plan in sorted(accepted, key=lambda p: _TABLE_ORDER[p.table]):
        item: Create | Update
        if plan.existing is None:
            item = Create(
                plan.table,
                _without_id(plan.record),
                record_id=plan.record["id"],
                created_at=plan.created_at,
            )
            batch.creates.append(item)
        else:
            item = Update(plan.table, plan.existing["id"], _changes(plan.existing, plan.record))
            batch.updates.append(item)
        plan_of[id(item)] = plan
    return batch, plan_of


def _without_id(record: Record) -> Record:
    return {k: v for k, v in record.items() if k != "id"}


def _changes(existing: Record, record: Record) -> Record:
    changes = {k: v for k, v in record.items() if existing.get(k) != v}
    changes.update((k, None) for k in existing if k not in record)
    return changes


def _plan_row(
    crm: CRM, table: str, row: ParsedRow, report: ImportReport, taken: set[str]
) -> _Planned | None:
    fields = clean(table, dict(row.record))
    own_id = fields.pop("id", None)  # a file exported from this CRM: our record id
    if not fields and not row.refs:
        report.errors.append(RowIssue(row.line, "empty row"))
        return None
    source_id = fields.get("source_id")
    existing_id = own_id if own_id and crm.get(table, own_id) else None
    if existing_id is None and source_id:
        existing_id = crm.by_source_id(table, source_id)
    if existing_id is None and source_id and crm.get(table, source_id):
        existing_id = source_id  # a file exported from this CRM: the id itself
    existing = crm.get(table, existing_id) if existing_id else None
    created_at = None
    if existing is not None:
        record = dict(existing)
        for name, value in fields.items():
            if value is None:
                continue
            record[name] = value
    else:
        reuse = next(
            (
                candidate
                for candidate in (own_id, source_id)
                if isinstance(candidate, str)
                and _ULID.match(candidate)
                and candidate not in taken
                and not crm.find(candidate)
            ),
            None,
        )
        if reuse:
            taken.add(reuse)
        record = {k: v for k, v in fields.items() if v is not None}
        if reuse and record.get("source_id") == reuse:
            del record["source_id"]  # the id itself, not another system's
        created_at = record.pop("created_at", None)
        if table == ACTIVITIES and not record.get("completed_at"):
            # A file that says an activity is done but not when: it was done when it ended or
            # was due, the source's date (the service drops it for one that is not done).
            done = record.get("end_at") or record.get("due_at")
            if done:
                record["completed_at"] = done
        record["id"] = reuse or str(ULID())
    return _Planned(
        row.line, table, record, existing, dict(row.refs), dict(row.ref_names), created_at
    )


# What an organisation card found by name does not take over from the account it links to.
_KEPT_ON_LINK = frozenset(
    {"id", "created_at", "created_by", "modified_at", "modified_by", "version"}
)


def _link_org_card(crm: CRM, plan: _Planned, claimed: set[str], resolver: _Resolver) -> None:
    """A vCard organisation that matches no account by id or UID but names exactly one account
    of the database (not yet taken by another card of the file) is that account: the card fills
    the fields the account leaves empty, and the file's contacts that name the card link to it,
    instead of a second account of the same name being created."""
    name = plan.record.get("name")
    candidates = crm.same_name(ACCOUNTS, name) - claimed if name else set()
    if len(candidates) != 1:
        return
    existing = crm.get(ACCOUNTS, next(iter(candidates)))
    if existing is None:
        return
    card_ids = {plan.record["id"], plan.record.get("source_id")}
    record = dict(existing)
    for field_name, value in plan.record.items():
        if (
            field_name not in _KEPT_ON_LINK
            and value not in (None, "")
            and not record.get(field_name)
        ):
            record[field_name] = value
    plan.record, plan.existing = record, existing
    claimed.add(existing["id"])
    for card_id in card_ids - {None, existing["id"]}:
        resolver.alias(ACCOUNTS, str(card_id), existing["id"])


def _resolve_refs(
    crm: CRM,
    plan: _Planned,
    resolver: _Resolver,
    report: ImportReport,
    default_regarding: tuple[str, str] | None,
    new_accounts: dict[str, Record] | None,
) -> bool:
    record = plan.record
    for name, text in plan.refs.items():
        if not text.strip():
            continue
        try:
            if name == "regarding_id":
                table = REGARDING_TABLE.get(record.get("regarding_type", ""))
                tables = [table] if table else [ACCOUNTS, CONTACTS]
                fallback = plan.ref_names.get(name, "")
                found = [
                    (t, _try(resolver, t, text) or (fallback and _try(resolver, t, fallback)))
                    for t in tables
                ]
                found = [(t, rid) for t, rid in found if rid]
                if len(found) != 1:
                    raise LookupError(f"no single account or contact '{text}'")
                record["regarding_type"] = TABLE_REGARDING[found[0][0]]
                record["regarding_id"] = found[0][1]
                continue
            target = REF_TARGETS[name]
            fallback = plan.ref_names.get(name, "").strip()
            try:
                record[name] = _resolve_by_id_or_name(resolver, target, text, fallback)
            except LookupError as error:
                if name != "account_id":
                    raise
                # A contact is never refused for its account: the account is created by the
                # name the file gives, or the contact comes in without one.
                account_name = fallback or text.strip()
                if (
                    new_accounts is not None
                    and not isinstance(error, _Ambiguous)
                    and not _ULID.match(account_name)
                ):
                    record[name] = _new_account(crm, account_name, new_accounts, resolver)["id"]
                else:
                    shown = error.args[0] if isinstance(error, _Ambiguous) else error
                    report.warnings.append(
                        RowIssue(plan.line, f"{name}: {shown}; imported without an account")
                    )
        except LookupError as error:
            if name == "primary_contact_id":  # often exported before its contacts exist
                report.warnings.append(RowIssue(plan.line, f"{name}: {error}; left empty"))
                continue
            report.errors.append(RowIssue(plan.line, f"{name}: {error}"))
            return False
    if plan.table == ACTIVITIES and not record.get("regarding_id"):
        if default_regarding is None:
            report.errors.append(
                RowIssue(plan.line, "regarding_id: no account or contact given (use --regarding)")
            )
            return False
        record["regarding_type"], record["regarding_id"] = default_regarding
    return True


def _resolve_by_id_or_name(resolver: _Resolver, table: str, text: str, name: str) -> str:
    """The record `text` names (an id or a name); when it finds none, the one `name` (given
    beside the id in the file) names. Raises the LookupError of the name, the more readable."""
    try:
        return resolver.resolve(table, text)
    except LookupError:
        if not name or name == text.strip():
            raise
    return resolver.resolve(table, name)


def _try(resolver: _Resolver, table: str, text: str) -> str | None:
    try:
        return resolver.resolve(table, text)
    except LookupError:
        return None


def _new_account(
    crm: CRM, name: str, new_accounts: dict[str, Record], resolver: _Resolver
) -> Record:
    key = name_key(name)
    if key not in new_accounts:
        account = {"name": name.strip()[:160], "id": str(ULID())}
        new_accounts[key] = account
        resolver.add(ACCOUNTS, account)
    return new_accounts[key]


_REF_NAMES: dict[str, tuple[str, ...]] = {
    ACCOUNTS: ("parent_account_id", "primary_contact_id"),
    CONTACTS: ("account_id",),
    ACTIVITIES: ("regarding_id",),
}


def _drop_dependants(
    crm: CRM, planned: list[_Planned], accepted: list[_Planned], report: ImportReport
) -> list[_Planned]:
    """A row that refers to a new record of this file that was refused cannot be imported
    either: its reference would point nowhere (and the whole transaction would fail). A primary
    contact is left as it was instead. Follows chains (a subsidiary of a refused subsidiary)."""
    kept = {id(p) for p in accepted}
    queue = [
        (p.record["id"], p.line)
        for p in planned
        if id(p) not in kept and crm.get(p.table, p.record["id"]) is None
    ]
    if not queue:
        return accepted
    dependants: dict[str, list[tuple[_Planned, str]]] = {}
    for plan in accepted:
        for name in _REF_NAMES[plan.table]:
            value = plan.record.get(name)
            if value:
                dependants.setdefault(value, []).append((plan, name))
    dropped: set[int] = set()
    while queue:
        target, line = queue.pop()
        for plan, name in dependants.get(target, ()):
            if id(plan) in dropped:
                continue
            if name == "primary_contact_id":
                previous = (plan.existing or {}).get(name)
                if previous:
                    plan.record[name] = previous
                else:
                    plan.record.pop(name, None)
                report.warnings.append(
                    RowIssue(
                        plan.line,
                        f"{name}: the contact on line {line} was not imported; left as it was",
                    )
                )
                continue
            dropped.add(id(plan))
            report.errors.append(
                RowIssue(
                    plan.line,
                    f"{name}: refers to the record on line {line}, which was not imported",
                )
            )
            if plan.existing is None:
                queue.append((plan.record["id"], plan.line))
    return [p for p in accepted if id(p) not in dropped]


def _warn_duplicates(crm: CRM, accepted: list[_Planned], report: ImportReport) -> None:
    seen_email: dict[str, int] = {}
    seen_name: dict[str, int] = {}
    new = [p for p in accepted if p.table in (ACCOUNTS, CONTACTS) and p.existing is None]
    existing: dict[int, list[Record]] = {}
    for table in (ACCOUNTS, CONTACTS):  # a few queries for the whole file, not two a row
        mine = [p for p in new if p.table == table]
        found = crm.duplicates_of_many(table, [p.record for p in mine])
        for plan, duplicates in zip(mine, found, strict=True):
            existing[id(plan)] = duplicates
    for plan in new:
        for duplicate in existing[id(plan)][:1]:
            report.warnings.append(
                RowIssue(
                    plan.line,
                    f"possible duplicate of existing {SINGULAR[plan.table]} "
                    f"{display_name(plan.table, duplicate)} ({duplicate['id']})",
                )
            )
        email = (plan.record.get("email") or "").casefold()
        name = name_key(display_name(plan.table, plan.record))
        earlier = (seen_email.get(email) if email else None) or seen_name.get(name)
        if earlier:
            report.warnings.append(
                RowIssue(plan.line, f"looks like line {earlier} of this file (same email or name)")
            )
        if email:
            seen_email.setdefault(email, plan.line)
        seen_name.setdefault(name, plan.line)
