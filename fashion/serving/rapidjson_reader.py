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

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from fashion.serving.rapidjson_scalars import JsonSyntaxError, scan_scalar, scan_string

__all__ = ["Event", "JsonSyntaxError", "ScanSummary", "iter_events", "scan_document"]

# rapidjson's English reason texts (rapidjson/error/en.h), the ones the reader can produce here.
_EMPTY = "The document is empty."
_VALUE_INVALID = "Invalid value."
_MISS_NAME = "Missing a name for object member."
_MISS_COLON = "Missing a colon after a name of object member."
_MISS_COMMA_CURLY = "Missing a comma or '}' after an object member."
_MISS_COMMA_BRACKET = "Missing a comma or ']' after an array element."

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
        skip: given the index of a ``[`` or ``{`` where a value is expected (not the root),
            the index just after that container if the caller has proven it valid (then a
            single ``skipped`` event replaces its inside), else None.

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
                begin = i
                i, key = scan_string(text, i, with_values)
                yield Event("key", begin, i, key)
                state = _MEMBER_KEY
            elif state in _SCALAR_STATES:
                begin = i
                i, value, special = scan_scalar(text, i, with_values)
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
                end = None if skip is None or state == _START else skip(i)
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
