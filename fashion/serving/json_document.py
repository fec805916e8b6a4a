"""Request bodies parsed the way TF Serving's rapidjson reader does, with orjson doing the work.

TF Serving (2.18+) parses every REST body with rapidjson: ``NaN``/``Infinity``/``Inf`` are
numbers, anything after the first complete value is ignored, nesting is unlimited, and for
duplicate keys every look-up sees the **first** occurrence (spec §7.2). Parse errors read
``JSON Parse error: {rapidjson reason} at offset: {byte offset}``.

Two paths give the same :class:`JsonDocument`:

* fast: ``orjson.loads`` (strict JSON, last duplicate wins, no NaN). Its result is used only
  when :class:`~fashion.serving.json_census.Census` proves from byte counts that rapidjson
  reads the body the same way (no folded duplicate key, no ``0e400``-style number); numeric
  lists are converted by numpy on the way and kept for the tensor codec.
* exact: the standard library's C decoder with a first-wins object hook. When it fails, or the
  body holds something only rapidjson reads, :mod:`fashion.serving.rapidjson_reader` checks the
  body as rapidjson does: either it yields rapidjson's exact error, or the body is valid and is
  rewritten into a form the standard library reads (``Inf`` spelled ``Infinity``; containers
  nested deeper than ``MAX_BUILT_DEPTH`` replaced by :class:`DeepValue` placeholders, because the
  standard library's decoder is recursive).

Values are plain Python: dicts (:class:`JsonObject` when built by the exact path, which also
remembers duplicate members), lists, ``str``, ``int`` (JSON integers within int64/uint64, as
rapidjson stores them), ``float`` (everything else numeric), ``bool``, ``None``. Strings hold
undecodable bytes as surrogate escapes (rapidjson does not validate UTF-8); :func:`utf8_bytes`
gives the original bytes back.
"""

from __future__ import annotations

import bisect
import json
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from fashion.serving.json_census import Census
from fashion.serving.rapidjson_reader import JsonSyntaxError, ScanSummary, scan_document
from fashion.serving.status import Code, ServingStatusError

__all__ = [
    "MAX_BUILT_DEPTH",
    "DeepValue",
    "JsonDocument",
    "JsonObject",
    "json_type_name",
    "member_count",
    "members",
    "parse_json_document",
    "too_deep_error",
    "utf8_bytes",
]

MAX_BUILT_DEPTH = 200
"""Containers nested deeper than this are kept as :class:`DeepValue` instead of Python lists."""

_EMPTY_BODY = "JSON Parse error: The document is empty"
_WHITESPACE = re.compile(r"[ \t\n\r]*")
# Things the standard library reads differently from rapidjson: exponents of 100 or more (maybe
# "Number too big"), very long digit runs (ditto), and high-surrogate escapes (rapidjson demands
# a pair). A hit only means "let the rapidjson reader decide"; hits inside strings are harmless.
_SUSPICIOUS = re.compile(r"[eE]\+?0*[1-9][0-9]{2}|[0-9]{300}|\\u[dD][89abAB]")
_HIGH_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abAB]")
# Body bytes with every digit as '0', 'E' as 'e' and '+' dropped: digit runs and exponents can
# then be found with plain substring searches, far faster than a regex over a large body.
_NUMBER_SHAPES = bytes.maketrans(b"0123456789E", b"0000000000e")
_INT64_MIN = -(1 << 63)
_UINT64_END = 1 << 64


class JsonObject(dict):
    """A JSON object from the exact path: first occurrence wins, duplicates are remembered.

    rapidjson keeps every member; look-ups (``FindMember``) see the first one, while iterations
    (the debug JSON, instance objects, example features) see them all. The dict holds the
    look-up view; ``pairs`` is set only when the object had duplicate names.
    """

    __slots__ = ("pairs",)


@dataclass(frozen=True)
class DeepValue:
    """A JSON array or object nested deeper than :data:`MAX_BUILT_DEPTH`, kept as its text.

    rapidjson accepts any depth (``json_tensor_test.cc`` nests 500 000 arrays in an ignored
    key); Python's decoder is recursive, so such containers are not built. They can still be
    type-checked and rendered as debug JSON; code that needs their content raises
    :func:`too_deep_error` instead.
    """

    kind: str  # "Array" or "Object"
    text: str


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
    """Parse a request body as TF Serving does (spec §7.2).

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
        if census.matches_strict_reading(body):
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
    """rapidjson's type name of a value, as used in error texts (spec §7.5)."""
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
    if isinstance(value, DeepValue):
        return value.kind
    return "Number"


def too_deep_error() -> ServingStatusError:
    """The 400 answered when a request needs the content of a :class:`DeepValue`.

    TF Serving would go on converting such a value (or crash on its recursion); this stand-in
    stops with a clear message instead (a documented deviation).
    """
    return ServingStatusError(
        Code.INVALID_ARGUMENT,
        f"JSON value nested deeper than {MAX_BUILT_DEPTH} levels: the TF Serving stand-in "
        "does not convert such values",
    )


def utf8_bytes(text: str) -> bytes:
    """Encode text from a parsed body back to the bytes rapidjson would hold.

    Undecodable input bytes come back as themselves; lone surrogates from ``\\uDCxx`` escapes
    become their 3-byte form, as rapidjson writes them (an escaped ``\\uDC80``-``\\uDCFF`` is
    indistinguishable from a raw invalid byte and comes back as that byte).
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
    """The slow path: rapidjson's acceptance and errors, values built by the standard library."""
    skip = 0
    for mark in (0xEF, 0xBB, 0xBF):  # rapidjson's MemoryStream skips these bytes one by one
        if skip < len(body) and body[skip] == mark:
            skip += 1
    stop = body.find(b"\0", skip)  # rapidjson reads a NUL byte as the end of the input
    raw = body[skip : len(body) if stop < 0 else stop]
    text = raw.decode("utf-8", "surrogateescape")
    start = _WHITESPACE.match(text).end()
    shapes = raw.translate(_NUMBER_SHAPES, b"+")
    long_digit_runs = b"0" * 20 in shapes
    suspicious = (
        b"e000" in shapes  # an exponent of three digits or more: maybe "Number too big"
        or b"0" * 300 in shapes  # ditto for a huge integer part
        or (b"\\u" in raw and _HIGH_SURROGATE_ESCAPE.search(raw) is not None)
    )
    decoder = _decoder(long_digit_runs)
    if start < len(text) and not suspicious:
        try:
            root, end = decoder.raw_decode(text, start)
        except (json.JSONDecodeError, RecursionError):
            pass
        else:
            if not _number_may_continue(root, text, end):
                return root
    try:
        skipper = _container_skipper(text, suspicious)
        summary = scan_document(text, start, MAX_BUILT_DEPTH, skipper)
    except JsonSyntaxError as exc:
        offset = skip + len(text[: exc.position].encode("utf-8", "surrogateescape"))
        raise ServingStatusError(
            Code.INVALID_ARGUMENT, f"JSON Parse error: {exc.reason} at offset: {offset}"
        ) from None
    try:
        return _build(text, start, summary, long_digit_runs)
    except RecursionError:
        # A skipped container hid nesting too deep for the standard library: walk it all.
        summary = scan_document(text, start, MAX_BUILT_DEPTH)
        return _build(text, start, summary, long_digit_runs)


def _build(text: str, start: int, summary: ScanSummary, long_digit_runs: bool) -> Any:
    """Build the values of a text rapidjson accepts, via a rewrite the standard library reads."""
    nonce = secrets.token_hex(8)
    rewritten, deep_values = _rewrite(text, summary, nonce)
    decoder = _decoder(long_digit_runs, deep_values, nonce)
    try:
        root, _ = decoder.raw_decode(rewritten, start)
    except RecursionError:
        if summary.skipped_unmeasured:
            raise
        raise _unreadable() from None
    except json.JSONDecodeError as exc:  # pragma: no cover - the rewrite is always valid JSON
        raise _unreadable() from exc
    return root


def _unreadable() -> ServingStatusError:
    """A body rapidjson accepts that the stand-in still cannot build (never seen in tests)."""
    return ServingStatusError(
        Code.INVALID_ARGUMENT, "JSON Parse error: the TF Serving stand-in could not read this body"
    )


def _container_skipper(text: str, suspicious: bool) -> Callable[[int], int | None]:
    """Let the rapidjson reader jump over containers the C decoder reads the same way.

    A container the standard library decodes is valid for rapidjson with the same extent,
    unless it holds what only the two disagree on: huge exponents or digit runs ("Number too
    big") and high-surrogate escapes, which ``_SUSPICIOUS`` marks. This keeps errors in large
    bodies cheap: only the containers around the error are walked in Python.
    """
    marks = [match.start() for match in _SUSPICIOUS.finditer(text)] if suspicious else []
    plain = json.JSONDecoder()
    too_deep = False

    def skip(index: int) -> int | None:
        nonlocal too_deep
        if too_deep:  # every container around a too-deep one would hit the limit again
            return None
        try:
            _, end = plain.raw_decode(text, index)
        except json.JSONDecodeError:
            return None
        except RecursionError:
            too_deep = True
            return None
        if marks and bisect.bisect_left(marks, index) < bisect.bisect_left(marks, end):
            return None
        return end

    return skip


def _number_may_continue(root: Any, text: str, end: int) -> bool:
    """A root number followed by ``.``/``e``: rapidjson reads on (and may fail) there."""
    if isinstance(root, (dict, list, str)) or root is None or isinstance(root, bool):
        return False
    return text[end : end + 1] in (".", "e", "E")


def _rewrite(text: str, summary: ScanSummary, nonce: str) -> tuple[str, list[DeepValue]]:
    """Spell rapidjson-only numbers for the standard library; swap deep containers for markers."""
    edits: list[tuple[int, int, str]] = []
    deep_values: list[DeepValue] = []
    for index, (start, end) in enumerate(summary.deep_spans):
        kind = "Object" if text[start] == "{" else "Array"
        deep_values.append(DeepValue(kind, text[start:end]))
        edits.append((start, end, f'{{"{nonce}": {index}}}'))
    spans = summary.deep_spans
    for start, end, value in summary.specials:
        if any(s <= start < e for s, e in spans):
            continue
        if value != value:
            spelled = "NaN"
        elif value in (float("inf"), float("-inf")):
            spelled = "Infinity" if value > 0 else "-Infinity"
        else:
            spelled = repr(value)
        edits.append((start, end, spelled))
    edits.sort()
    pieces: list[str] = []
    position = 0
    for start, end, replacement in edits:
        pieces.append(text[position:start])
        pieces.append(replacement)
        position = end
    pieces.append(text[position:])
    return "".join(pieces), deep_values


def _decoder(
    long_digit_runs: bool, deep_values: list[DeepValue] | None = None, nonce: str = ""
) -> json.JSONDecoder:
    """A standard-library decoder with rapidjson's first-wins objects and integer range.

    Integers need a hook only when the body has a run of 20+ digits (uint64 has 20); without
    one, the C decoder's own integer parsing is used.
    """

    def make_object(pairs: list[tuple[str, Any]]) -> Any:
        if deep_values and len(pairs) == 1 and pairs[0][0] == nonce:
            return deep_values[pairs[0][1]]
        obj = JsonObject(pairs)
        if len(obj) != len(pairs):
            for key, value in reversed(pairs):
                obj[key] = value
            obj.pairs = pairs
        return obj

    parse_int = _parse_int if long_digit_runs else None
    return json.JSONDecoder(object_pairs_hook=make_object, parse_int=parse_int, strict=True)


def _parse_int(literal: str) -> int | float:
    """rapidjson stores integers outside int64/uint64 as doubles."""
    value = int(literal)
    return value if _INT64_MIN <= value < _UINT64_END else float(literal)
