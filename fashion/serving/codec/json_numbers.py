"""Long digit runs in a JSON body: integers beyond 64 bits and rapidjson's "Number too big".

rapidjson 1.1.0 (``Reader::ParseNumber``) reads the integer digits of a number into a 64-bit
integer while they fit, then into a double, and gives up with that error, at the number's first
byte, when the double has reached DBL_MAX / 10 and another digit follows. python-rapidjson reads
such digits into a Python int instead (and past 4,300 digits fails with "Invalid integer value"),
so the stand-in finds these numbers itself. Only integer parts of 309 digits or more can fail.
"""

from __future__ import annotations

import re

__all__ = [
    "NUMBER_TOO_BIG",
    "first_number_too_big",
    "has_long_integer",
    "may_hide_a_number_too_big",
]

NUMBER_TOO_BIG = "Number too big to be stored in double."

_DIGITS_AS_ZEROS = bytes.maketrans(b"123456789", b"000000000")
_LONG_DIGIT_RUN = b"0" * 19
_ZEROS = re.compile(b"0*")
_LONG_INTEGER_PART = b"0" * 309
_DIGITS_AND_POINT = b"0123456789."
_EXPONENT_MINUS = ((b"e", re.compile(rb"e-")), (b"E", re.compile(rb"E-")))
# Strings are matched whole so that digits inside them are skipped.
_STRING_OR_NUMBER = re.compile(rb'"(?:[^"\\]|\\.)*"|(-?)([0-9]+)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?')
_DOUBLE_LIMIT = 1.7976931348623157e307
_UINT64_CUT, _UINT64_LAST = 1844674407370955161, ord("5")
_INT64_CUT, _INT64_LAST = 922337203685477580, ord("8")


def _too_big(digits: bytes, negative: bool) -> bool:
    """Whether rapidjson's integer-part loop stops these digits with "Number too big"."""
    cut, last = (_INT64_CUT, _INT64_LAST) if negative else (_UINT64_CUT, _UINT64_LAST)
    whole, position = 0, 0
    for position, digit in enumerate(digits):  # noqa: B007 - position is used after the loop
        if whole >= cut and (whole != cut or digit > last):
            break
        whole = whole * 10 + digit - 48
    else:
        return False
    value = float(whole)
    for digit in digits[position:]:
        if value >= _DOUBLE_LIMIT:
            return True
        value = value * 10 + (digit - 48)
    return False


def first_number_too_big(data: bytes, end: int | None = None) -> int | None:
    """Offset of the first number in ``data[:end]`` that rapidjson refuses as too big, or None.

    ``data[:end]`` must be JSON that rapidjson read without error up to ``end`` (so that strings
    are closed); the scan runs only when some digit run is long enough to matter.
    """
    head = data if end is None else data[:end]
    if head.translate(_DIGITS_AS_ZEROS).find(_LONG_INTEGER_PART) < 0:  # 1.6 ms for 2.4 MB
        return None
    for match in _STRING_OR_NUMBER.finditer(head):
        digits = match.group(2)
        if digits is not None and len(digits) >= 309 and _too_big(digits, bool(match.group(1))):
            return match.start()
    return None


def may_hide_a_number_too_big(data: bytes) -> bool:
    """Whether orjson might read as finite a number that rapidjson refuses as too big.

    Such a number has an integer part of 309 digits or more, so unless a negative exponent
    scales it down it is at least DBL_MAX, which orjson refuses as well. So only the numbers
    before an ``e-`` are measured: a few substring searches, cheap enough for every request (a
    full scan costs milliseconds on large bodies). Missed: the sliver of 309-digit integers that
    rapidjson refuses while they round to DBL_MAX itself.
    """
    for marker, pattern in _EXPONENT_MINUS:
        if marker not in data:  # one byte: memchr
            continue
        for match in pattern.finditer(data):  # a literal: faster than a loop of bytes.find
            at = start = match.start()
            while start > 0 and data[start - 1] in _DIGITS_AND_POINT:
                start -= 1
            if len(data[start:at].split(b".", 1)[0]) >= 309:
                return True
    return False


def has_long_integer(data: bytes) -> bool:
    """Whether a run of 19+ digits that is not a fraction occurs in the body.

    Such a run may be an integer beyond int64/uint64; runs inside strings or exponents only
    cost a needless walk when the parsed values are fixed up.
    """
    shapes = data.translate(_DIGITS_AS_ZEROS)
    at = shapes.find(_LONG_DIGIT_RUN)
    while at >= 0:
        if at == 0 or shapes[at - 1] != ord("."):
            return True
        at = shapes.find(_LONG_DIGIT_RUN, _ZEROS.match(shapes, at).end())
    return False
