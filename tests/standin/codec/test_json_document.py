"""Request bodies are parsed as TF Serving's rapidjson reader does, and re-printed as its debug
JSON (``util/json_tensor.cc``, ``JsonValueToDebugString``; cases from ``json_tensor_test.cc``).

Expected offsets are the byte where rapidjson stopped, counted from the start of the body. The
stand-in reads bodies with python-rapidjson (rapidjson itself, in its recursive mode); where that
differs from TF Serving's iterative reader, the tests say so.
"""

from __future__ import annotations

import json
import math
import sys

import orjson
import pytest
import rapidjson
from hypothesis import given, settings
from hypothesis import strategies as st

from fashion.serving.codec import json_document
from fashion.serving.codec.json_document import (
    json_type_name,
    members,
    parse_json_document,
    utf8_bytes,
)
from fashion.serving.codec.json_writer import debug_json, encode_error, format_double, quote
from fashion.serving.status import Code, ServingStatusError


def parse_error(body: bytes) -> str:
    with pytest.raises(ServingStatusError) as caught:
        parse_json_document(body)
    assert caught.value.code == Code.INVALID_ARGUMENT
    assert caught.value.http_status == 400
    return caught.value.message


def test_empty_body_is_reported_without_offset() -> None:
    assert parse_error(b"") == "JSON Parse error: The document is empty"


def test_whitespace_only_body_is_empty_document_at_its_end() -> None:
    assert parse_error(b" \n\t") == "JSON Parse error: The document is empty. at offset: 3"


def test_assignment_syntax_is_an_invalid_value_at_offset_zero() -> None:
    assert parse_error(b"instances = [1, 2]") == "JSON Parse error: Invalid value. at offset: 0"


@pytest.mark.parametrize(
    ("body", "reason", "offset"),
    [
        (b'{"instances": [1, 2}', "Missing a comma or ']' after an array element.", 19),
        (b'{"a": 1 "b": 2}', "Missing a comma or '}' after an object member.", 8),
        (b'{"a": 1', "Missing a comma or '}' after an object member.", 7),
        (b"{1: 2}", "Missing a name for object member.", 1),
        (b"{'a': 1}", "Missing a name for object member.", 1),
        (b'{"a": 1,}', "Missing a name for object member.", 8),
        (b'{/* c */ "a": 1}', "Missing a name for object member.", 1),
        (b'{"a" 1}', "Missing a colon after a name of object member.", 5),
        (b'{"a": "abc', "Missing a closing quotation mark in string.", 10),
        (b'{"a": "\\x"}', "Invalid escape character in string.", 7),
        # rapidjson 1.1.0 said "Invalid escape character in string." for a raw control character.
        (b'{"a": "x\x01"}', "Invalid encoding in string.", 8),
        (b'{"a": "\\u12G4"}', "Incorrect hex digit after \\u escape in string.", 7),
        (b'{"a": "\\ud800"}', "The surrogate pair in string is invalid.", 7),
        (b'{"a": 1e400}', "Number too big to be stored in double.", 6),
        (b'{"a": -1e309}', "Number too big to be stored in double.", 6),
        (b'{"a": 0e400}', "Number too big to be stored in double.", 6),
        (b"1.", "Miss fraction part in number.", 2),
        (b'{"a": "\\ud800\\u0041"}', "The surrogate pair in string is invalid.", 7),
        (b'{"a": 1.}', "Miss fraction part in number.", 8),
        (b'{"a": 1.e5}', "Miss fraction part in number.", 8),
        (b'{"a": 1e}', "Miss exponent in number.", 8),
        (b'{"a": 1e+}', "Miss exponent in number.", 9),
        (b'{"a": [1,]}', "Invalid value.", 9),
        (b'{"a": -}', "Invalid value.", 7),
        (b'{"a": tru}', "Invalid value.", 9),
        (b'{"a": Nope}', "Invalid value.", 7),
        (b'{"a": }', "Invalid value.", 6),
        (b"[", "Invalid value.", 1),
        (b"{", "Missing a name for object member.", 1),
        # TF Serving's iterative reader says "The document is empty." here.
        (b"]", "Invalid value.", 0),
    ],
)
def test_parse_errors_name_rapidjsons_reason_and_byte_offset(
    body: bytes, reason: str, offset: int
) -> None:
    assert parse_error(body) == f"JSON Parse error: {reason} at offset: {offset}"


def test_offsets_count_bytes_not_characters() -> None:
    # "é" is two bytes, so the stray 2 sits at byte 9 (character 8).
    body = '{"é": 1 2}'.encode()
    expected = "JSON Parse error: Missing a comma or '}' after an object member. at offset: 9"
    assert parse_error(body) == expected


def test_byte_order_mark_is_skipped_but_counted_in_offsets() -> None:
    assert parse_json_document(b'\xef\xbb\xbf{"a": 1}').root == {"a": 1}
    expected = "JSON Parse error: Missing a colon after a name of object member. at offset: 8"
    assert parse_error(b'\xef\xbb\xbf{"a" 1}') == expected


def test_nul_byte_ends_the_input() -> None:
    assert parse_json_document(b'{"a": 1}\x00{{{').root == {"a": 1}
    assert parse_error(b'{"a": \x001}') == "JSON Parse error: Invalid value. at offset: 6"


def test_nan_and_infinity_tokens_are_numbers() -> None:
    root = parse_json_document(b'{"v": [NaN, Infinity, -Infinity, Inf, -Inf]}').root
    nan, inf, minus_inf, short_inf, short_minus_inf = root["v"]
    assert math.isnan(nan)
    assert (inf, minus_inf, short_inf, short_minus_inf) == (
        math.inf,
        -math.inf,
        math.inf,
        -math.inf,
    )


def test_lone_low_surrogate_escape_is_an_invalid_surrogate_pair() -> None:
    # rapidjson 1.1.0 accepted a lone \\uDC00; the rapidjson python-rapidjson binds rejects it.
    expected = "JSON Parse error: The surrogate pair in string is invalid. at offset: 7"
    assert parse_error(b'{"s": "\\udc00"}') == expected


def test_numbers_only_rapidjson_reads_are_accepted() -> None:
    root = parse_json_document(b'{"v": [10e308, -NaN, 1e-400]}').root
    big, nan, tiny = root["v"]
    assert big == math.inf
    assert math.isnan(nan)
    assert tiny == 0.0


def test_anything_after_the_first_value_is_ignored() -> None:
    assert parse_json_document(b'{"a": 1} trailing garbage').root == {"a": 1}
    assert parse_json_document(b'{"a": 1}{"b": 2}').root == {"a": 1}
    assert parse_json_document(b'{"a": 1}]').root == {"a": 1}


def test_duplicate_keys_first_occurrence_wins() -> None:
    root = parse_json_document(b'{"a": 1, "b": 0, "a": 2}').root
    assert root["a"] == 1
    assert list(members(root)) == [("a", 1), ("b", 0), ("a", 2)]


def test_duplicate_keys_first_occurrence_wins_when_nan_forces_the_slow_path() -> None:
    root = parse_json_document(b'{"a": [NaN], "a": [2.0]}').root
    assert math.isnan(root["a"][0])


def test_duplicate_keys_in_nested_objects_first_occurrence_wins() -> None:
    root = parse_json_document(b'{"x": [{"k": "first", "k": "second"}]}').root
    assert root["x"][0]["k"] == "first"


def test_nesting_a_few_hundred_levels_deep_is_read_and_rendered_as_debug_json() -> None:
    depth = 500
    body = b'{"d": ' + b"[" * depth + b"1" + b"]" * depth + b', "a": NaN}'
    root = parse_json_document(body).root
    value = root["d"]
    for _ in range(depth):
        value = value[0]
    assert value == 1
    assert debug_json(root["d"]) == "[" * 256


def test_nesting_beyond_python_rapidjsons_limit_is_read_without_a_depth_limit() -> None:
    # json_tensor_test.cc, DeeplyNestedWellFormed: 500 000 nested arrays in an ignored key.
    depth = 500_000
    body = b'{"instances":[1], "nested":' + b"[" * depth + b"]" * depth + b"} trailing"
    root = parse_json_document(body).root
    assert root["instances"] == [1]
    value, levels = root["nested"], 1
    while value:
        value, levels = value[0], levels + 1
    assert levels == depth


def test_a_deep_body_keeps_the_first_duplicate_and_rapidjsons_number_kinds() -> None:
    depth = 5_000
    body = b'{"a": 1, "a": 2.5, "d": ' + b"[" * depth + b"1e2, -3" + b"]" * depth + b"}"
    root = parse_json_document(body).root
    assert root["a"] == 1
    assert [key for key, _ in members(root)] == ["a", "a", "d"]
    value = root["d"]
    for _ in range(depth - 1):
        value = value[0]
    assert value == [100.0, -3]
    assert [type(item) for item in value] == [float, int]


@pytest.mark.parametrize(
    "inner", [b"NaN", b"1,", b"99999999999999999999999"], ids=["nan", "malformed", "int-overflow"]
)
def test_a_deep_body_yajl_cannot_read_is_a_400_deviation(inner: bytes) -> None:
    # Deviation: yajl reads standard JSON only; rapidjson's own text for such a body is out of
    # reach (python-rapidjson stops at the depth), so the stand-in says why it refuses.
    depth = 200_000
    body = b'{"ignored": ' + b"[" * depth + inner + b"]" * depth + b', "a": 1}'
    message = parse_error(body)
    assert message.startswith(
        "JSON Parse error: Nesting too deep for the TF Serving stand-in's JSON reader "
        "(python-rapidjson: Maximum parse recursion depth exceeded!) at offset: "
    )
    assert int(message.rsplit(" ", 1)[1]) > 500


def test_invalid_utf8_outside_strings_is_an_invalid_value_at_its_byte() -> None:
    assert parse_error(b'{"\xc3\xa9": \xff}') == "JSON Parse error: Invalid value. at offset: 7"
    expected = "JSON Parse error: Missing a comma or '}' after an object member. at offset: 9"
    assert parse_error(b'{"\xff\xfe": 1 2}') == expected


def test_invalid_utf8_in_strings_is_kept_byte_for_byte() -> None:
    root = parse_json_document(b'{"s": "\xff\xfe ok", "\xfe": [1]} trailing').root
    assert utf8_bytes(root["s"]) == b"\xff\xfe ok"
    assert [utf8_bytes(key) for key in root] == [b"s", b"\xfe"]


def test_integers_beyond_uint64_become_doubles() -> None:
    extremes = b'"max": 18446744073709551615, "min": -9223372036854775808'
    body = b'{"big": 18446744073709551616, ' + extremes + b"}"
    for root in (parse_json_document(body).root, parse_json_document(body + b"{").root):
        assert isinstance(root["big"], float)
        assert root["max"] == 18446744073709551615
        assert root["min"] == -9223372036854775808
        assert isinstance(parse_json_document(b"[-9223372036854775809, NaN]").root[0], float)
    assert json_type_name(root["max"]) == "Number"


def test_json_type_names_are_rapidjsons() -> None:
    root = parse_json_document(b'{"v": [null, false, true, {}, [], "s", 1, 1.5]}').root
    assert [json_type_name(v) for v in root["v"]] == [
        "Null",
        "False",
        "True",
        "Object",
        "Array",
        "String",
        "Number",
        "Number",
    ]


def test_debug_json_writes_objects_on_lines_and_arrays_on_one_line() -> None:
    root = parse_json_document(b'{"instances": [[1, 2], [3]]}').root
    assert debug_json(root) == '{\n    "instances": [[1, 2], [3]]\n}'


def test_debug_json_reprints_numbers_as_rapidjson_does() -> None:
    root = parse_json_document(b'{"a": 1.50, "b": 1e2, "c": -0, "d": 1e-7, "e": 1e21}').root
    assert debug_json(root) == (
        '{\n    "a": 1.5,\n    "b": 100.0,\n    "c": 0,\n    "d": 1e-7,\n    "e": 1e21\n}'
    )


def test_debug_json_nests_objects_with_four_space_indent() -> None:
    root = parse_json_document(b'{"a": {"b": {}}, "c": [{"d": "x"}]}').root
    assert debug_json(root) == (
        '{\n    "a": {\n        "b": {}\n    },\n    "c": [{\n            "d": "x"\n        }]\n}'
    )


def test_debug_json_shows_every_duplicate_member() -> None:
    root = parse_json_document(b'{"a": 1, "a": 2}').root
    assert debug_json(root) == '{\n    "a": 1,\n    "a": 2\n}'


def test_debug_json_is_cut_once_256_bytes_are_written() -> None:
    root = parse_json_document(b'{"instances": [' + b", ".join([b"1"] * 300) + b"]}").root
    # '{\n    "instances": [' is 20 bytes, then "1" and 79 more ", 1" until 256 is passed.
    assert debug_json(root) == '{\n    "instances": [' + ", ".join(["1"] * 80)


def test_debug_json_stops_at_a_non_finite_number() -> None:
    root = parse_json_document(b'{"a": [1, NaN, 2]}').root
    assert debug_json(root) == '{\n    "a": [1, '


def test_debug_json_escapes_strings_like_rapidjson() -> None:
    assert debug_json('a"b\\c\n\x01/é') == '"a\\"b\\\\c\\n\\u0001/é"'


def test_quote_uses_upper_case_hex_for_control_characters() -> None:
    assert quote("\x1f\x7f") == '"\\u001F\x7f"'


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.5, "1.5"),
        (100.0, "100.0"),
        (1e20, "100000000000000000000.0"),
        (1e21, "1e21"),
        (1.5e-6, "0.0000015"),
        (1e-7, "1e-7"),
        (1.2345e30, "1.2345e30"),
        (-0.0, "-0.0"),
        (math.nan, None),
    ],
)
def test_format_double_matches_rapidjsons_dtoa(value: float, text: str | None) -> None:
    assert format_double(value) == text


def test_error_body_is_rapidjsons_pretty_object_without_trailing_newline() -> None:
    assert encode_error("Servable not found for request: Latest(half)") == (
        b'{\n    "error": "Servable not found for request: Latest(half)"\n}'
    )


def test_error_body_escapes_quotes_backslashes_and_control_characters() -> None:
    assert encode_error('say "hi"\\\n\t/é') == (
        b'{\n    "error": "say \\"hi\\"\\\\\\n\\t/\xc3\xa9"\n}'
    )


# --- the fast and exact paths agree with each other and with rapidjson ------------------------

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
    else:
        assert parse_error(text.encode()) == verdict


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


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            b'{"ignored": ' + b"[" * 5000,
            "JSON Parse error: Nesting too deep for the TF Serving stand-in's JSON reader "
            "(python-rapidjson: Maximum parse recursion depth exceeded!) at offset: {12+limit}",
        ),
        (
            b'{"s": "[[{{\\" [", "x": ' + b"[" * 5000,
            "JSON Parse error: Nesting too deep for the TF Serving stand-in's JSON reader "
            "(python-rapidjson: Maximum parse recursion depth exceeded!) at offset: {23+limit}",
        ),
        (
            b'{"instances": [1, "99", -' + b"9" * 5000 + b"]}",
            "JSON Parse error: Number too big to be stored in double. at offset: 24",
        ),
    ],
    ids=["nesting", "nesting-after-a-string-of-brackets", "5000-digits"],
)
def test_offsets_python_rapidjson_leaves_out_on_python_3_12_are_found(
    monkeypatch: pytest.MonkeyPatch, body: bytes, expected: str
) -> None:
    # From Python 3.12 on, python-rapidjson (1.25 and earlier) raises its handler's errors
    # without "Parse error at offset N: "; this decoder does so on every Python.
    real = json_document._DECODER

    def without_offsets(data: bytes) -> object:
        try:
            return real(data)
        except (RecursionError, ValueError) as exc:
            reason = str(exc).split(": ", 1)[-1]
            if isinstance(exc, RecursionError) or reason == "Invalid integer value":
                raise type(exc)(reason) from None
            raise

    monkeypatch.setattr(json_document, "_DECODER", without_offsets)
    limit = sys.getrecursionlimit()
    for name, value in (("{12+limit}", 12 + limit), ("{23+limit}", 23 + limit)):
        expected = expected.replace(name, str(value))
    assert parse_error(body) == expected
