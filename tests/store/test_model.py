"""Field-level rules (store.model), checked directly and through CRM.create / CRM.update."""

from __future__ import annotations

import pytest

from store.model import (
    ACCOUNTS,
    ACTIVITIES,
    CONTACTS,
    FIELD_BY_NAME,
    FIELDS,
    ActivityStatus,
    ActivityType,
    Direction,
    Priority,
    RecordStatus,
    RegardingType,
    Relationship,
    ValidationFailed,
    check_field,
    clean,
    display_name,
    validate_fields,
)


def error_fields(excinfo: pytest.ExceptionInfo[ValidationFailed]) -> set[str]:
    return {e.field for e in excinfo.value.errors}


def only_error(excinfo: pytest.ExceptionInfo[ValidationFailed], field: str) -> str:
    """The message of the single error, which must be about `field`."""
    assert [e.field for e in excinfo.value.errors] == [field], excinfo.value.errors
    return excinfo.value.errors[0].message


# ---------------------------------------------------------------- emails


@pytest.mark.parametrize(
    "email",
    [
        "ada@example.com",
        "first.last+tag@mail.example.co.uk",
        "o'brien@example.ie",
        "x_y-z@sub-domain.example.org",
        "ADA@EXAMPLE.COM",
    ],
)
def test_valid_emails_are_accepted_and_lower_cased(crm, email):
    record = crm.create(CONTACTS, {"last_name": "L", "email": f"  {email} "}).record
    assert record["email"] == email.lower()


@pytest.mark.parametrize(
    "email",
    [
        "plainaddress",
        "ada@",
        "@example.com",
        "ada@example",
        "ada@@example.com",
        "ada@exa mple.com",
        "ada example@x.com",
        "ada@example.com>",
        "<ada@example.com>",
        "ada@ex,ample.com",
        "a@b@c.com",
        "ada@example.com\nbcc@evil.com",
    ],
)
def test_invalid_emails_are_refused_naming_the_field(crm, email):
    for table, fields in ((CONTACTS, {"last_name": "L"}), (ACCOUNTS, {"name": "N"})):
        with pytest.raises(ValidationFailed) as excinfo:
            crm.create(table, {**fields, "email": email})
        assert only_error(excinfo, "email")
    assert crm.count(CONTACTS) == crm.count(ACCOUNTS) == 0


def test_activity_email_from_is_checked(crm, make):
    account = make.account()
    with pytest.raises(ValidationFailed) as excinfo:
        make.activity(account, type="email", email_from="not an email")
    assert only_error(excinfo, "email_from")


# ---------------------------------------------------------------- phones


@pytest.mark.parametrize(
    "phone",
    [
        "+47 22 33 44 55",
        "(555) 123-4567",
        "555.123.4567",
        "+1 555 123 4567 x12",
        "+1 555 123 4567 ext. 3",
        "0800/123456",
    ],
)
def test_valid_phones_are_accepted(crm, phone):
    record = crm.create(CONTACTS, {"last_name": "L", "phone": phone, "mobile": phone}).record
    assert record["phone"] == record["mobile"] == phone


@pytest.mark.parametrize(
    "phone",
    [
        "call me",
        "12",
        "555-CALL-NOW",
        "+47 22 33 44 55 ext",
        "phone: 555 1234",
        "555 1234\n555 9999",
        "---",
        "( ) .",
    ],
)
def test_invalid_phones_are_refused(crm, phone):
    with pytest.raises(ValidationFailed) as excinfo:
        crm.create(ACCOUNTS, {"name": "N", "phone": phone})
    assert only_error(excinfo, "phone")
    with pytest.raises(ValidationFailed) as excinfo:
        crm.create(CONTACTS, {"last_name": "L", "mobile": phone})
    assert only_error(excinfo, "mobile")


# ---------------------------------------------------------------- web addresses


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com",
        "http://example.com/path?q=1#x",
        "example.co.uk",
        "www.example.com:8080/a/b",
        "HTTPS://EXAMPLE.COM",
    ],
)
def test_valid_urls_are_accepted(crm, url):
    assert crm.create(ACCOUNTS, {"name": "N", "website": url}).record["website"] == url


@pytest.mark.parametrize(
    "url",
    [
        "not a url",
        "ftp://example.com",
        "http://",
        "example",
        "javascript:alert(1)",
        "https://exa mple.com",
        "https://example.com/a b",
    ],
)
def test_invalid_urls_are_refused(crm, url):
    with pytest.raises(ValidationFailed) as excinfo:
        crm.create(ACCOUNTS, {"name": "N", "website": url})
    assert only_error(excinfo, "website")


# ---------------------------------------------------------------- dates


@pytest.mark.parametrize("field", ["due_at", "start_at", "end_at"])
@pytest.mark.parametrize("value", ["2026-12-03", "2026-12-03T14:00:00Z"])
def test_stored_dates_are_accepted(make, field, value):
    record = make.activity(make.account(), type="appointment", **{field: value})
    assert record[field] == value


@pytest.mark.parametrize("field", ["due_at", "start_at", "end_at", "completed_at"])
@pytest.mark.parametrize(
    "value",
    [
        "tomorrow",
        "2026-02-30",
        "2026-13-01",
        "2026-12-03 14:00",
        "2026-12-03T14:00:00",
        "2026-12-03T14:00:00+01:00",
        "03/12/2026",
        "2026-12-03T25:00:00Z",
    ],
)
def test_invalid_dates_are_refused(crm, make, field, value):
    account = make.account()
    before = crm.count(ACTIVITIES)
    with pytest.raises(ValidationFailed) as excinfo:
        make.activity(account, type="task", status="completed", **{field: value})
    assert field in error_fields(excinfo)
    assert crm.count(ACTIVITIES) == before


def test_end_before_start_is_refused(make):
    with pytest.raises(ValidationFailed) as excinfo:
        make.activity(
            make.account(),
            type="appointment",
            start_at="2026-12-03T14:00:00Z",
            end_at="2026-12-03T13:00:00Z",
        )
    assert only_error(excinfo, "end_at")


# ---------------------------------------------------------------- lengths and kinds


def test_account_name_is_bounded_at_160(crm):
    assert crm.create(ACCOUNTS, {"name": "x" * 160}).record["name"] == "x" * 160
    with pytest.raises(ValidationFailed) as excinfo:
        crm.create(ACCOUNTS, {"name": "y" * 161})
    assert "160" in only_error(excinfo, "name")
    assert crm.count(ACCOUNTS) == 1


@pytest.mark.parametrize("table", [ACCOUNTS, CONTACTS, ACTIVITIES])
def test_every_text_field_is_bounded(table):
    for spec in FIELDS[table]:
        if spec.kind not in ("text", "email", "phone", "url"):
            continue
        problem = check_field(spec, "a" * (spec.max_len + 1))
        assert problem and str(spec.max_len) in problem, spec.name


def test_single_line_fields_refuse_newlines_and_description_keeps_them(crm):
    with pytest.raises(ValidationFailed) as excinfo:
        crm.create(ACCOUNTS, {"name": "Two\nlines"})
    assert only_error(excinfo, "name")
    record = crm.create(ACCOUNTS, {"name": "N", "description": "one\ntwo\n"}).record
    assert record["description"] == "one\ntwo"


def test_non_text_values_are_refused(crm):
    with pytest.raises(ValidationFailed) as excinfo:
        crm.create(ACCOUNTS, {"name": 42})
    assert error_fields(excinfo) == {"name"}
    account = crm.create(ACCOUNTS, {"name": "N"}).record
    with pytest.raises(ValidationFailed) as excinfo:
        crm.create(
            ACTIVITIES,
            {
                "type": "appointment",
                "subject": "S",
                "all_day": "yes",
                "regarding_type": "account",
                "regarding_id": account["id"],
            },
        )
    assert only_error(excinfo, "all_day")
    ok = crm.create(
        ACTIVITIES,
        {
            "type": "appointment",
            "subject": "S",
            "all_day": True,
            "regarding_type": "account",
            "regarding_id": account["id"],
        },
    )
    assert ok.record["all_day"] is True


def test_unknown_fields_are_refused_by_name(crm):
    with pytest.raises(ValidationFailed) as excinfo:
        crm.create(ACCOUNTS, {"name": "N", "colour": "red"})
    assert "account" in only_error(excinfo, "colour")


# ---------------------------------------------------------------- enumerations


@pytest.mark.parametrize(
    ("table", "field", "enum"),
    [
        (ACCOUNTS, "relationship", Relationship),
        (ACCOUNTS, "status", RecordStatus),
        (CONTACTS, "status", RecordStatus),
        (ACTIVITIES, "type", ActivityType),
        (ACTIVITIES, "status", ActivityStatus),
        (ACTIVITIES, "priority", Priority),
        (ACTIVITIES, "direction", Direction),
        (ACTIVITIES, "regarding_type", RegardingType),
    ],
)
def test_enum_fields_accept_their_values_only(table, field, enum):
    spec = FIELD_BY_NAME[table][field]
    for value in enum:
        assert check_field(spec, value.value) is None
    for bad in ("friend", "CUSTOMER", "Active", "open ", "1"):
        problem = check_field(spec, bad)
        assert problem and bad in problem


def test_unknown_enum_values_are_refused_on_save(crm, make):
    with pytest.raises(ValidationFailed) as excinfo:
        crm.create(ACCOUNTS, {"name": "N", "relationship": "friend"})
    assert only_error(excinfo, "relationship")
    with pytest.raises(ValidationFailed) as excinfo:
        crm.create(CONTACTS, {"last_name": "L", "status": "archived"})
    assert only_error(excinfo, "status")
    account = make.account()
    with pytest.raises(ValidationFailed) as excinfo:
        make.activity(account, type="task", priority="urgent")
    assert only_error(excinfo, "priority")
    with pytest.raises(ValidationFailed) as excinfo:
        make.activity(account, type="fax")
    assert error_fields(excinfo) == {"type"}
    with pytest.raises(ValidationFailed) as excinfo:
        crm.update(ACCOUNTS, account["id"], {"relationship": "frenemy"})
    assert only_error(excinfo, "relationship")
    assert crm.get(ACCOUNTS, account["id"]) == account


# ---------------------------------------------------------------- every error names its field


def test_every_error_names_its_field(crm):
    with pytest.raises(ValidationFailed) as excinfo:
        crm.create(
            ACCOUNTS,
            {
                "name": "x" * 200,
                "email": "nope",
                "phone": "nope",
                "website": "nope",
                "relationship": "nope",
                "address_postal_code": "1" * 21,
            },
        )
    assert error_fields(excinfo) == {
        "name",
        "email",
        "phone",
        "website",
        "relationship",
        "address_postal_code",
    }
    failed = excinfo.value
    for name in error_fields(excinfo):
        assert failed.for_field(name)
        assert f"{name}: " in str(failed)
    assert failed.for_field("industry") is None


def test_validate_fields_reports_one_error_per_bad_field():
    errors = validate_fields(CONTACTS, {"email": "x", "mobile": "y", "job_title": "z" * 101})
    assert sorted(e.field for e in errors) == ["email", "job_title", "last_name", "mobile"]


# ---------------------------------------------------------------- required fields


@pytest.mark.parametrize("name", [None, "", "   ", "\t"])
def test_account_requires_a_name(crm, name):
    fields = {} if name is None else {"name": name}
    with pytest.raises(ValidationFailed) as excinfo:
        crm.create(ACCOUNTS, fields)
    assert "required" in only_error(excinfo, "name")


def test_update_cannot_clear_the_account_name(crm, make):
    account = make.account("Acme")
    for cleared in (None, "", "  "):
        with pytest.raises(ValidationFailed) as excinfo:
            crm.update(ACCOUNTS, account["id"], {"name": cleared})
        assert only_error(excinfo, "name")
    assert crm.get(ACCOUNTS, account["id"])["name"] == "Acme"


def test_contact_needs_a_first_or_a_last_name(crm):
    assert crm.create(CONTACTS, {"first_name": "Cher"}).record["first_name"] == "Cher"
    assert crm.create(CONTACTS, {"last_name": "Banksy"}).record["last_name"] == "Banksy"
    with pytest.raises(ValidationFailed) as excinfo:
        crm.create(CONTACTS, {"first_name": " ", "email": "a@b.co"})
    assert only_error(excinfo, "last_name")
    assert crm.count(CONTACTS) == 2


@pytest.mark.parametrize("kind", ["email", "phone_call", "appointment", "task"])
def test_activity_subject_is_required_except_for_notes(crm, make, kind):
    account = make.account()
    with pytest.raises(ValidationFailed) as excinfo:
        make.activity(account, type=kind, subject="  ", description="has text")
    assert "required" in only_error(excinfo, "subject")


def test_notes_need_text_but_no_subject(crm, make):
    account = make.account()
    note = make.activity(account, type="note", subject="", description="Met at the fair")
    assert "subject" not in note and note["description"] == "Met at the fair"
    assert display_name(ACTIVITIES, note) == "Met at the fair"
    with pytest.raises(ValidationFailed) as excinfo:
        make.activity(account, type="note", subject="", description=" ")
    assert only_error(excinfo, "description")


def test_activity_requires_type_and_regarding(crm, make):
    account = make.account()
    with pytest.raises(ValidationFailed) as excinfo:
        crm.create(
            ACTIVITIES, {"subject": "S", "regarding_type": "account", "regarding_id": account["id"]}
        )
    assert only_error(excinfo, "type")
    with pytest.raises(ValidationFailed) as excinfo:
        crm.create(ACTIVITIES, {"type": "task", "subject": "S"})
    assert only_error(excinfo, "regarding_id")
    with pytest.raises(ValidationFailed) as excinfo:
        crm.create(ACTIVITIES, {"type": "task", "subject": "S", "regarding_id": account["id"]})
    assert only_error(excinfo, "regarding_id")


# ---------------------------------------------------------------- cleaning


def test_clean_strips_and_maps_empty_to_none():
    cleaned = clean(
        CONTACTS,
        {
            "first_name": "  Ada ",
            "last_name": "",
            "email": " A@B.CO ",
            "description": "\n  indented\nbody\n\n",
            "phone": None,
        },
    )
    assert cleaned == {
        "first_name": "Ada",
        "last_name": None,
        "email": "a@b.co",
        "description": "indented\nbody",
        "phone": None,
    }


def test_empty_fields_are_not_stored(crm):
    record = crm.create(
        ACCOUNTS, {"name": "N", "industry": "", "email": "   ", "phone": None}
    ).record
    assert not {"industry", "email", "phone"} & record.keys()
    assert crm.get(ACCOUNTS, record["id"]) == record
