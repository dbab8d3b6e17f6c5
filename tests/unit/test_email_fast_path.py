"""The plain-address path of the comment form's email check (newsroom.models.comments
.plain_email) says nothing the email validator would not: every address it answers, the
validator accepts and normalises the same way."""

from __future__ import annotations

import email_validator
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic.networks import validate_email

from newsroom.models.comments import SPECIAL_USE_DOMAINS, CommentIn, plain_email

_ATOM = st.text("aZ09_+-", min_size=1, max_size=12)
_LABEL = st.text("abcXYZ019-", min_size=1, max_size=12)
_TLD = st.sampled_from(["com", "org", "Co", "uk", "test", "local", "x", "a1", "123", "onion"])
CANDIDATES = st.builds(
    lambda atoms, labels, tld: ".".join(atoms) + "@" + ".".join([*labels, tld]),
    st.lists(_ATOM, min_size=1, max_size=3),
    st.lists(_LABEL, min_size=1, max_size=3),
    _TLD,
) | st.text("ab.@-_+1 <>xn", max_size=30)


@given(CANDIDATES)
def test_an_address_the_plain_path_answers_is_one_the_validator_gives_the_same(
    value: str,
) -> None:
    answered = plain_email(value)

    if answered is not None:
        assert validate_email(value)[1] == answered


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("Ada.Lovelace@Example.ORG", "Ada.Lovelace@example.org"),
        ("reader+news@mail.example.co.uk", "reader+news@mail.example.co.uk"),
        ("a_b-c@x-y.example", "a_b-c@x-y.example"),
    ],
)
def test_plain_addresses_skip_the_validator(value: str, normalised: str) -> None:
    assert plain_email(value) == normalised
    assert validate_email(value)[1] == normalised


@pytest.mark.parametrize(
    "value",
    [
        "Ada <ada@example.org>",  # a display name: the validator's
        " ada@example.org",
        "ada@ab--c.com",
        "ada@xn--bcher-kva.example",  # Punycode
        "ada@example.test",  # special use
        "ada@1.2",
        "ada@localhost",
        "a..b@example.org",
        "ada@example.org.",
        "josé@example.org",
        "ada@bücher.example",
        "a" * 65 + "@example.org",
        "ada@" + "a" * 250 + ".org",
        "ada@example.org\n",
    ],
)
def test_anything_else_goes_to_the_validator(value: str) -> None:
    assert plain_email(value) is None


def test_the_special_use_names_are_the_validators() -> None:
    assert frozenset(email_validator.SPECIAL_USE_DOMAIN_NAMES) == SPECIAL_USE_DOMAINS


@pytest.mark.parametrize(
    "email", ["Ada <ada@example.org>", "ada@bücher.example", "Ada@Example.ORG", "a+b@x.co"]
)
def test_the_form_stores_what_the_validator_alone_made_of_the_address(email: str) -> None:
    # Before the plain path: pydantic's check, then the address in ASCII for SES
    before = email_validator.validate_email(
        validate_email(email)[1], check_deliverability=False
    ).ascii_email

    form = CommentIn.model_validate({"author_name": "Ada", "author_email": email, "body": "Hi"})

    assert form.author_email == before
