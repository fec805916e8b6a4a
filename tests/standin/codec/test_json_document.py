"""Request bodies are parsed as TF Serving's rapidjson reader does, and re-printed as its debug
JSON (``util/json_tensor.cc``, ``JsonValueToDebugString``; cases from ``json_tensor_test.cc``).

Expected offsets are the byte where rapidjson stopped, counted from the start of the body. The
stand-in reads bodies with python-rapidjson (rapidjson itself, in its recursive mode); where that
differs from TF Serving's iterative reader, the tests say so.
"""

from __future__ import annotations

import math
import sys

import pytest

from fashion.serving.codec import json_document
from fashion.serving.codec.json_document import (
    json_type_name,
    members,
    parse_json_document,
    utf8_bytes,
)
from fashion.serving.codec.json_writer import debug_json
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
