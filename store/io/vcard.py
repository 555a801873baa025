"""vCard (3.0 and 4.0; 2.1 mostly) import and vCard 4.0 export, using vobject.

Cards are split out of the file here (BEGIN:VCARD .. END:VCARD) and each is parsed by vobject on
its own, so one broken card is reported and skipped while the others still import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

import vobject

from store.io.common import (
    LIMITS,
    ImportLimits,
    ParsedRow,
    check_entries,
    decode_bytes,
    parse_when,
    single_line,
    split_full_name,
    to_record_status,
    to_relationship,
    when_to_storage,
)
from store.io.fields import ACCOUNT_FIELDS, CONTACT_FIELDS, MOMENT_FIELDS

__all__ = ["ParsedCard", "VcardResult", "export_vcards", "parse_vcards"]

ParsedCard = ParsedRow  # same shape: line is the card's BEGIN:VCARD line


@dataclass
class VcardResult:
    contacts: list[ParsedCard] = field(default_factory=list)
    accounts: list[ParsedCard] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # one per broken card, which is skipped
    skipped: list[str] = field(default_factory=list)  # group cards and the like, not records


# Our own extension properties: X-TERMCRM-<FIELD> for fields vCard has no property for.
_X = "X-TERMCRM-"
# Properties we never read; dropped before parsing so that a bad photo cannot sink a card.
_DROPPED = re.compile(r"(?:[\w-]+\.)?(?:PHOTO|LOGO|SOUND|KEY)[;:]", re.IGNORECASE)


# --------------------------------------------------------------------------- reading


def _split_cards(text: str) -> tuple[list[tuple[int, list[str]]], list[str]]:
    """[(line of BEGIN, card lines)], plus errors for unterminated cards."""
    cards: list[tuple[int, list[str]]] = []
    errors: list[str] = []
    current: list[str] | None = None
    start = 0
    skipping = False
    for number, line in enumerate(text.split("\n"), start=1):
        word = line.strip().upper()
        if word == "BEGIN:VCARD":
            if current is not None:
                errors.append(
                    f"card {len(cards) + len(errors) + 1} (line {start}): no END:VCARD "
                    "before the next card; skipped"
                )
            current, start, skipping = [line], number, False
        elif current is None:
            continue
        elif word == "END:VCARD":
            current.append(line)
            cards.append((start, current))
            current = None
        elif not line.strip():
            continue
        elif line[:1] in (" ", "\t"):
            if not skipping:
                current.append(line)
        else:
            skipping = bool(_DROPPED.match(line))
            if not skipping:
                current.append(line)
    if current is not None:
        errors.append(
            f"card {len(cards) + len(errors) + 1} (line {start}): the file ends "
            "before END:VCARD; skipped"
        )
    return cards, errors


def parse_vcards(
    data: bytes, *, tz: tzinfo | None = None, limits: ImportLimits = LIMITS
) -> VcardResult:
    """Read every card of a .vcf file. Raises ImportLimitError for a file beyond `limits`;
    otherwise never raises: broken cards are listed in `errors`.

    Person cards become contacts, KIND:org cards (and Apple's X-ABShowAs:COMPANY) accounts;
    group cards (KIND:group, X-ADDRESSBOOKSERVER-KIND:group) are listed in `skipped`.
    """
    result = VcardResult()
    try:
        text, _ = decode_bytes(data)
    except Exception as exc:  # noqa: BLE001 - decode_bytes does not raise, but be sure
        result.errors.append(f"the file could not be decoded ({exc})")
        return result
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    blocks, split_errors = _split_cards(text)
    check_entries(blocks, "vCards", limits)
    for number, (line, lines) in enumerate(blocks, start=1):
        where = f"card {number} (line {line})"
        try:
            component = vobject.readOne("\r\n".join(lines) + "\r\n")
        except Exception as exc:  # noqa: BLE001 - vobject raises many kinds of errors
            result.errors.append(f"{where}: not a readable vCard ({_reason(exc)}); skipped")
            continue
        try:
            _card(component, line, where, result, tz)
        except Exception as exc:  # noqa: BLE001 - odd values must not stop the import
            result.errors.append(f"{where}: could not be read ({_reason(exc)}); skipped")
    result.errors = sorted([*split_errors, *result.errors], key=_error_line)
    if not blocks and not split_errors and text.strip():
        result.errors.append("no BEGIN:VCARD found: this is not a vCard file")
    return result


def _error_line(message: str) -> int:
    m = re.search(r"\(line (\d+)\)", message)
    return int(m.group(1)) if m else 0


def _reason(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    text = re.sub(r"^At line \d+:\s*", "", text)  # vobject counts lines inside the card
    return text if len(text) <= 120 else text[:119] + "…"


def _props(component: Any, name: str) -> list[Any]:
    return list(component.contents.get(name.lower(), []))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return " ".join(_text(v) for v in value if _text(v))
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace").strip()
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def _first(component: Any, name: str) -> str:
    for prop in _props(component, name):
        value = _text(prop.value)
        if value:
            return value
    return ""


def _labels(component: Any) -> dict[str, str]:
    """Apple's item groups: group name -> lower-cased X-ABLabel (`_$!<Mobile>!$_` -> mobile)."""
    labels = {}
    for prop in _props(component, "x-ablabel"):
        if prop.group:
            label = _text(prop.value)
            m = re.fullmatch(r"_\$!<(.*)>!\$_", label)
            labels[prop.group.lower()] = (m.group(1) if m else label).lower()
    return labels


def _types(prop: Any, labels: dict[str, str]) -> set[str]:
    types: set[str] = set()
    for name, values in prop.params.items():
        if name.upper() == "TYPE":
            for v in values:
                types.update(t.strip().strip('"').lower() for t in str(v).split(","))
        elif name.upper() == "PREF":
            types.add("pref")
    types.update(str(v).lower() for v in getattr(prop, "singletonparams", []))
    if prop.group and prop.group.lower() in labels:
        types.add(labels[prop.group.lower()])
    return {t for t in types if t}


def _pref(prop: Any, types: set[str]) -> int:
    for name, values in prop.params.items():
        if name.upper() == "PREF" and values:
            try:
                return int(str(values[0]))
            except ValueError:
                return 1
    return 1 if "pref" in types else 100


def _ranked(
    component: Any, name: str, labels: dict[str, str], prefer: tuple[str, ...] = ("work",)
) -> list[tuple[str, set[str]]]:
    """(value, types) of every property `name`, best first: PREF, then preferred types."""
    items = []
    for order, prop in enumerate(_props(component, name)):
        value = prop.value if name.lower() == "adr" else _text(prop.value)
        if name.lower() in ("email", "tel", "url"):
            # Google escapes the colon of URLs (https\://); mailto:/tel: are URI forms.
            value = value.replace("\\:", ":")
            value = re.sub(r"^(mailto|tel):", "", value, flags=re.IGNORECASE).strip()
        if not value:
            continue
        types = _types(prop, labels)
        rank = 0 if any(t in types for t in prefer) else 1
        items.append(((_pref(prop, types), rank, order), value, types))
    items.sort(key=lambda item: item[0])
    return [(value, types) for _, value, types in items]


_MOBILE = {"cell", "mobile", "iphone", "cellular"}


def _contact_channels(
    component: Any, labels: dict[str, str], record: dict[str, Any], extras: list[str], *, org: bool
) -> None:
    emails = _ranked(component, "email", labels)
    if emails:
        record["email"] = single_line("email", emails[0][0])
        extras.extend(f"Email: {value}" for value, _ in emails[1:])
    phones = _ranked(component, "tel", labels, prefer=("work", "main", "voice"))
    mobiles = [(v, t) for v, t in phones if t & _MOBILE]
    faxes = [(v, t) for v, t in phones if "fax" in t and not t & _MOBILE]
    others = [(v, t) for v, t in phones if (v, t) not in mobiles and (v, t) not in faxes]
    if org and not others and mobiles:
        others, mobiles = mobiles, []
    if others:
        record["phone"] = single_line("phone", others[0][0])
    if mobiles and not org:
        record["mobile"] = single_line("mobile", mobiles[0][0])
    used = {record.get("phone"), record.get("mobile")}
    for value, types in phones:
        if value not in used:
            shown = "/".join(sorted(t for t in types if t not in ("voice", "pref", "internet")))
            extras.append(f"Phone ({shown}): {value}" if shown else f"Phone: {value}")
            used.add(value)
    urls = _ranked(component, "url", labels)
    if org and urls:
        record["website"] = single_line("website", urls[0][0])
        urls = urls[1:]
    extras.extend(f"Website: {value}" for value, _ in urls)
    addresses = _ranked(component, "adr", labels)
    if addresses:
        record.update(_address(addresses[0][0]))
        for value, _ in addresses[1:]:
            line = ", ".join(v for v in _address(value).values() if v)
            if line:
                extras.append(f"Address: {line}")


def _address(adr: Any) -> dict[str, str]:
    street_lines = [p.strip() for p in _lines(getattr(adr, "street", "")) if p.strip()]
    extended = _text(getattr(adr, "extended", ""))
    box = _text(getattr(adr, "box", ""))
    line1 = street_lines[0] if street_lines else box
    line2_parts = [*street_lines[1:], extended, box if street_lines else ""]
    values = {
        "address_line1": line1,
        "address_line2": ", ".join(p for p in line2_parts if p),
        "address_city": _text(getattr(adr, "city", "")),
        "address_state": _text(getattr(adr, "region", "")),
        "address_postal_code": _text(getattr(adr, "code", "")),
        "address_country": _text(getattr(adr, "country", "")),
    }
    return {k: single_line(k, v) for k, v in values.items() if v}


def _lines(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [line for v in value for line in _lines(v)]
    return str(value or "").replace("\r", "\n").split("\n")


def _kind(component: Any) -> str:
    kind = _first(component, "kind").lower()
    apple_kind = _first(component, "x-addressbookserver-kind").lower()
    if kind == "group" or apple_kind == "group":
        return "group"
    if kind == "org" or _first(component, "x-abshowas").upper() == "COMPANY":
        return "org"
    if kind in ("location", "application", "device"):
        return kind
    return "individual"


def _card(component: Any, line: int, where: str, result: VcardResult, tz: tzinfo | None) -> None:
    if component.name.upper() != "VCARD":
        result.errors.append(f"{where}: not a vCard; skipped")
        return
    kind = _kind(component)
    if kind not in ("org", "individual"):
        result.skipped.append(f"{where}: a {kind} card, not a contact or a company")
        return
    card = ParsedCard(line)
    record, refs, problems = card.record, card.refs, card.problems
    labels = _labels(component)
    extras: list[str] = []
    org_names = [p.value for p in _props(component, "org")]
    org_name = ""
    for value in org_names:
        parts = value if isinstance(value, (list, tuple)) else [value]
        org_name = _text(parts[0] if parts else "")
        if org_name:
            break
    fn = _first(component, "fn")
    if kind == "org":
        name = org_name or fn
        if name:
            record["name"] = single_line("name", name)
        else:
            problems.append(f"{where}: a company card without a name")
    else:
        first = last = ""
        for prop in _props(component, "n"):
            n = prop.value
            first = " ".join(
                p
                for p in (_text(getattr(n, "given", "")), _text(getattr(n, "additional", "")))
                if p
            )
            last = _text(getattr(n, "family", ""))
            if first or last:
                break
        if not first and not last and fn:
            first, last = split_full_name(fn)
        if first:
            record["first_name"] = single_line("first_name", first)
        if last:
            record["last_name"] = single_line("last_name", last)
        if not first and not last:
            problems.append(f"{where}: a contact card without a name")
        title = _first(component, "title") or _first(component, "role")
        if title:
            record["job_title"] = single_line("job_title", title)
        if org_name:
            refs["account_id"] = single_line("account_id", org_name)
    _contact_channels(component, labels, record, extras, org=kind == "org")
    note = "\n".join(_text(p.value) for p in _props(component, "note") if _text(p.value))
    description = "\n\n".join(p for p in (note, "\n".join(extras)) if p)
    if description:
        record["description"] = description
    uid = _first(component, "uid")
    if uid:
        record["source_id"] = single_line("source_id", uid)
    rev = _first(component, "rev")
    if rev:
        when = parse_when(rev)
        if when is not None:
            record["modified_at"] = when_to_storage(when, tz, as_moment=True)
    _extensions(component, card, kind, tz)
    (result.accounts if kind == "org" else result.contacts).append(card)


def _extensions(component: Any, card: ParsedCard, kind: str, tz: tzinfo | None) -> None:
    """Read our X-TERMCRM-* properties back (fields vCard has no property for)."""
    record, refs = card.record, card.refs
    fields = ACCOUNT_FIELDS if kind == "org" else CONTACT_FIELDS
    for name, props in component.contents.items():
        if not name.upper().startswith(_X):
            continue
        field_name = name.upper()[len(_X) :].lower().replace("-", "_")
        value = _text(props[0].value) if props else ""
        if not value:
            continue
        if field_name == "account" and "account_id" in fields:
            # The account's id links exactly (two accounts may share the ORG name); the ORG
            # name is kept to link by when the id is not in the database or the file.
            org = refs.get("account_id")
            if org and org != value:
                card.ref_names["account_id"] = org
            refs["account_id"] = single_line("ref", value)
        elif field_name in ("parent_account", "primary_contact") and (field_name + "_id") in fields:
            refs.setdefault(field_name + "_id", single_line("ref", value))
        elif field_name == "relationship":
            relationship = to_relationship(value)
            if relationship:
                record["relationship"] = relationship
        elif field_name == "status":
            status = to_record_status(value)
            if status:
                record["status"] = status
        elif field_name in MOMENT_FIELDS:
            when = parse_when(value)
            if when is not None:
                record[field_name] = when_to_storage(when, tz, as_moment=True)
        elif field_name in fields and field_name not in record:
            record[field_name] = single_line(field_name, value)


# --------------------------------------------------------------------------- writing


def _rev(value: str) -> str | None:
    when = parse_when(value)
    if isinstance(when, datetime):
        return when_to_storage(when).replace("-", "").replace(":", "")
    return None


def _add(card: Any, name: str, value: Any, types: list[str] | None = None) -> None:
    if value is None or value == "" or value == []:
        return
    prop = card.add(name)
    prop.value = value
    if types:
        prop.type_param = types


def _add_common(card: Any, record: dict[str, Any], phone_types: list[str]) -> None:
    _add(card, "email", record.get("email"), ["work"])
    _add(card, "tel", record.get("phone"), phone_types)
    if any(
        record.get(f)
        for f in (
            "address_line1",
            "address_line2",
            "address_city",
            "address_state",
            "address_postal_code",
            "address_country",
        )
    ):
        _add(
            card,
            "adr",
            vobject.vcard.Address(
                street=record.get("address_line1") or "",
                extended=record.get("address_line2") or "",
                city=record.get("address_city") or "",
                region=record.get("address_state") or "",
                code=record.get("address_postal_code") or "",
                country=record.get("address_country") or "",
            ),
            ["work"],
        )
    _add(card, "note", record.get("description"))
    _add(card, "uid", str(record["id"]) if record.get("id") else None)
    rev = _rev(str(record.get("modified_at") or ""))
    _add(card, "rev", rev)


def _add_extensions(card: Any, record: dict[str, Any], names: tuple[str, ...]) -> None:
    for name in names:
        value = record.get(name)
        if value is not None and value != "":
            _add(card, _X.lower() + name.replace("_", "-"), str(value))


def export_vcards(
    contacts: list[dict[str, Any]], accounts: list[dict[str, Any]], account_names: dict[str, str]
) -> str:
    """vCard 4.0 text: one card per contact, one KIND:org card per account. UID = record id.

    `account_names` maps account ids to names, for a contact's ORG and an account's parent;
    a primary contact is named from `contacts` (or account_names). Fields vCard has no property
    for (owner, status, account number, relationship, industry, created_at, parent account,
    primary contact, a contact's account id) are written as X-TERMCRM-* properties, which
    parse_vcards reads back.
    """
    contact_names = {
        str(c["id"]): " ".join(p for p in (c.get("first_name"), c.get("last_name")) if p)
        for c in contacts
        if c.get("id")
    }
    out: list[str] = []
    for contact in contacts:
        card = vobject.vCard()
        card.add("version").value = "4.0"
        first, last = contact.get("first_name") or "", contact.get("last_name") or ""
        full = " ".join(p for p in (first, last) if p)
        card.add("fn").value = full or contact.get("email") or "(no name)"
        card.add("n").value = vobject.vcard.Name(family=last, given=first)
        account_id = contact.get("account_id")
        org = account_names.get(str(account_id)) if account_id else None
        if org:
            _add(card, "org", [org])
        if account_id:  # links exactly on import, even when two accounts share the ORG name
            _add(card, _X.lower() + "account", str(account_id))
        _add(card, "title", contact.get("job_title"))
        _add_common(card, contact, ["work", "voice"])
        _add(card, "tel", contact.get("mobile"), ["cell"])
        _add_extensions(card, contact, ("owner", "status", "created_at"))
        out.append(card.serialize())
    for account in accounts:
        card = vobject.vCard()
        card.add("version").value = "4.0"
        card.add("kind").value = "org"
        name = account.get("name") or ""
        card.add("fn").value = name or "(no name)"
        _add(card, "org", [name] if name else None)
        _add_common(card, account, ["work", "voice"])
        _add(card, "url", account.get("website"))
        _add_extensions(
            card,
            account,
            ("account_number", "relationship", "industry", "owner", "status", "created_at"),
        )
        parent = account.get("parent_account_id")
        if parent:
            _add(card, _X.lower() + "parent-account", account_names.get(str(parent)) or str(parent))
        primary = account.get("primary_contact_id")
        if primary:
            _add(
                card,
                _X.lower() + "primary-contact",
                contact_names.get(str(primary)) or account_names.get(str(primary)) or str(primary),
            )
        out.append(card.serialize())
    return "".join(out)
