"""Integer parts too long for rapidjson's double: "Number too big to be stored in double."

rapidjson (the reader TF Serving's ``util/json_tensor.cc`` uses) gives up in the integer part of
a number once its value reaches ``DBL_MAX / 10``, and reports the offset where it stopped. The
stand-in's scan for such digit runs lives in ``fashion/serving/codec/json_numbers.py``; these
tests go through :func:`parse_json_document`, as a request body does.
"""

from __future__ import annotations

import math

import pytest

from fashion.serving.codec.json_document import parse_json_document
from fashion.serving.status import Code, ServingStatusError

_TOO_BIG = "JSON Parse error: Number too big to be stored in double. at offset: "


def _parse_error(body: bytes) -> str:
    with pytest.raises(ServingStatusError) as info:
        parse_json_document(body)
    assert info.value.code is Code.INVALID_ARGUMENT
    return info.value.message


@pytest.mark.parametrize(
    ("number", "too_big"),
    [
        (b"1" * 308, False),  # 308 digits never reach the check
        (b"9" * 308, False),
        (b"1" * 309, False),  # 1.1e307 before the last digit: under DBL_MAX / 10
        (b"2" * 309, True),  # 2.2e307 before the last digit
        (b"1" * 310, True),
        (b"-" + b"2" * 309, True),
        (b"2" * 309 + b".5", True),  # stopped in the integer part, before the fraction
        (b"9" * 400 + b"e-300", True),
        (b"9" * 5000, True),  # past Python's int conversion limit as well
    ],
)
def test_a_long_integer_part_is_number_too_big_exactly_where_rapidjson_gives_up(
    number: bytes, too_big: bool
) -> None:
    body = b'{"instances": [' + number + b"]}"
    if too_big:
        assert _parse_error(body) == _TOO_BIG + "15"
    else:
        (value,) = parse_json_document(body).root["instances"]
        assert math.isfinite(value)
        assert value > 1e300


def test_the_first_too_big_number_counts_even_in_an_ignored_key() -> None:
    body = b'{"other": [1, -' + b"3" * 320 + b'], "instances": [' + b"4" * 320 + b"]}"
    assert _parse_error(body) == _TOO_BIG + "14"


def test_long_digit_runs_inside_strings_are_not_numbers() -> None:
    body = b'{"instances": ["' + b"9" * 400 + b'"]}'
    assert parse_json_document(body).root["instances"] == ["9" * 400]


def test_a_too_big_number_before_a_syntax_error_is_the_error_reported() -> None:
    assert _parse_error(b'{"instances": [' + b"5" * 320 + b"], x}") == _TOO_BIG + "15"


def test_a_syntax_error_before_a_too_big_number_is_the_error_reported() -> None:
    message = _parse_error(b'{"instances": [1], x, "y": ' + b"5" * 320 + b"}")
    assert message == "JSON Parse error: Missing a name for object member. at offset: 19"
