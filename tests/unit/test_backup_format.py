"""A backup's item lines: every DynamoDB attribute value comes back from its JSON exactly, and
a value that is none is refused naming the attribute, never showing what it holds."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsroom_tools.backup import decode_value, encode_item, encode_value

# A number is kept as the text DynamoDB gives (it never goes through float).
numbers = st.decimals(allow_nan=False, allow_infinity=False).map(str)
texts = st.text(max_size=20)
scalars = st.one_of(
    st.builds(lambda s: {"S": s}, texts),
    st.builds(lambda n: {"N": n}, numbers),
    st.builds(lambda b: {"B": b}, st.binary(max_size=20)),
    st.builds(lambda b: {"BOOL": b}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(lambda s: {"SS": sorted(s)}, st.sets(texts, min_size=1, max_size=4)),
    st.builds(lambda s: {"NS": sorted(s)}, st.sets(numbers, min_size=1, max_size=4)),
    st.builds(lambda s: {"BS": sorted(s)}, st.sets(st.binary(max_size=8), min_size=1, max_size=4)),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.builds(lambda items: {"L": items}, st.lists(inner, max_size=4)),
        st.builds(lambda fields: {"M": fields}, st.dictionaries(texts, inner, max_size=4)),
    ),
    max_leaves=12,
)


@given(values)
def test_every_attribute_value_comes_back_from_its_json_line_exactly(value: dict[str, Any]) -> None:
    line = json.dumps(encode_value(value), ensure_ascii=False)
    assert decode_value(json.loads(line), "a") == value


def test_a_map_may_name_its_fields_as_attribute_types() -> None:
    value = {"M": {"B": {"S": "not binary"}, "N": {"L": [{"S": "not a number"}]}}}
    assert decode_value(json.loads(json.dumps(encode_value(value))), "a") == value


def test_binary_is_written_as_base64() -> None:
    assert encode_item({"blob": {"B": b"\x00\xff"}}) == {"blob": {"B": "AP8="}}


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({"N": "12 secret@example.org"}, "profile.n: not a valid N value"),
        ({"N": "NaN"}, "profile.n: not a valid N value"),
        ({"B": "secret@example.org"}, "profile.n: binary that is not base64"),
        ({"SS": []}, "profile.n: not a valid SS value"),
        ({"SS": ["secret@example.org", "secret@example.org"]}, "a set of distinct strings"),
        ({"NS": ["1", "secret@example.org"]}, "a number set holds something else"),
        ({"S": "secret@example.org", "N": "1"}, "profile.n: not a typed attribute value"),
        ({"X": "secret@example.org"}, "profile.n: unknown attribute type 'X'"),
        ({"BOOL": "secret@example.org"}, "profile.n: not a valid BOOL value"),
        ({"NULL": False}, "profile.n: not a valid NULL value"),
        ("secret@example.org", "profile.n: not a typed attribute value"),
    ],
)
def test_a_value_that_is_not_an_attribute_value_is_refused_by_its_path_only(
    value: Any, problem: str
) -> None:
    with pytest.raises(ValueError, match=r"^profile\.n: ") as refused:
        decode_value({"M": {"n": value}}, "profile")
    assert problem in str(refused.value)
    assert "secret" not in str(refused.value)
