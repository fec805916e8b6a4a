"""Any body, valid or damaged, parses as rapidjson's reader parses it, on either path.

The stand-in takes orjson's values (the fast path) only when it can prove rapidjson reads the body
alike, and otherwise parses with python-rapidjson (the exact path); whichever path a body takes,
it must give rapidjson's values, or fail with rapidjson's reason at rapidjson's byte offset.
Property tests over generated documents and single-character damage to them.
"""

from __future__ import annotations

import json

import orjson
import pytest
import rapidjson
from hypothesis import given, settings
from hypothesis import strategies as st

from fashion.serving.codec.json_document import parse_json_document
from fashion.serving.status import ServingStatusError

_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=5), children, max_size=5)
    ),
    max_leaves=30,
)
_JSON_CHARACTERS = st.sampled_from([*'{}[]:,"\\ \n0123456789.eE+-truefalsnINaify', "\x01"])


def rapidjson_verdict(text: str) -> str | None:
    """The parse error rapidjson gives for ``text`` (trailing data ignored), or None."""
    data = text.encode()
    try:
        rapidjson.loads(data, number_mode=rapidjson.NM_NAN)
    except rapidjson.JSONDecodeError as exc:
        where, reason = str(exc).removeprefix("Parse error at offset ").split(": ", 1)
        if reason != "The document root must not be followed by other values.":
            return f"JSON Parse error: {reason} at offset: {where}"
        return rapidjson_verdict(data[: int(where)].decode())
    return None


def assert_parsed_as_rapidjson_would(text: str) -> None:
    verdict = rapidjson_verdict(text)
    if verdict is None:
        parse_json_document(text.encode())
        return
    with pytest.raises(ServingStatusError) as caught:
        parse_json_document(text.encode())
    assert caught.value.message == verdict


@settings(derandomize=True, max_examples=300, deadline=None)
@given(value=_JSON_VALUES)
def test_valid_documents_parse_to_the_same_values_on_both_paths(value: object) -> None:
    for body in (json.dumps({"v": value}).encode(), orjson.dumps({"v": value})):
        expected = json.loads(body)
        assert parse_json_document(body).root == expected
        # Trailing data makes orjson refuse the body, so this goes through the exact path.
        assert parse_json_document(body + b" trailing").root == expected


@settings(derandomize=True, max_examples=500, deadline=None)
@given(text=st.text(_JSON_CHARACTERS, min_size=1, max_size=24))
def test_any_body_fails_exactly_where_rapidjsons_reader_fails(text: str) -> None:
    assert_parsed_as_rapidjson_would(text)


@settings(derandomize=True, max_examples=400, deadline=None)
@given(
    value=_JSON_VALUES,
    position=st.floats(min_value=0, max_value=1),
    edit=st.sampled_from(["insert", "delete", "replace"]),
    character=_JSON_CHARACTERS,
)
def test_a_damaged_document_fails_exactly_where_rapidjsons_reader_fails(
    value: object, position: float, edit: str, character: str
) -> None:
    text = json.dumps({"instances": [value, [value, {"k": value}]]})
    at = int(position * (len(text) - 1))
    if edit == "insert":
        text = text[:at] + character + text[at:]
    elif edit == "delete":
        text = text[:at] + text[at + 1 :]
    else:
        text = text[:at] + character + text[at + 1 :]
    assert_parsed_as_rapidjson_would(text)
