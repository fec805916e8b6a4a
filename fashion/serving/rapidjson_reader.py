"""A syntax checker that follows rapidjson 1.1.0's iterative reader, for exact parse errors.

TF Serving parses request bodies with rapidjson (iterative mode, ``NaN``/``Inf`` accepted, parsing
stops after the first complete value; spec §7.2). Its error texts name rapidjson's reason and the
byte offset where the reader gave up, and those offsets follow rapidjson's own state machine
(``[1,]`` fails at the ``]`` with "Invalid value.", ``]`` alone is "The document is empty.", a
``-`` without digits fails one byte after the sign...). No Python JSON library reports the same
places, so this module walks the text the way rapidjson does and reports the first failure.

It is not the parser that builds request values: :mod:`fashion.serving.json_document` uses orjson
or the standard library for that, and only comes here when those fail or when the body uses
something only rapidjson accepts (``Inf``, ``-NaN``, very deep nesting). The walk is iterative, so
any nesting depth is fine. Positions are indices into the decoded text; the caller turns them
into byte offsets.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Event", "JsonSyntaxError", "ScanSummary", "iter_events", "scan_document"]

# rapidjson's English reason texts (rapidjson/error/en.h), the ones the reader can produce here.
_EMPTY = "The document is empty."
_VALUE_INVALID = "Invalid value."
_MISS_NAME = "Missing a name for object member."
_MISS_COLON = "Missing a colon after a name of object member."
_MISS_COMMA_CURLY = "Missing a comma or '}' after an object member."
_MISS_COMMA_BRACKET = "Missing a comma or ']' after an array element."
_BAD_HEX = "Incorrect hex digit after \\u escape in string."
_BAD_SURROGATE = "The surrogate pair in string is invalid."
_BAD_ESCAPE = "Invalid escape character in string."
_MISS_QUOTE = "Missing a closing quotation mark in string."
_TOO_BIG = "Number too big to be stored in double."
_MISS_FRACTION = "Miss fraction part in number."
_MISS_EXPONENT = "Miss exponent in number."

# Reader states (rapidjson IterativeParsingState) and tokens (rapidjson Token).
(
    _START,
    _FINISH,
    _OBJ_INIT,
    _MEMBER_KEY,
    _KV_DELIM,
    _MEMBER_VALUE,
    _MEMBER_DELIM,
    _ARR_INIT,
    _ELEMENT,
    _ELEM_DELIM,
    _OBJ_FINISH,
    _ARR_FINISH,
    _VALUE,
) = range(13)
_LB, _RB, _LC, _RC, _COMMA, _COLON, _SCALAR = range(7)
_TOKENS = {"[": _LB, "]": _RB, "{": _LC, "}": _RC, ",": _COMMA, ":": _COLON}
_SCALAR_STATES = {
    _START: _VALUE,
    _KV_DELIM: _MEMBER_VALUE,
    _ARR_INIT: _ELEMENT,
    _ELEM_DELIM: _ELEMENT,
}
# The transitions of rapidjson's prediction table that do not lead to the error state.
_PREDICT: dict[int, dict[int, int]] = {
    _START: {_LB: _ARR_INIT, _LC: _OBJ_INIT},
    _OBJ_INIT: {_RC: _OBJ_FINISH},
    _MEMBER_KEY: {_COLON: _KV_DELIM},
    _KV_DELIM: {_LB: _ARR_INIT, _LC: _OBJ_INIT},
    _MEMBER_VALUE: {_RC: _OBJ_FINISH, _COMMA: _MEMBER_DELIM},
    _MEMBER_DELIM: {_RC: _OBJ_FINISH},
    _ARR_INIT: {_LB: _ARR_INIT, _RB: _ARR_FINISH, _LC: _OBJ_INIT},
    _ELEMENT: {_RB: _ARR_FINISH, _COMMA: _ELEM_DELIM},
    _ELEM_DELIM: {_LB: _ARR_INIT, _RB: _ARR_FINISH, _LC: _OBJ_INIT},
}
# rapidjson HandleError: what is reported when no transition exists from a state.
_STATE_ERRORS = {
    _START: _EMPTY,
    _OBJ_INIT: _MISS_NAME,
    _MEMBER_DELIM: _MISS_NAME,
    _MEMBER_KEY: _MISS_COLON,
    _MEMBER_VALUE: _MISS_COMMA_CURLY,
    _KV_DELIM: _VALUE_INVALID,
    _ARR_INIT: _VALUE_INVALID,
    _ELEM_DELIM: _VALUE_INVALID,
    _ELEMENT: _MISS_COMMA_BRACKET,
}

_WS = re.compile(r"[ \t\n\r]*")
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


@dataclass(frozen=True)
class Event:
    """One step of the walk: a container boundary, a member name or a scalar.

    ``kind`` is one of ``start_object``, ``end_object``, ``start_array``, ``end_array``, ``key``,
    ``scalar``; ``start``/``end`` delimit the token in the text; ``value`` is the decoded key or
    scalar (only when values were asked for); ``special`` marks a number spelled in a way only
    rapidjson reads (``Inf``, ``-NaN``, ``NaN.5``...), whose ``value`` is always set.
    """

    kind: str
    start: int
    end: int
    value: Any = None
    special: bool = False


@dataclass
class ScanSummary:
    """What the caller needs to rebuild a rapidjson-valid text with the standard library.

    Attributes:
        end: index just after the root value (anything after it is ignored, like rapidjson).
        specials: ``(start, end, value)`` of numbers only rapidjson reads, to be rewritten.
        deep_spans: ``(start, end)`` of the outermost containers nested deeper than the limit.
        skipped_unmeasured: a container above the limit was skipped, so deeper containers
            inside it may be missing from ``deep_spans``.
    """

    end: int
    specials: list[tuple[int, int, float]] = field(default_factory=list)
    deep_spans: list[tuple[int, int]] = field(default_factory=list)
    skipped_unmeasured: bool = False


def scan_document(
    text: str,
    start: int = 0,
    depth_limit: int | None = None,
    skip: Callable[[int], int | None] | None = None,
) -> ScanSummary:
    """Check ``text[start:]`` the way rapidjson's iterative reader does.

    Args:
        text: the request body decoded to text, already cut at its first NUL character.
        start: where reading begins (after a byte-order mark).
        depth_limit: containers opened below this nesting depth are reported in ``deep_spans``.
        skip: see :func:`iter_events`; containers it vouches for are not walked.

    Returns:
        Where the root value ends, plus the spans a rewrite for the standard library needs.

    Raises:
        JsonSyntaxError: with rapidjson's reason and position, when rapidjson would fail.
    """
    summary = ScanSummary(end=start)
    open_starts: list[int] = []
    deep_from = -1 if depth_limit is None else depth_limit + 1
    for event in iter_events(text, start, with_values=False, skip=skip):
        kind = event.kind
        if kind == "skipped":
            if len(open_starts) + 1 == deep_from:
                summary.deep_spans.append((event.start, event.end))
            elif len(open_starts) + 1 < deep_from:
                summary.skipped_unmeasured = True
        elif kind in ("start_object", "start_array"):
            open_starts.append(event.start)
        elif kind in ("end_object", "end_array"):
            if len(open_starts) == deep_from:
                summary.deep_spans.append((open_starts[-1], event.end))
            open_starts.pop()
        elif event.special:
            summary.specials.append((event.start, event.end, event.value))
        summary.end = event.end
    return summary


def iter_events(
    text: str,
    start: int = 0,
    *,
    with_values: bool = True,
    skip: Callable[[int], int | None] | None = None,
) -> Iterator[Event]:
    """Walk one JSON value of ``text`` from ``start`` as rapidjson does, yielding events.

    Args:
        text: the text to read; the end of the text plays the role of rapidjson's NUL.
        start: index to begin at.
        with_values: decode keys and scalars (``False`` only checks them, which is faster).
        skip: given the index of a ``[`` or ``{`` where a value is expected, the index just
            after that container if the caller has proven it valid (then a single ``skipped``
            event replaces its inside), else None.

    Yields:
        :class:`Event` objects in document order; the last one closes the root value.

    Raises:
        JsonSyntaxError: at the first place rapidjson would stop with an error.
    """
    size = len(text)
    i = _WS.match(text, start).end()
    state = _START
    stack: list[int] = []
    while i < size:
        char = text[i]
        token = _TOKENS.get(char, _SCALAR)
        if token == _SCALAR:
            if state in (_MEMBER_DELIM, _OBJ_INIT):
                if char != '"':
                    raise JsonSyntaxError(_STATE_ERRORS[state], i)
                i, key = _scan_string(text, i, with_values)
                yield Event("key", i - 1, i, key)
                state = _MEMBER_KEY
            elif state in _SCALAR_STATES:
                begin = i
                i, value, special = _scan_scalar(text, i, with_values)
                yield Event("scalar", begin, i, value, special)
                state = _SCALAR_STATES[state]
                if state == _VALUE:
                    return
            else:
                raise JsonSyntaxError(_STATE_ERRORS[state], i)
        else:
            target = _PREDICT.get(state, {}).get(token)
            if target is None:
                raise JsonSyntaxError(_STATE_ERRORS[state], i)
            if target in (_OBJ_INIT, _ARR_INIT):
                end = None if skip is None else skip(i)
                if end is not None:
                    yield Event("skipped", i, end)
                    state = _SCALAR_STATES[state]
                    if state == _VALUE:
                        return
                    i = _WS.match(text, end).end()
                    continue
                if state in (_ARR_INIT, _ELEM_DELIM):
                    stack.append(_ELEMENT)
                elif state == _KV_DELIM:
                    stack.append(_MEMBER_VALUE)
                else:
                    stack.append(state)
                yield Event("start_object" if target == _OBJ_INIT else "start_array", i, i + 1)
                state = target
            elif target in (_OBJ_FINISH, _ARR_FINISH):
                if state == _MEMBER_DELIM:
                    raise JsonSyntaxError(_MISS_NAME, i)
                if state == _ELEM_DELIM:
                    raise JsonSyntaxError(_VALUE_INVALID, i)
                yield Event("end_object" if target == _OBJ_FINISH else "end_array", i, i + 1)
                state = stack.pop()
                if state == _START:
                    return
            else:
                state = target
            i += 1
        i = _WS.match(text, i).end()
    raise JsonSyntaxError(_STATE_ERRORS.get(state, _VALUE_INVALID), size)


def _scan_scalar(text: str, i: int, with_values: bool) -> tuple[int, Any, bool]:
    """Read the scalar at ``text[i]`` (rapidjson ``ParseValue`` for non-containers)."""
    char = text[i]
    if char == '"':
        end, value = _scan_string(text, i, with_values)
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


def _scan_string(text: str, i: int, with_values: bool) -> tuple[int, str | None]:
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
