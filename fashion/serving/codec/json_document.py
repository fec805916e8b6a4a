"""Request bodies parsed the way TF Serving's rapidjson reader does, with orjson doing the work.

TF Serving (2.18+) parses every REST body with rapidjson: ``NaN``/``Infinity``/``Inf`` are
numbers, anything after the first complete value is ignored, and for duplicate keys every
look-up sees the **first** occurrence (``json_tensor.cc``). Parse errors read
``JSON Parse error: {rapidjson reason} at offset: {byte offset}``.

Two paths give the same :class:`JsonDocument`:

* fast: ``orjson.loads`` (strict JSON, last duplicate wins, no NaN). Its result is used only
  when :class:`~fashion.serving.codec.json_census.Census` proves from byte counts that rapidjson
  reads the body the same way (no folded duplicate key, no ``0e400``-style number); numeric
  lists are converted by numpy on the way and kept for the tensor codec.
* exact: python-rapidjson, a binding of rapidjson itself, so acceptance, reasons and offsets
  are rapidjson's own. Around it this module only adds what TF Serving's way of calling
  rapidjson does differently from the binding: trailing data is ignored (the body is parsed
  again up to where rapidjson reported it), a UTF-8 byte-order mark is skipped, bytes that are
  not UTF-8 are kept (rapidjson does not validate encodings; the binding decodes first), and
  integers outside int64/uint64 become doubles (the binding keeps them as Python ints).

Depth: TF Serving's reader (2.18+) is iterative and has no depth limit (``json_tensor_test.cc``,
``DeeplyNested*``), but python-rapidjson's reader is recursive in C: it stops at Python's
recursion limit (about 1,000 nested containers), and raising that limit only moves the failure to
a crash of the C stack. A body it refuses for depth is read again by ijson's yajl backend, an
iterative parser, and the document is built without recursion. yajl reads standard JSON only, so
a body that is both that deep and uses ``NaN``/``Infinity`` or is malformed still gets a 400
from :func:`too_deep_error` (a documented deviation): rapidjson's texts and offsets for such
bodies cannot be had from either library.

Values are plain Python: dicts (:class:`JsonObject` when built by the exact path, which also
remembers duplicate members), lists, ``str``, ``int`` (JSON integers within int64/uint64, as
rapidjson stores them), ``float`` (everything else numeric), ``bool``, ``None``. Strings hold
undecodable bytes as surrogate escapes; :func:`utf8_bytes` gives the original bytes back.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import ijson
import numpy as np
import orjson
import rapidjson

from fashion.serving.codec.json_census import Census
from fashion.serving.codec.json_numbers import (
    NUMBER_TOO_BIG,
    first_number_too_big,
    has_long_integer,
    may_hide_a_number_too_big,
)
from fashion.serving.codec.utf8_stand_in import Utf8StandIn
from fashion.serving.status import Code, ServingStatusError

__all__ = [
    "JsonDocument",
    "JsonObject",
    "json_type_name",
    "member_count",
    "members",
    "parse_json_document",
    "too_deep_error",
    "utf8_bytes",
]

_EMPTY_BODY = "JSON Parse error: The document is empty"
_TRAILING = "The document root must not be followed by other values."
_INVALID_INTEGER = "Invalid integer value"
_NUMBER_AT = re.compile(rb"-?[0-9]*")
_ERROR_TEXT = re.compile(r"Parse error at offset (\d+): (.*)", re.DOTALL)
# Integers of 19+ digits may lie outside int64/uint64, where rapidjson stores a double. Runs
# of digits are looked for with a substring search after mapping every digit to "0" (a regex
# over a large body of floats costs more than the parse).
_INT64_MIN = -(1 << 63)
_UINT64_END = 1 << 64


class JsonObject(dict):
    """A JSON object from the exact path: first occurrence wins, duplicates are remembered.

    rapidjson keeps every member; look-ups (``FindMember``) see the first one, while iterations
    (the debug JSON, instance objects, example features) see them all. The dict holds the
    look-up view; ``pairs`` is set only when the object had duplicate names. python-rapidjson
    fills objects through ``__setitem__``, which is where a repeated name is caught.
    """

    __slots__ = ("pairs",)

    def __setitem__(self, key: str, value: Any) -> None:
        pairs = getattr(self, "pairs", None)
        if key not in self:
            dict.__setitem__(self, key, value)
            if pairs is not None:
                pairs.append((key, value))
            return
        if pairs is None:
            self.pairs = pairs = list(self.items())
        pairs.append((key, value))


class _Decoder(rapidjson.Decoder):
    """python-rapidjson building :class:`JsonObject` objects; NaN/Infinity read as numbers."""

    def start_object(self) -> JsonObject:
        return JsonObject()


_DECODER = _Decoder(number_mode=rapidjson.NM_NAN)


@dataclass(frozen=True)
class JsonDocument:
    """A parsed body: its root value and the numeric arrays found while checking it.

    Attributes:
        root: the root value (any JSON type; the caller checks that it is an object).
        blocks: ``id(list) -> ndarray`` for lists proven to hold only numbers (or only
            booleans), exactly as ``np.asarray`` converted them; lets the tensor codec skip
            walking millions of floats. Only lists reachable from ``root`` are keys.
    """

    root: Any
    blocks: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    def block(self, value: Any) -> np.ndarray | None:
        """The numeric array for ``value`` if it is a list the census converted, else None."""
        return self.blocks.get(id(value)) if type(value) is list else None


def parse_json_document(body: bytes) -> JsonDocument:
    """Parse a request body as TF Serving does (``json_tensor.cc``).

    Args:
        body: the raw request body.

    Returns:
        The parsed document.

    Raises:
        ServingStatusError: INVALID_ARGUMENT with TF Serving's ``JSON Parse error: ...`` text.
    """
    if not body:
        raise ServingStatusError(Code.INVALID_ARGUMENT, _EMPTY_BODY)
    try:
        root = orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    else:
        census = Census.take(root, members)
        if census.matches_strict_reading(body) and not (
            may_hide_a_number_too_big(body) and first_number_too_big(body) is not None
        ):
            return JsonDocument(root, census.blocks)
    root = _parse_exact(body)
    census = Census.take(root, members)
    return JsonDocument(root, census.blocks if census.booleans_visible(body) else {})


def members(value: dict) -> Sequence[tuple[str, Any]]:
    """All members of an object in document order, duplicates included (rapidjson iteration)."""
    pairs = getattr(value, "pairs", None)
    return pairs if pairs is not None else list(value.items())


def member_count(value: dict) -> int:
    """rapidjson ``MemberCount()``: duplicates count."""
    pairs = getattr(value, "pairs", None)
    return len(pairs) if pairs is not None else len(value)


def json_type_name(value: Any) -> str:
    """rapidjson's type name of a value, as ``json_tensor.cc`` writes it in error texts."""
    if value is None:
        return "Null"
    if value is True:
        return "True"
    if value is False:
        return "False"
    if isinstance(value, dict):
        return "Object"
    if isinstance(value, list):
        return "Array"
    if isinstance(value, str):
        return "String"
    return "Number"


def too_deep_error(offset: int) -> ServingStatusError:
    """The 400 answered when a body nests deeper than python-rapidjson's recursion limit.

    TF Serving's iterative reader accepts any depth; the stand-in's reader is recursive and
    stops where Python's recursion limit does (a documented deviation).

    Args:
        offset: the byte offset where python-rapidjson stopped.
    """
    return ServingStatusError(
        Code.INVALID_ARGUMENT,
        "JSON Parse error: Nesting too deep for the TF Serving stand-in's JSON reader "
        f"(python-rapidjson: Maximum parse recursion depth exceeded!) at offset: {offset}",
    )


def utf8_bytes(text: str) -> bytes:
    """Encode text from a parsed body back to the bytes rapidjson would hold.

    Undecodable input bytes (kept as surrogate escapes) come back as themselves; any other
    lone surrogate becomes its 3-byte form, as rapidjson writes it.
    """
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return b"".join(
            char.encode(
                "utf-8", "surrogateescape" if 0xDC80 <= ord(char) <= 0xDCFF else "surrogatepass"
            )
            for char in text
        )


def _parse_exact(body: bytes) -> Any:
    """The slow path: python-rapidjson, fed the way TF Serving feeds rapidjson."""
    skip = 0
    for mark in (0xEF, 0xBB, 0xBF):  # rapidjson's EncodedInputStream skips these one by one
        if skip < len(body) and body[skip] == mark:
            skip += 1
    stream = Utf8StandIn(body[skip:] if skip else body)
    try:
        try:
            root = _DECODER(stream.data)
        except rapidjson.JSONDecodeError as exc:
            offset, reason = _error_parts(exc)
            if reason != _TRAILING:
                raise
            root = _DECODER(stream.data[:offset])  # TF Serving stops after the root value
    # JSONDecodeError, or a plain ValueError for digits past Python's int conversion limit.
    except ValueError as exc:
        offset, reason = _error_parts(exc)
        # A too-big number before the error stopped rapidjson first; python-rapidjson's own
        # "Invalid integer value" (past 4,300 digits) is such a number. Without an offset
        # (Python 3.12+, see _error_parts) that number is the first too-big one in the body.
        if offset is None:
            end = None
        elif reason == _INVALID_INTEGER:
            end = _NUMBER_AT.match(stream.data, offset).end()
        else:
            end = offset
        too_big = first_number_too_big(stream.data, end)
        if too_big is not None:
            offset, reason = too_big, NUMBER_TOO_BIG
        raise ServingStatusError(
            Code.INVALID_ARGUMENT,
            f"JSON Parse error: {reason} at offset: {skip + stream.body_offset(offset or 0)}",
        ) from None
    except RecursionError as exc:
        root = _parse_deep(stream.data)
        if root is _UNREADABLE:
            offset, _ = _error_parts(exc)
            if offset is None:  # Python 3.12+, see _error_parts
                offset = _past_depth(stream.data, sys.getrecursionlimit())
            too_big = first_number_too_big(stream.data)
            if too_big is not None:
                offset = too_big
                raise ServingStatusError(
                    Code.INVALID_ARGUMENT,
                    f"JSON Parse error: {NUMBER_TOO_BIG} at offset: "
                    f"{skip + stream.body_offset(offset)}",
                ) from None
            raise too_deep_error(skip + stream.body_offset(offset)) from None
    long_integers = has_long_integer(stream.data)
    too_big = first_number_too_big(stream.data) if long_integers else None
    if too_big is not None:
        raise ServingStatusError(
            Code.INVALID_ARGUMENT,
            f"JSON Parse error: {NUMBER_TOO_BIG} at offset: {skip + stream.body_offset(too_big)}",
        )
    if long_integers or stream.block is not None:
        root = _restore(root, long_integers, stream.originals())
    return root


_UNREADABLE = object()


def _parse_deep(data: bytes) -> Any:
    """The first JSON value of ``data`` read by an iterative parser, or ``_UNREADABLE``.

    Only for bodies python-rapidjson refused for depth: ijson's events are assembled with an
    explicit stack into the same values the exact path builds (:class:`JsonObject`, first
    duplicate wins; integers as ``int``, other numbers as ``float``). Anything after the first
    complete value is ignored, as TF Serving does.
    """
    open_values: list[list[Any] | JsonObject] = []
    keys: list[str | None] = []
    try:
        for event, value in ijson.basic_parse(data, use_float=True, multiple_values=True):
            if event == "map_key":
                keys[-1] = value
                continue
            if event in ("end_map", "end_array"):
                value = open_values.pop()
                keys.pop()
                if not open_values:
                    return value
                continue
            if event in ("start_map", "start_array"):
                container: list[Any] | JsonObject = JsonObject() if event == "start_map" else []
                if open_values:
                    _attach(open_values[-1], keys[-1], container)
                open_values.append(container)
                keys.append(None)
                continue
            if not open_values:
                return value  # a scalar root cannot be deep; kept for completeness
            _attach(open_values[-1], keys[-1], value)
    except (ijson.JSONError, UnicodeDecodeError, ValueError):
        return _UNREADABLE
    return _UNREADABLE


def _attach(container: list[Any] | JsonObject, key: str | None, value: Any) -> None:
    if isinstance(container, list):
        container.append(value)
    else:
        container[key] = value  # type: ignore[index]


def _error_parts(exc: Exception) -> tuple[int | None, str]:
    """Offset and reason of a python-rapidjson parse error (``Parse error at offset N: ...``).

    The offset is None when the message has none: python-rapidjson (1.25 and earlier) adds it to
    the errors its own handler raises (``Invalid integer value``, ``Maximum parse recursion
    depth exceeded``) only if the fetched exception value is still a string, and from Python
    3.12 on it is always an exception instance.
    """
    match = _ERROR_TEXT.fullmatch(str(exc))
    if match is None:
        return None, str(exc)
    return int(match.group(1)), match.group(2)


_NESTING = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def _past_depth(data: bytes, limit: int) -> int:
    """The offset python-rapidjson reports when nesting passes ``limit``: after that opener.

    Its handler counts objects and arrays down from the recursion limit and stops on the first
    one past it; ``data`` is valid JSON up to there, so strings are closed.
    """
    depth = 0
    for match in _NESTING.finditer(data):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return match.end()
        elif token in (b"]", b"}"):
            depth -= 1
    return 0


def _restore(root: Any, long_integers: bool, originals: dict[int, str] | None) -> Any:
    """Turn out-of-range integers into doubles and stand-in characters back into bytes."""

    def fix(value: Any) -> Any:
        if isinstance(value, str):
            return value.translate(originals) if originals else value
        if long_integers and type(value) is int and not _INT64_MIN <= value < _UINT64_END:
            return float(value)
        return value

    root = fix(root)
    stack = [root]
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            value[:] = [fix(item) for item in value]
            stack.extend(item for item in value if isinstance(item, (list, dict)))
        elif isinstance(value, dict):
            pairs = [(fix(key), fix(item)) for key, item in members(value)]
            dict.clear(value)
            if hasattr(value, "pairs"):
                del value.pairs
            for key, item in pairs:
                value[key] = item
            stack.extend(item for _, item in pairs if isinstance(item, (list, dict)))
    return root
