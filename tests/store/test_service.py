"""Rules that span records (store.service.CRM): references, hierarchy, deletion, activity status,
duplicates, versions and conflicts. Every test runs against a real database file."""

from __future__ import annotations

import re

import pytest

from store.model import ACCOUNTS, ACTIVITIES, CONTACTS, ValidationFailed
from store.service import (
    CRM,
    AmbiguousError,
    ConflictError,
    DependentsError,
    NotFoundError,
)

STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def only_error(excinfo: pytest.ExceptionInfo[ValidationFailed], field: str) -> str:
    assert [e.field for e in excinfo.value.errors] == [field], excinfo.value.errors
    return excinfo.value.errors[0].message


def reopened(crm: CRM, user: str = "carol") -> CRM:
    return CRM.open(crm.location, user=user)


# ---------------------------------------------------------------- stamps and versions


def test_create_stamps_the_record(crm):
    record = crm.create(ACCOUNTS, {"name": "Acme"}).record
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{26}", record["id"])
    assert record["version"] == 1
    assert record["created_by"] == record["modified_by"] == "alice"
    assert STAMP.match(record["created_at"]) and record["modified_at"] == record["created_at"]
    assert record["owner"] == "alice" and record["status"] == "active"
    assert reopened(crm).get(ACCOUNTS, record["id"]) == record


def test_version_increments_on_every_save_and_modified_by_is_the_user(crm, db):
    record = crm.create(ACCOUNTS, {"name": "Acme"}).record
    bob = CRM.open(db, user="bob")
    for expected, (who, name) in enumerate([(bob, "B1"), (crm, "A2"), (bob, "B3")], start=2):
        saved = who.update(ACCOUNTS, record["id"], {"name": name}).record
        assert saved["version"] == expected
        assert saved["modified_by"] == who.user
        assert saved["created_by"] == "alice"
        assert saved["created_at"] == record["created_at"]
    assert reopened(crm).get(ACCOUNTS, record["id"])["version"] == 4


def test_system_fields_cannot_be_overwritten(crm):
    record = crm.create(
        ACCOUNTS, {"name": "Acme", "id": "mine", "version": 99, "created_by": "mallory"}
    ).record
    assert record["id"] != "mine" and record["version"] == 1
    assert record["created_by"] == "alice"
    saved = crm.update(
        ACCOUNTS, record["id"], {"id": "x", "version": 50, "created_by": "m", "name": "Acme 2"}
    ).record
    assert saved["id"] == record["id"] and saved["version"] == 2
    assert saved["created_by"] == "alice"


def test_update_clears_fields_with_none_or_empty(crm):
    record = crm.create(
        ACCOUNTS, {"name": "Acme", "industry": "Anvils", "phone": "+1 555 0100"}
    ).record
    saved = crm.update(ACCOUNTS, record["id"], {"industry": None, "phone": ""}).record
    assert "industry" not in saved and "phone" not in saved
    assert reopened(crm).get(ACCOUNTS, record["id"]) == saved


def test_failed_update_changes_nothing(crm):
    record = crm.create(ACCOUNTS, {"name": "Acme"}).record
    with pytest.raises(ValidationFailed):
        crm.update(ACCOUNTS, record["id"], {"email": "bad", "name": "New"})
    assert crm.get(ACCOUNTS, record["id"]) == record
    assert reopened(crm).get(ACCOUNTS, record["id"]) == record


def test_update_of_missing_record_is_not_found(crm):
    with pytest.raises(NotFoundError):
        crm.update(ACCOUNTS, "01NOTTHERE0000000000000000", {"name": "x"})


# ---------------------------------------------------------------- conflicts


def test_stale_expected_version_raises_conflict_with_theirs(crm, db):
    record = crm.create(ACCOUNTS, {"name": "Acme"}).record
    bob = CRM.open(db, user="bob")
    bob.update(ACCOUNTS, record["id"], {"name": "Bob's Acme"}, expected_version=1)
    with pytest.raises(ConflictError) as excinfo:
        crm.update(ACCOUNTS, record["id"], {"name": "Alice's Acme"}, expected_version=1)
    conflict = excinfo.value
    assert conflict.theirs["name"] == "Bob's Acme" and conflict.theirs["version"] == 2
    assert conflict.theirs["modified_by"] == "bob"
    assert conflict.mine["name"] == "Alice's Acme"
    assert "bob" in str(conflict)
    # Nothing was written; the caught-up copy is Bob's, and saving on top of it works.
    assert crm.get(ACCOUNTS, record["id"])["name"] == "Bob's Acme"
    saved = crm.update(ACCOUNTS, record["id"], {"name": "Merged"}, expected_version=2).record
    assert saved["version"] == 3
    assert reopened(crm).get(ACCOUNTS, record["id"])["name"] == "Merged"


def test_update_of_record_deleted_meanwhile(crm, db):
    record = crm.create(ACCOUNTS, {"name": "Acme"}).record
    bob = CRM.open(db, user="bob")
    bob.delete(ACCOUNTS, record["id"])
    with pytest.raises(ConflictError) as excinfo:
        crm.update(ACCOUNTS, record["id"], {"name": "x"}, expected_version=1)
    assert excinfo.value.theirs is None and "deleted" in str(excinfo.value)
    with pytest.raises(NotFoundError):
        crm.update(ACCOUNTS, record["id"], {"name": "x"})
    assert crm.get(ACCOUNTS, record["id"]) is None
    assert reopened(crm).count(ACCOUNTS) == 0


def test_set_status_with_stale_version_conflicts(crm, make, db):
    task = make.activity(make.account(), type="task")
    bob = CRM.open(db, user="bob")
    bob.set_status(task["id"], "canceled", expected_version=1)
    with pytest.raises(ConflictError) as excinfo:
        crm.set_status(task["id"], "completed", expected_version=1)
    assert excinfo.value.theirs["status"] == "canceled"


# ---------------------------------------------------------------- references


def test_regarding_must_exist(crm, make):
    account = make.account()
    contact = make.contact(account_id=account["id"])
    for regarding_type, regarding_id in [
        ("account", "01NOPE00000000000000000000"),
        ("contact", account["id"]),
        ("account", contact["id"]),
    ]:
        with pytest.raises(ValidationFailed) as excinfo:
            crm.create(
                ACTIVITIES,
                {
                    "type": "task",
                    "subject": "S",
                    "regarding_type": regarding_type,
                    "regarding_id": regarding_id,
                },
            )
        assert only_error(excinfo, "regarding_id")
    ok = crm.create(
        ACTIVITIES,
        {
            "type": "task",
            "subject": "S",
            "regarding_type": "contact",
            "regarding_id": contact["id"],
        },
    )
    assert ok.record["regarding_id"] == contact["id"]
    with pytest.raises(ValidationFailed) as excinfo:
        crm.update(ACTIVITIES, ok.record["id"], {"regarding_id": "01NOPE00000000000000000000"})
    assert only_error(excinfo, "regarding_id")
    assert crm.count(ACTIVITIES) == 1


def test_log_activity_resolves_regarding_by_name(crm, make):
    account = make.account("Globex")
    contact = make.contact("Hank", "Scorpio", account_id=account["id"])
    note = crm.log_activity("note", "globex", {"description": "hello"}).record
    assert (note["regarding_type"], note["regarding_id"]) == ("account", account["id"])
    call = crm.log_activity("phone_call", "hank scorpio", {"subject": "Call"}).record
    assert (call["regarding_type"], call["regarding_id"]) == ("contact", contact["id"])
    with pytest.raises(NotFoundError):
        crm.log_activity("note", "nobody", {"description": "x"})
    make.account("Hank Scorpio")
    with pytest.raises(AmbiguousError):
        crm.log_activity("note", "Hank Scorpio", {"description": "x"})


def test_contact_account_must_exist(crm, make):
    with pytest.raises(ValidationFailed) as excinfo:
        make.contact(account_id="01NOPE00000000000000000000")
    assert only_error(excinfo, "account_id")
    contact = make.contact()
    with pytest.raises(ValidationFailed) as excinfo:
        crm.update(CONTACTS, contact["id"], {"account_id": contact["id"]})
    assert only_error(excinfo, "account_id")
    assert "account_id" not in crm.get(CONTACTS, contact["id"])


def test_parent_account_must_exist(crm, make):
    with pytest.raises(ValidationFailed) as excinfo:
        make.account("Child", parent_account_id="01NOPE00000000000000000000")
    assert only_error(excinfo, "parent_account_id")
    assert crm.count(ACCOUNTS) == 0


def test_account_cannot_be_its_own_parent(crm, make):
    account = make.account()
    with pytest.raises(ValidationFailed) as excinfo:
        crm.update(ACCOUNTS, account["id"], {"parent_account_id": account["id"]})
    assert only_error(excinfo, "parent_account_id")


def test_two_account_cycle_is_refused(crm, make):
    a = make.account("A")
    b = make.account("B", parent_account_id=a["id"])
    with pytest.raises(ValidationFailed) as excinfo:
        crm.update(ACCOUNTS, a["id"], {"parent_account_id": b["id"]})
    assert "loop" in only_error(excinfo, "parent_account_id")
    assert "parent_account_id" not in crm.get(ACCOUNTS, a["id"])


def test_deep_cycle_is_refused_but_a_tree_is_fine(crm, make):
    top = make.account("Top")
    chain = [top]
    for depth in range(6):
        chain.append(make.account(f"Level {depth}", parent_account_id=chain[-1]["id"]))
    for lower in chain[1:]:
        with pytest.raises(ValidationFailed) as excinfo:
            crm.update(ACCOUNTS, top["id"], {"parent_account_id": lower["id"]})
        assert only_error(excinfo, "parent_account_id")
    # Moving a middle account under a sibling branch is fine (no loop).
    other = make.account("Other", parent_account_id=top["id"])
    moved = crm.update(ACCOUNTS, chain[3]["id"], {"parent_account_id": other["id"]}).record
    assert moved["parent_account_id"] == other["id"]
    assert crm.check() == []


def test_cycle_check_sees_other_processes_changes(crm, make, db):
    a = make.account("A")
    b = make.account("B")
    bob = CRM.open(db, user="bob")
    bob.update(ACCOUNTS, b["id"], {"parent_account_id": a["id"]})
    # Alice has not refreshed: she still sees B without a parent, but the rule runs on the
    # latest committed data.
    with pytest.raises(ValidationFailed):
        crm.update(ACCOUNTS, a["id"], {"parent_account_id": b["id"]})
    assert reopened(crm).check() == []


def test_primary_contact_must_be_a_contact(crm, make):
    account = make.account("Acme")
    other = make.account("Other")
    with pytest.raises(ValidationFailed) as excinfo:
        crm.update(ACCOUNTS, account["id"], {"primary_contact_id": other["id"]})
    assert only_error(excinfo, "primary_contact_id")
    with pytest.raises(ValidationFailed) as excinfo:
        make.account("New", primary_contact_id="01NOPE00000000000000000000")
    assert only_error(excinfo, "primary_contact_id")


def test_primary_contact_of_another_account_is_a_warning(crm, make):
    acme = make.account("Acme")
    globex = make.account("Globex")
    own = make.contact("Wile", "Coyote", account_id=acme["id"])
    foreign = make.contact("Hank", "Scorpio", account_id=globex["id"])
    loose = make.contact("No", "Account")
    result = crm.update(ACCOUNTS, acme["id"], {"primary_contact_id": own["id"]})
    assert result.warnings == []
    result = crm.update(ACCOUNTS, acme["id"], {"primary_contact_id": foreign["id"]})
    assert result.record["primary_contact_id"] == foreign["id"]
    assert len(result.warnings) == 1 and "Hank Scorpio" in result.warnings[0]
    result = crm.create(ACCOUNTS, {"name": "Initech", "primary_contact_id": loose["id"]})
    assert any("No Account" in w for w in result.warnings)
    assert crm.get(ACCOUNTS, result.record["id"])["primary_contact_id"] == loose["id"]


# ---------------------------------------------------------------- activity status


def test_default_statuses_and_completion_stamp(crm, make):
    account = make.account()
    task = make.activity(account, type="task")
    assert task["status"] == "open" and "completed_at" not in task
    assert task["priority"] == "normal"
    call = make.activity(account, type="phone_call", subject="Rang")
    assert call["status"] == "completed" and STAMP.match(call["completed_at"])
    note = make.activity(account, type="note", subject="", description="text")
    assert "priority" not in note


def test_completing_sets_completed_at_and_reopening_clears_it(crm, make):
    task = make.activity(make.account(), type="task")
    done = crm.set_status(task["id"], "completed").record
    assert done["status"] == "completed" and STAMP.match(done["completed_at"])
    assert done["version"] == 2
    again = crm.set_status(task["id"], "open").record
    assert again["status"] == "open" and "completed_at" not in again
    assert again["version"] == 3
    assert "completed_at" not in reopened(crm).get(ACTIVITIES, task["id"])


@pytest.mark.parametrize("final", ["completed", "canceled"])
def test_completed_and_canceled_can_be_reopened(crm, make, final):
    task = make.activity(make.account(), type="task")
    crm.set_status(task["id"], final)
    reopened_task = crm.set_status(task["id"], "open").record
    assert reopened_task["status"] == "open"
    assert "completed_at" not in reopened_task
    assert task["id"] in {a["id"] for a in crm.agenda().no_date}


def test_canceling_does_not_stamp_completion(crm, make):
    task = make.activity(make.account(), type="task")
    canceled = crm.set_status(task["id"], "canceled").record
    assert canceled["status"] == "canceled" and "completed_at" not in canceled
    completed = crm.set_status(task["id"], "completed").record
    assert STAMP.match(completed["completed_at"])
    recanceled = crm.set_status(task["id"], "canceled").record
    assert "completed_at" not in recanceled


def test_recompleting_gets_a_new_stamp(crm, make):
    task = make.activity(make.account(), type="task")
    first = crm.set_status(task["id"], "completed").record
    # Pretend it was completed long ago, then reopen and complete again.
    crm.update(ACTIVITIES, task["id"], {"completed_at": "2001-01-01T00:00:00Z"})
    assert crm.get(ACTIVITIES, task["id"])["completed_at"] == "2001-01-01T00:00:00Z"
    crm.set_status(task["id"], "open")
    second = crm.set_status(task["id"], "completed").record
    assert second["completed_at"] >= first["completed_at"] > "2001"


def test_invalid_status_is_refused(crm, make):
    task = make.activity(make.account(), type="task")
    with pytest.raises(ValidationFailed) as excinfo:
        crm.set_status(task["id"], "done")
    assert only_error(excinfo, "status")
    assert crm.get(ACTIVITIES, task["id"]) == task


# ---------------------------------------------------------------- duplicates


def test_duplicate_email_any_case_is_warned(crm, make):
    first = make.contact("Ada", "Lovelace", email="ada@example.com")
    result = crm.create(
        CONTACTS, {"first_name": "Augusta", "last_name": "King", "email": "ADA@Example.COM"}
    )
    assert len(result.warnings) == 1 and first["id"] in result.warnings[0]
    assert [d["id"] for d in crm.duplicates(CONTACTS, {"email": "Ada@EXAMPLE.com"})] == sorted(
        [first["id"], result.record["id"]]
    )


@pytest.mark.parametrize("variant", ["acme inc", "ACME INC.", "Acme,   Inc", " acme  inc "])
def test_duplicate_normalised_name_is_warned(crm, make, variant):
    first = make.account("ACME, Inc.")
    result = crm.create(ACCOUNTS, {"name": variant})
    assert len(result.warnings) == 1
    assert first["id"] in result.warnings[0] and "ACME, Inc." in result.warnings[0]
    assert crm.count(ACCOUNTS) == 2  # a warning, not a refusal


def test_duplicate_contact_name_accent_insensitive(crm, make):
    first = make.contact("João", "Silva")
    result = crm.create(CONTACTS, {"first_name": "joao", "last_name": "SILVA"})
    assert [first["id"] in w for w in result.warnings] == [True]


def test_no_duplicate_warning_for_distinct_records(crm, make):
    make.account("Acme Inc", email="info@acme.test")
    result = crm.create(ACCOUNTS, {"name": "Acme Incorporated", "email": "sales@acme.test"})
    assert result.warnings == []


def test_duplicate_index_follows_renames(crm, make):
    first = make.account("Acme")
    crm.update(ACCOUNTS, first["id"], {"name": "Globex"})
    assert crm.create(ACCOUNTS, {"name": "acme"}).warnings == []
    assert len(crm.create(ACCOUNTS, {"name": "GLOBEX"}).warnings) == 1


def test_resolve_by_id_source_id_name_and_email(crm, make):
    a = make.account("Acme", email="info@acme.test", source_id="SF-1")
    assert crm.resolve(ACCOUNTS, a["id"]) == a["id"]
    assert crm.resolve(ACCOUNTS, "SF-1") == a["id"]
    assert crm.resolve(ACCOUNTS, " acme ") == a["id"]
    assert crm.resolve(ACCOUNTS, "INFO@acme.test") == a["id"]
    with pytest.raises(NotFoundError):
        crm.resolve(ACCOUNTS, "nobody")
    make.account("ACME")
    with pytest.raises(AmbiguousError) as excinfo:
        crm.resolve(ACCOUNTS, "acme")
    assert len(excinfo.value.candidates) == 2


# ---------------------------------------------------------------- deletion


def test_delete_without_dependants(crm, make):
    account = make.account()
    assert crm.dependants(ACCOUNTS, account["id"]) == {}
    assert crm.delete(ACCOUNTS, account["id"]) == 1
    assert crm.get(ACCOUNTS, account["id"]) is None
    assert reopened(crm).count(ACCOUNTS) == 0
    with pytest.raises(NotFoundError):
        crm.delete(ACCOUNTS, account["id"])


@pytest.fixture
def family(crm, make):
    """parent <- acme <- (sub1, sub2); acme has 2 contacts; activities on acme and a contact."""
    parent = make.account("Parent")
    acme = make.account("Acme", parent_account_id=parent["id"])
    sub1 = make.account("Sub One", parent_account_id=acme["id"])
    sub2 = make.account("Sub Two", parent_account_id=acme["id"])
    c1 = make.contact("Wile", "Coyote", account_id=acme["id"])
    c2 = make.contact("Road", "Runner", account_id=acme["id"])
    acme = crm.update(ACCOUNTS, acme["id"], {"primary_contact_id": c1["id"]}).record
    a1 = make.activity(acme, type="task", subject="On acme")
    a2 = make.activity(c1, type="phone_call", subject="On Wile")
    return dict(parent=parent, acme=acme, sub1=sub1, sub2=sub2, c1=c1, c2=c2, a1=a1, a2=a2)


def test_dependants_are_counted(crm, family):
    assert crm.dependants(ACCOUNTS, family["acme"]["id"]) == {
        "contacts": 2,
        "subsidiaries": 2,
        "activities": 1,
    }
    assert crm.dependants(CONTACTS, family["c1"]["id"]) == {"activities": 1}
    assert crm.dependants(CONTACTS, family["c2"]["id"]) == {}


@pytest.mark.parametrize(
    "choices",
    [
        {},
        {"contacts": "detach", "subsidiaries": "detach"},
        {"contacts": "detach", "activities": "delete"},
        {"subsidiaries": "reparent", "activities": "delete"},
        {"contacts": "bogus", "subsidiaries": "detach", "activities": "delete"},
        {"contacts": "detach", "subsidiaries": "bogus", "activities": "delete"},
    ],
)
def test_delete_with_dependants_needs_every_choice(crm, family, choices):
    acme = family["acme"]
    with pytest.raises(DependentsError) as excinfo:
        crm.delete(ACCOUNTS, acme["id"], **choices)
    assert excinfo.value.counts == {"contacts": 2, "subsidiaries": 2, "activities": 1}
    assert crm.get(ACCOUNTS, acme["id"]) == acme
    assert reopened(crm).count(ACCOUNTS) == 4


def test_delete_contacts_needs_the_activities_choice_for_their_activities(crm, make):
    account = make.account()
    contact = make.contact(account_id=account["id"])
    make.activity(contact, type="task")
    with pytest.raises(DependentsError):
        crm.delete(ACCOUNTS, account["id"], contacts="delete")
    assert crm.count(CONTACTS) == 1
    assert crm.delete(ACCOUNTS, account["id"], contacts="delete", activities="delete") == 3
    assert crm.count(ACCOUNTS) == crm.count(CONTACTS) == crm.count(ACTIVITIES) == 0


def test_delete_contact_with_activities(crm, family):
    c1 = family["c1"]
    with pytest.raises(DependentsError) as excinfo:
        crm.delete(CONTACTS, c1["id"])
    assert excinfo.value.counts == {"activities": 1}
    assert crm.delete(CONTACTS, c1["id"], activities="delete") == 2
    assert crm.get(ACTIVITIES, family["a2"]["id"]) is None
    assert crm.get(ACTIVITIES, family["a1"]["id"]) is not None


def test_delete_account_detaching_contacts_and_subsidiaries(crm, family):
    acme = family["acme"]
    removed = crm.delete(
        ACCOUNTS, acme["id"], contacts="detach", subsidiaries="detach", activities="delete"
    )
    assert removed == 2  # the account and its activity
    for key in ("c1", "c2"):
        contact = crm.get(CONTACTS, family[key]["id"])
        assert "account_id" not in contact
        assert contact["version"] == family[key]["version"] + 1
    for key in ("sub1", "sub2"):
        assert "parent_account_id" not in crm.get(ACCOUNTS, family[key]["id"])
    assert crm.get(ACTIVITIES, family["a1"]["id"]) is None
    assert crm.get(ACTIVITIES, family["a2"]["id"]) is not None  # the contact's stays
    assert crm.check() == []
    assert reopened(crm).check() == []
    assert reopened(crm).count(CONTACTS) == 2


def test_delete_account_deleting_contacts_and_reparenting(crm, family):
    acme = family["acme"]
    removed = crm.delete(
        ACCOUNTS, acme["id"], contacts="delete", subsidiaries="reparent", activities="delete"
    )
    assert removed == 5  # acme, 2 contacts, 2 activities
    assert crm.count(CONTACTS) == crm.count(ACTIVITIES) == 0
    for key in ("sub1", "sub2"):
        assert crm.get(ACCOUNTS, family[key]["id"])["parent_account_id"] == family["parent"]["id"]
    assert {r["id"] for r in crm.subsidiaries(family["parent"]["id"])} == {
        family["sub1"]["id"],
        family["sub2"]["id"],
    }
    assert crm.check() == []
    fresh = reopened(crm)
    assert fresh.check() == [] and fresh.count(ACCOUNTS) == 3


def test_reparent_without_grandparent_detaches(crm, family):
    crm.delete(ACCOUNTS, family["parent"]["id"], subsidiaries="reparent")
    assert "parent_account_id" not in crm.get(ACCOUNTS, family["acme"]["id"])
    assert crm.check() == []


def test_deleting_a_contact_clears_primary_contact_on_other_accounts(crm, make):
    acme = make.account("Acme")
    globex = make.account("Globex")
    contact = make.contact(account_id=acme["id"])
    crm.update(ACCOUNTS, acme["id"], {"primary_contact_id": contact["id"]})
    crm.update(ACCOUNTS, globex["id"], {"primary_contact_id": contact["id"]})
    crm.delete(CONTACTS, contact["id"])
    assert "primary_contact_id" not in crm.get(ACCOUNTS, acme["id"])
    assert "primary_contact_id" not in crm.get(ACCOUNTS, globex["id"])
    assert crm.get(ACCOUNTS, globex["id"])["version"] == 3
    assert crm.check() == []
    assert reopened(crm).check() == []


def test_deleting_contacts_with_their_account_clears_foreign_primary_contacts(crm, family, make):
    # Sub One names a contact of its parent as its primary contact (a warning, allowed); Other
    # does too. Deleting the parent with its contacts must leave nothing dangling, and Sub One
    # must be detached *and* lose its primary contact in the same save.
    sub1 = crm.update(
        ACCOUNTS, family["sub1"]["id"], {"primary_contact_id": family["c2"]["id"]}
    ).record
    other = make.account("Other", primary_contact_id=family["c1"]["id"])
    crm.delete(
        ACCOUNTS,
        family["acme"]["id"],
        contacts="delete",
        subsidiaries="detach",
        activities="delete",
    )
    saved_sub = crm.get(ACCOUNTS, sub1["id"])
    assert "parent_account_id" not in saved_sub
    assert "primary_contact_id" not in saved_sub
    assert saved_sub["version"] == sub1["version"] + 1
    assert "primary_contact_id" not in crm.get(ACCOUNTS, other["id"])
    assert crm.check() == []
    assert reopened(crm).check() == []


def test_delete_activity(crm, family):
    assert crm.delete(ACTIVITIES, family["a1"]["id"]) == 1
    assert crm.timeline(family["acme"]["id"]) == []
    assert crm.dependants(ACCOUNTS, family["acme"]["id"]).get("activities") is None


def test_nothing_dangles_after_many_deletes(crm, make):
    accounts = [make.account(f"Account {i}") for i in range(6)]
    for i in range(1, 6):
        crm.update(ACCOUNTS, accounts[i]["id"], {"parent_account_id": accounts[i // 2]["id"]})
    contacts = [make.contact(f"C{i}", "X", account_id=accounts[i % 6]["id"]) for i in range(12)]
    for i, account in enumerate(accounts):
        crm.update(ACCOUNTS, account["id"], {"primary_contact_id": contacts[(i + 3) % 12]["id"]})
    for record in accounts + contacts:
        make.activity(record, type="task")
    crm.delete(
        ACCOUNTS, accounts[1]["id"], contacts="delete", subsidiaries="reparent", activities="delete"
    )
    crm.delete(
        ACCOUNTS, accounts[0]["id"], contacts="detach", subsidiaries="detach", activities="delete"
    )
    crm.delete(CONTACTS, contacts[5]["id"], activities="delete")
    assert crm.check() == []
    assert reopened(crm).check() == []


def test_check_reports_dangling_references(crm, make):
    # Write a damaged database directly (as an import of bad data might) and look at check().
    account = make.account("Acme")
    tables = {
        ACCOUNTS: {
            account["id"]: {
                **account,
                "parent_account_id": "gone-1",
                "primary_contact_id": "gone-2",
            }
        },
        CONTACTS: {"c": {"id": "c", "last_name": "X", "account_id": "gone-3"}},
        ACTIVITIES: {
            "t": {
                "id": "t",
                "type": "task",
                "subject": "S",
                "regarding_type": "contact",
                "regarding_id": "gone-4",
            }
        },
    }
    crm.replace_all(tables)
    problems = {str(p) for p in crm.check()}
    assert any("gone-1" in p for p in problems)
    assert any("gone-2" in p for p in problems)
    assert any("gone-3" in p for p in problems)
    assert any("gone-4" in p for p in problems)
    assert len(reopened(crm).check()) == 4


# ---------------------------------------------------------------- who deleted a record


def test_deleted_by_names_the_other_user_and_the_time(crm, make, db):
    record = make.account()
    bob = CRM.open(db, user="bob")
    bob.delete(ACCOUNTS, record["id"])
    assert bob.deleted_by(record["id"]).by == "bob"  # the deleting process knows at once
    with pytest.raises(ConflictError):  # a save catches up first, and learns who
        crm.update(ACCOUNTS, record["id"], {"name": "x"}, expected_version=1)
    deleted = crm.deleted_by(record["id"])
    assert deleted is not None and deleted.by == "bob" and STAMP.match(deleted.at)
    assert reopened(crm).deleted_by(record["id"]).by == "bob"  # from the journal on disk
    assert crm.deleted_by(make.account("Kept")["id"]) is None


def test_deleted_by_covers_dependants_deleted_with_a_record(crm, family, db):
    bob = CRM.open(db, user="bob")
    bob.delete(
        ACCOUNTS,
        family["acme"]["id"],
        contacts="delete",
        subsidiaries="detach",
        activities="delete",
    )
    crm.refresh()
    assert crm.deleted_by(family["c1"]["id"]).by == "bob"
    assert crm.deleted_by(family["a2"]["id"]).by == "bob"
    assert crm.deleted_by(family["sub1"]["id"]) is None  # detached, not deleted


def test_a_file_reader_sees_another_process_save_at_once(crm, make, db_path):
    """Every process reads the one index beside the database, which each writer brings up
    to date: another process's delete shows at once, as on a server; who deleted it is
    known once a refresh has read the journal entry."""
    record = make.account()
    bob = CRM.open(db_path, user="bob")
    bob.delete(ACCOUNTS, record["id"])
    assert crm.get(ACCOUNTS, record["id"]) is None
    crm.refresh()
    assert crm.deleted_by(record["id"]).by == "bob"


def test_journal_entries_without_a_deleter_still_load(crm, make, db_path):
    """Journals written before deletes named their user (and by other programs): no user."""
    record = make.account()
    journal = next(db_path.parent.glob(db_path.name + ".journal-*"))
    with open(journal, "ab") as out:
        out.write(b'{"ops":[["del","accounts","%s"]]}\n' % record["id"].encode())
    crm.refresh()
    assert crm.get(ACCOUNTS, record["id"]) is None
    assert crm.deleted_by(record["id"]) is None
