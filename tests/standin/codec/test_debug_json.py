"""Request values re-printed as TF Serving's debug JSON, and error bodies as its writer prints them.

``JsonValueToDebugString`` (``util/json_tensor.cc``) names a bad value in an error message:
objects on lines with four-space indents, arrays on one line, numbers as rapidjson's ``dtoa``
writes them, cut once 256 bytes are written. The error body is rapidjson's pretty writer's
``{"error": ...}`` without a trailing newline.
"""

from __future__ import annotations

import math

import pytest

from fashion.serving.codec.json_document import parse_json_document
from fashion.serving.codec.json_writer import debug_json, encode_error, format_double, quote


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
