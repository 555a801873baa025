"""Property tests for store.text (folding for search and duplicates) and for field validation."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from store.dates import to_storage
from store.model import (
    ACCOUNTS,
    CONTACTS,
    FIELDS,
    FieldSpec,
    check_field,
    clean,
    validate_fields,
)
from store.text import fold, name_key, tokens

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Combining accents people leave out when they type: grave, acute, circumflex, tilde, macron,
# breve, dot, diaeresis, ring, double acute, caron, cedilla, ogonek.
ACCENTS = "\u0300\u0301\u0302\u0303\u0304\u0306\u0307\u0308\u030a\u030b\u030c\u0327\u0328"

ascii_words = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=12
)


@st.composite
def accented(draw: st.DrawFn, word: str) -> str:
    """`word` with accents on some letters, composed (NFC) or not, as people may type it."""
    out = []
    for letter in word:
        out.append(letter)
        out.extend(draw(st.lists(st.sampled_from(ACCENTS), max_size=2)))
    text = "".join(out)
    return unicodedata.normalize(draw(st.sampled_from(["NFC", "NFD"])), text)


ALL_FIELD_SPECS = [spec for specs in FIELDS.values() for spec in specs]
EXTRA_SPECS = [
    FieldSpec("x", "X", kind, 10)
    for kind in ("text", "email", "phone", "url", "when", "bool", "enum", "ref")
]


# ---------------------------------------------------------------- fold


@SETTINGS
@given(st.text())
@example("㎂ ﬀ ǅ")  # compatibility characters that decompose to capitals
@example("İstanbul ΐ ẞ")
def test_fold_is_idempotent(text):
    assert fold(fold(text)) == fold(text)


@SETTINGS
@given(st.text())
@example("בְּרֵאשִׁית")  # Hebrew points
@example("مُحَمَّد")  # Arabic harakat
@example("Ἀθῆναι")
def test_fold_is_caseless_without_combining_marks_or_extra_space(text):
    folded = fold(text)
    assert folded == folded.casefold()
    assert not any(unicodedata.combining(ch) for ch in folded)
    assert folded == folded.strip()
    assert "  " not in folded
    assert not any(ch.isspace() and ch != " " for ch in folded)


@SETTINGS
@given(st.text(alphabet=st.characters(codec="latin-1")))
def test_fold_of_latin_text_is_lower_case_ascii_letters_for_letters(text):
    folded = fold(text)
    assert folded == folded.lower()
    for ch in folded:
        if ch.isalpha():
            assert "a" <= ch <= "z" or ch == "μ", ch  # µ (micro) folds to Greek mu


@SETTINGS
@given(st.data(), st.lists(ascii_words, min_size=1, max_size=4))
def test_accented_variants_fold_to_the_plain_word(data, words):
    variants = [data.draw(accented(w)) for w in words]
    assert fold(" ".join(variants)) == " ".join(words).lower()
    # ... and so a search typed without accents finds the accented record, and vice versa.
    haystack = fold("Name: " + " / ".join(variants) + " (somewhere)")
    for word, variant in zip(words, variants, strict=True):
        assert fold(word) in haystack
        assert fold(variant) in fold(" ".join(words))
    assert all(t in haystack for t in tokens(" ".join(words).upper()))


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("joao", "João"),
        ("sao paulo", "São  Paulo"),
        ("zoe", "Zoë"),
        ("orsted", "Ørsted"),
        ("strasse", "Straße"),
        ("lodz", "Łódź"),
        ("aeroskobing", "Ærøskøbing"),
        ("dvorak", "Dvořák"),
        ("francois", "FRANÇOIS"),
        ("munchen", "München"),
        ("istanbul", "İstanbul"),
    ],
)
def test_fold_examples(typed, stored):
    assert fold(typed) == fold(stored)
    assert fold(typed) in fold(f"x {stored} y")


def test_fold_of_empty_and_blank():
    assert fold("") == "" and fold("  \t\n ") == ""
    assert tokens("") == [] and tokens("   ") == []
    assert name_key("") == "" and name_key(" ,.; ") == ""


# ---------------------------------------------------------------- tokens


@SETTINGS
@given(st.text())
def test_tokens_are_the_folded_words(text):
    words = tokens(text)
    assert all(words)
    assert all(fold(w) == w and " " not in w for w in words)
    assert " ".join(words) == fold(text)


@SETTINGS
@given(st.lists(ascii_words, min_size=1, max_size=5))
def test_tokens_of_a_query_are_found_in_its_own_haystack(words):
    text = " \t ".join(words)
    haystack = fold(text)
    assert all(t in haystack for t in tokens(text))
    assert tokens(text) == [w.lower() for w in words]


# ---------------------------------------------------------------- name_key


@SETTINGS
@given(st.text())
def test_name_key_is_idempotent_and_folded(text):
    key = name_key(text)
    assert name_key(key) == key
    assert name_key(fold(text)) == key
    assert fold(key) == key
    assert all(ch.isalnum() for ch in key.replace(" ", ""))


@SETTINGS
@given(
    st.lists(ascii_words, min_size=1, max_size=4),
    st.lists(st.sampled_from([",", ".", "-", "&", "'", "!", "(", ")", "  "]), max_size=6),
    st.data(),
)
def test_name_key_ignores_case_accents_and_punctuation(words, marks, data):
    plain = " ".join(words)
    decorated_words = []
    for word in words:
        variant = data.draw(accented(word))
        if data.draw(st.booleans()):
            variant = variant.upper()
        decorated_words.append(variant + data.draw(st.sampled_from(["", ",", ".", "!"])))
    decorated = "  ".join(decorated_words) + "".join(marks)
    assert name_key(decorated) == name_key(plain) == plain.lower()


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("ACME, Inc.", "acme inc"),
        ("Acme Inc", "ACME INC."),
        ("São Paulo F.C.", "sao paulo fc"),
        ("O'Brien", "obrien"),
        ("Müller & Söhne", "muller sohne"),
    ],
)
def test_same_names(a, b):
    assert name_key(a) == name_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Acme Inc", "Acme Incorporated"),
        ("Acme", "Acne"),
        ("Ab Cd", "Abcd"),
    ],
)
def test_different_names(a, b):
    assert name_key(a) != name_key(b)


# ---------------------------------------------------------------- validation never raises


@SETTINGS
@given(
    st.sampled_from(ALL_FIELD_SPECS + EXTRA_SPECS),
    st.one_of(
        st.text(),
        st.text(max_size=400).map(lambda t: t * 3),
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.lists(st.text(), max_size=2),
    ),
)
def test_check_field_never_raises(spec, value):
    problem = check_field(spec, value)
    assert problem is None or (isinstance(problem, str) and problem)


@SETTINGS
@given(
    st.sampled_from([ACCOUNTS, CONTACTS, "activities"]),
    st.dictionaries(
        st.sampled_from(
            [
                "name",
                "first_name",
                "last_name",
                "email",
                "phone",
                "website",
                "type",
                "subject",
                "description",
                "due_at",
                "start_at",
                "end_at",
                "status",
                "regarding_id",
                "regarding_type",
                "bogus",
            ]
        ),
        st.one_of(st.text(), st.none(), st.booleans()),
        max_size=8,
    ),
)
def test_clean_and_validate_never_raise_and_name_fields(table, record):
    cleaned = clean(table, record)
    errors = validate_fields(table, cleaned)
    assert all(e.field and e.message for e in errors)
    assert {e.field for e in errors} <= set(record) | {
        "name",
        "last_name",
        "type",
        "subject",
        "description",
        "regarding_id",
        "end_at",
    }


@SETTINGS
@given(
    st.sampled_from(ALL_FIELD_SPECS),
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"),
        max_size=300,
    ),
)
def test_free_text_fields_accept_any_single_line_within_bounds(spec, value):
    if spec.kind != "text":
        return
    problem = check_field(spec, value)
    assert (problem is None) == (len(value) <= spec.max_len)


# ---------------------------------------------------------------- valid values are accepted


@SETTINGS
@given(st.emails().filter(lambda e: len(e) <= 254))
def test_generated_emails_are_accepted(email):
    spec = FIELDS[CONTACTS][[f.name for f in FIELDS[CONTACTS]].index("email")]
    assert check_field(spec, email) is None
    cleaned = clean(CONTACTS, {"email": f" {email} ", "last_name": "X"})
    assert cleaned["email"] == email.lower()
    assert validate_fields(CONTACTS, cleaned) == []


@SETTINGS
@given(
    st.datetimes(
        min_value=datetime(1900, 1, 1), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
    )
    | st.dates(min_value=date(1, 1, 1))
)
def test_stored_dates_are_accepted(value):
    spec = FieldSpec("due_at", "Due", "when")
    assert check_field(spec, to_storage(value)) is None


@SETTINGS
@given(st.from_regex(r"\+?[0-9]{1,3}( ?[0-9]{2,4}){2,4}( x[0-9]{1,4})?", fullmatch=True))
def test_generated_phone_numbers_are_accepted(phone):
    assert check_field(FieldSpec("phone", "Phone", "phone", 40), phone) is None


@SETTINGS
@given(
    st.from_regex(
        r"(https?://)?[a-z0-9]{1,10}(\.[a-z0-9]{1,10}){1,3}(/[a-z0-9_.~-]{0,10}){0,3}",
        fullmatch=True,
    )
)
def test_generated_web_addresses_are_accepted(url):
    assert check_field(FieldSpec("website", "Website", "url", 300), url) is None
