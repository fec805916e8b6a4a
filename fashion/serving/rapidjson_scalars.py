"""Scalar tokens as rapidjson 1.1.0 reads them: strings, ``true``/``false``/``null``, numbers.

Part of the rapidjson-faithful reader (:mod:`fashion.serving.rapidjson_reader`, which walks
the structure). What matters here is where rapidjson stops and what it says: an invalid escape
is reported at its backslash, an unpaired high surrogate at the escape, ``1.`` one byte after the
dot, ``-`` one byte after the sign, ``tru`` where the ``e`` was expected; numbers whose exponent
or integer part would overflow rapidjson's accumulator are "Number too big to be stored in
double." even when their value is 0 (``0e400``). With ``kParseNanAndInfFlag``, rapidjson 1.1.0
also reads ``NaN``, ``Inf``, ``Infinity`` (each with an optional ``-``) and, by the way its
branches are chained, oddities such as ``NInf`` or ``NaN.5``; these are reported as "special"
so the caller can spell them for the standard library.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["JsonSyntaxError", "scan_scalar", "scan_string"]

# rapidjson's English reason texts (rapidjson/error/en.h) for scalar tokens.
_VALUE_INVALID = "Invalid value."
_BAD_HEX = "Incorrect hex digit after \\u escape in string."
_BAD_SURROGATE = "The surrogate pair in string is invalid."
_BAD_ESCAPE = "Invalid escape character in string."
_MISS_QUOTE = "Missing a closing quotation mark in string."
_TOO_BIG = "Number too big to be stored in double."
_MISS_FRACTION = "Miss fraction part in number."
_MISS_EXPONENT = "Miss exponent in number."

_DIGITS = re.compile(r"[0-9]*")
_PLAIN_CHARS = re.compile(r'[^"\\\x00-\x1f]*')
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")
_SIMPLE_ESCAPES = {
    '"': '"',
    "\\": "\\",
    "/": "/",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
}
_LITERALS = {"n": ("null", None), "t": ("true", True), "f": ("false", False)}
_MAX_EXP_BASE = 308
_DBL_MAX_DIV10 = 1.7976931348623157e307
_U53 = (1 << 53) - 1
# Where rapidjson's 32-bit and then 64-bit integer accumulators overflow (value, next digit).
_NEGATIVE_LIMITS = ((214748364, "8"), (0x0CCCCCCCCCCCCCCC, "8"))
_POSITIVE_LIMITS = ((429496729, "5"), (0x1999999999999999, "5"))


class JsonSyntaxError(Exception):
    """Raised when the text is not a document rapidjson accepts; carries its reason and position.

    Args:
        reason: rapidjson's English reason text, ending in a full stop.
        position: index into the scanned text where rapidjson stopped.
    """

    def __init__(self, reason: str, position: int) -> None:
        super().__init__(f"{reason} at index {position}")
        self.reason = reason
        self.position = position


def scan_scalar(text: str, i: int, with_values: bool) -> tuple[int, Any, bool]:
    """Read the scalar at ``text[i]`` (rapidjson ``ParseValue`` for non-containers)."""
    char = text[i]
    if char == '"':
        end, value = scan_string(text, i, with_values)
        return end, value, False
    literal = _LITERALS.get(char)
    if literal is not None:
        word, value = literal
        j = i + 1
        for expected in word[1:]:
            if text[j : j + 1] != expected:
                raise JsonSyntaxError(_VALUE_INVALID, j)
            j += 1
        return j, value, False
    return _scan_number(text, i, with_values)


def scan_string(text: str, i: int, with_values: bool) -> tuple[int, str | None]:
    """Read the string starting at the quote ``text[i]`` (rapidjson ``ParseStringToStream``)."""
    size = len(text)
    j = i + 1
    pieces: list[str] = []
    while True:
        plain_end = _PLAIN_CHARS.match(text, j).end()
        if with_values:
            pieces.append(text[j:plain_end])
        j = plain_end
        if j >= size:
            raise JsonSyntaxError(_MISS_QUOTE, size)
        char = text[j]
        if char == '"':
            return j + 1, ("".join(pieces) if with_values else None)
        if char != "\\":
            raise JsonSyntaxError(_BAD_ESCAPE, j)
        escape_at = j
        kind = text[j + 1 : j + 2]
        if kind and kind in _SIMPLE_ESCAPES:
            pieces.append(_SIMPLE_ESCAPES[kind])
            j += 2
            continue
        if kind != "u":
            raise JsonSyntaxError(_BAD_ESCAPE, escape_at)
        code = _hex4(text, j + 2, escape_at)
        j += 6
        if 0xD800 <= code <= 0xDBFF:
            if text[j : j + 2] != "\\u":
                raise JsonSyntaxError(_BAD_SURROGATE, escape_at)
            low = _hex4(text, j + 2, escape_at)
            if not 0xDC00 <= low <= 0xDFFF:
                raise JsonSyntaxError(_BAD_SURROGATE, escape_at)
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
            j += 6
        pieces.append(chr(code))


def _hex4(text: str, at: int, escape_at: int) -> int:
    match = _HEX4.match(text, at)
    if match is None:
        raise JsonSyntaxError(_BAD_HEX, escape_at)
    return int(match.group(), 16)


def _scan_number(text: str, i: int, with_values: bool) -> tuple[int, Any, bool]:
    """Read a number as rapidjson ``ParseNumber`` does (with the NaN/Inf extension)."""
    start = i
    minus = text[i] == "-"
    if minus:
        i += 1
    char = text[i : i + 1]
    special_value: float | None = None
    int_digits = ""
    if char == "0":
        int_digits = "0"
        i += 1
    elif "1" <= char <= "9":
        i = _DIGITS.match(text, i).end()
        int_digits = text[start + minus : i]
    elif char in ("I", "N"):
        i, special_value = _scan_nan_inf(text, i, minus)
    else:
        raise JsonSyntaxError(_VALUE_INVALID, i)
    integer = _IntegerPart.replay(int_digits or "0", minus)
    if integer.too_big:
        raise JsonSyntaxError(_TOO_BIG, start)
    frac_digits = ""
    if text[i : i + 1] == ".":
        i += 1
        frac_end = _DIGITS.match(text, i).end()
        if frac_end == i:
            raise JsonSyntaxError(_MISS_FRACTION, i)
        frac_digits, i = text[i:frac_end], frac_end
    exp_at = i
    has_exponent = text[i : i + 1] in ("e", "E")
    if has_exponent:
        i += 1
        exp_minus = text[i : i + 1] == "-"
        if text[i : i + 1] in ("+", "-"):
            i += 1
        exp_end = _DIGITS.match(text, i).end()
        if exp_end == i:
            raise JsonSyntaxError(_MISS_EXPONENT, i)
        exp_digits, i = text[i:exp_end], exp_end
        if not exp_minus and int(exp_digits) > _MAX_EXP_BASE - integer.exp_frac(frac_digits):
            raise JsonSyntaxError(_TOO_BIG, start)
    if special_value is not None:
        if frac_digits or has_exponent:
            # rapidjson restarts from a zero significand once a fraction or exponent follows.
            tail = ("." + frac_digits if frac_digits else "") + text[exp_at:i]
            magnitude = float("0" + tail)
            special_value = -magnitude if minus else magnitude
        return i, special_value, True
    if not with_values:
        return i, None, False
    literal = text[start:i]
    if frac_digits or has_exponent:
        return i, float(literal), False
    value = int(literal)
    return i, (value if -(1 << 63) <= value < (1 << 64) else float(literal)), False


def _scan_nan_inf(text: str, i: int, minus: bool) -> tuple[int, float]:
    """rapidjson 1.1.0's NaN/Inf branch, including how far it reads before giving up."""
    j = i
    if text[j : j + 1] == "N":
        j += 1
        if text[j : j + 1] == "a":
            j += 1
            if text[j : j + 1] == "N":
                return j + 1, math.nan
    if text[j : j + 1] == "I":
        j += 1
        if text[j : j + 1] == "n":
            j += 1
            if text[j : j + 1] == "f":
                j += 1
                if text[j : j + 1] == "i":
                    for expected in "inity":
                        if text[j : j + 1] != expected:
                            raise JsonSyntaxError(_VALUE_INVALID, j)
                        j += 1
                return j, (-math.inf if minus else math.inf)
    raise JsonSyntaxError(_VALUE_INVALID, j)


@dataclass(frozen=True)
class _IntegerPart:
    """The integer part of a number as rapidjson accumulated it (64-bit, then double)."""

    exact: int | None  # the significand while it still fits 64 bits, else None
    accumulated: float  # the significand as a double
    significant_digits: int  # rapidjson's ``significandDigit`` after the integer part
    too_big: bool  # rapidjson gave up with "Number too big to be stored in double."

    @classmethod
    def replay(cls, digits: str, minus: bool) -> _IntegerPart:
        """Replay rapidjson's 32-bit, 64-bit and double accumulation of ``digits``."""
        value = int(digits[0])
        count = len(digits)
        k = 1
        significant = 0
        limits = _NEGATIVE_LIMITS if minus else _POSITIVE_LIMITS
        for limit, last in limits:
            while k < count and not (value >= limit and (value != limit or digits[k] > last)):
                value = value * 10 + int(digits[k])
                significant += 1
                k += 1
        if k == count:
            return cls(value, float(value), significant, False)
        accumulated = float(value)
        for digit in digits[k:]:
            if accumulated >= _DBL_MAX_DIV10:
                return cls(None, accumulated, significant, True)
            accumulated = accumulated * 10 + int(digit)
        return cls(None, accumulated, significant, False)

    def exp_frac(self, frac_digits: str) -> int:
        """rapidjson's ``expFrac``: how many fraction digits went into the significand."""
        significant = self.significant_digits
        accumulated = self.accumulated
        exp_frac = 0
        k = 0
        if self.exact is not None:
            significand = self.exact
            while k < len(frac_digits) and significand <= _U53:
                significand = significand * 10 + int(frac_digits[k])
                exp_frac -= 1
                if significand != 0:
                    significant += 1
                k += 1
            accumulated = float(significand)
        for digit in frac_digits[k:]:
            if significant < 17:
                accumulated = accumulated * 10.0 + int(digit)
                exp_frac -= 1
                if accumulated > 0.0:
                    significant += 1
        return exp_frac
