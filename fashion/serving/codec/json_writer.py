"""Text the way TF Serving's rapidjson PrettyWriter writes it: strings, numbers, layouts, errors.

Every JSON body TF Serving writes for predict/classify/regress and errors comes from rapidjson
1.1.0's ``PrettyWriter`` (4-space indent), sometimes in "single-line array" mode
(``http_rest_api_handler.cc``: ``MakeJsonFromStatus``; ``json_tensor.cc``: ``WriteDecimal``,
``JsonValueToDebugString``). This module reproduces the pieces byte for byte:

* :func:`quote` - rapidjson's string escaping (``\\u00XX`` upper-case, ``/`` and non-ASCII kept);
* :func:`format_double` - rapidjson's shortest ``dtoa`` for numbers re-printed in debug JSON;
* :func:`decimal_strings` - TF Serving's ``WriteDecimal`` for float/double tensor values;
* :func:`debug_json` - the ``{dbg}`` re-serialisation inside error messages, cut at 256 bytes;
* :func:`render_tensor` - nested arrays in single-line or expanded layout (b64 objects too);
* :func:`encode_error` - the ``{"error": ...}`` body.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from fashion.serving.codec.json_document import members, utf8_bytes

__all__ = [
    "debug_json",
    "decimal_strings",
    "encode_error",
    "format_double",
    "indent",
    "quote",
    "render_tensor",
]

_DEBUG_LIMIT = 256  # kMaxJsonDebugStringBytes in json_tensor.cc
# printf formats of WriteDecimal: absl::StrCat's six digits, then max_digits10 of the type.
_SHORT = "%g"
_FLOAT32_FULL = "%.9g"
_FLOAT64_FULL = "%.17g"
_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f"\\]')
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def indent(depth: int) -> str:
    """The PrettyWriter indentation for ``depth`` open containers (4 spaces each)."""
    return " " * (4 * depth)


def quote(text: str) -> str:
    """A JSON string literal exactly as rapidjson's Writer escapes it."""
    if _NEEDS_ESCAPE.search(text) is None:
        return f'"{text}"'
    return '"' + _NEEDS_ESCAPE.sub(_escape_char, text) + '"'


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    return _ESCAPES.get(char) or f"\\u00{ord(char):02X}"


def encode_error(message: str) -> bytes:
    """The error body of a failed request (``MakeJsonFromStatus``); no trailing newline."""
    return utf8_bytes('{\n    "error": ' + quote(message) + "\n}")


def format_double(value: float) -> str | None:
    """rapidjson's ``Writer::Double`` text for a finite double; None for NaN/infinity.

    rapidjson refuses to write non-finite doubles (no ``kWriteNanAndInfFlag``), which stops the
    whole debug rendering at that point. Digits are Python's shortest round-trip digits, which
    match rapidjson's Grisu2 output except for rare values where Grisu2 is not shortest.
    """
    if not math.isfinite(value):
        return None
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign = "-" if value < 0 else ""
    mantissa, _, exponent = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    k = int(exponent or 0) - len(fraction)
    stripped = digits.rstrip("0")
    k += len(digits) - len(stripped)
    digits = stripped
    length = len(digits)
    kk = length + k  # 10^(kk-1) <= value < 10^kk
    if k >= 0 and kk <= 21:
        text = digits + "0" * k + ".0"
    elif 0 < kk <= 21:
        text = digits[:kk] + "." + digits[kk:]
    elif -6 < kk <= 0:
        text = "0." + "0" * (-kk) + digits
    elif length == 1:
        text = f"{digits}e{kk - 1}"
    else:
        text = f"{digits[0]}.{digits[1:]}e{kk - 1}"
    return sign + text


def decimal_strings(values: np.ndarray) -> list[str]:
    """``json_tensor.cc``'s ``WriteDecimal`` for every value of a float32 or float64 array.

    Six significant digits (``%g``) when they parse back to exactly the same value, else 9
    (float32) or 17 (float64); ``.0`` appended when there is neither ``.`` nor ``e``; ``NaN``,
    ``Infinity``, ``-Infinity`` as bare tokens. The parse-back is vectorised; for float32 it
    goes through float64, which is exact except when the double lands exactly between two
    float32 values, and those few are re-checked with exact fractions.
    """
    is_float32 = values.dtype == np.float32
    flat = values.ravel()
    wide = flat.astype(np.float64)
    numbers = wide.tolist()
    texts = list(map(_SHORT.__mod__, numbers))
    with np.errstate(over="ignore", invalid="ignore"):
        back = np.array(texts, dtype=np.float64)
        finite = np.isfinite(wide)
        if is_float32:
            same = back.astype(np.float32) == flat
            for index in np.flatnonzero(_float32_midpoints(back) & finite).tolist():
                same[index] = _float32_parses_to(texts[index], numbers[index])
        else:
            same = back == wide
        integral = (np.floor(back) == back) | (np.floor(wide) == wide)
    precision = _FLOAT32_FULL if is_float32 else _FLOAT64_FULL
    for index in np.flatnonzero(~same & finite).tolist():
        texts[index] = precision % numbers[index]
    for index in np.flatnonzero(integral & finite).tolist():
        text = texts[index]
        if "." not in text and "e" not in text:
            texts[index] = text + ".0"
    for index in np.flatnonzero(~finite).tolist():
        value = numbers[index]
        texts[index] = "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    return texts


def _float32_midpoints(values: np.ndarray) -> np.ndarray:
    """Which doubles lie exactly halfway between two adjacent float32 values."""
    mantissa, exponent = np.frexp(values)
    normal = exponent >= -125
    scaled = np.where(normal, mantissa * 2.0**25, values * 2.0**150)
    halved = np.where(normal, mantissa * 2.0**24, values * 2.0**149)
    return (scaled == np.floor(scaled)) & (halved != np.floor(halved))


def _float32_parses_to(text: str, value: float) -> bool:
    """Exactly whether the decimal ``text`` rounds (to nearest, like strtof) to float32 ``value``.

    Only called when ``float(text)`` is a float32 midpoint: rounding that double again would
    break the tie to even, while the decimal itself lies on one side of it (or on it).
    """
    parsed = float(text)
    decimal = Fraction(text)
    rounded = np.float32(parsed)
    if decimal == Fraction(parsed):
        return float(rounded) == value
    if float(rounded) < parsed:
        below, above = rounded, np.nextafter(rounded, np.float32(np.inf))
    else:
        below, above = np.nextafter(rounded, np.float32(-np.inf)), rounded
    return float(above if decimal > Fraction(parsed) else below) == value


def render_tensor(
    leaves: Sequence[str],
    shape: Sequence[int],
    depth: int,
    single_line: bool,
    b64: bool = False,
) -> str:
    """Nested arrays of already-written leaves, as the PrettyWriter lays them out.

    Args:
        leaves: the values in row-major order, each already JSON text.
        shape: the tensor shape; ``()`` writes the single leaf bare.
        depth: how many containers are open where this value is written.
        single_line: rapidjson's ``kFormatSingleLineArray`` (row-format items) or not (columnar).
        b64: wrap every leaf as ``{"b64": leaf}``; rapidjson writes object members on their
            own lines even inside single-line arrays, so the layout depends on ``depth``.

    Returns:
        The JSON text of the value.
    """
    if not shape:
        return _b64_object(leaves[0], depth) if b64 else leaves[0]
    return _render(leaves, 0, tuple(shape), depth, single_line, b64)


def _render(
    leaves: Sequence[str],
    offset: int,
    shape: tuple[int, ...],
    depth: int,
    single_line: bool,
    b64: bool,
) -> str:
    count = shape[0]
    if count == 0:
        return "[]"
    if len(shape) == 1:
        items = leaves[offset : offset + count]
        if b64:
            items = [_b64_object(item, depth + 1) for item in items]
    else:
        step = math.prod(shape[1:])
        items = [
            _render(leaves, offset + i * step, shape[1:], depth + 1, single_line, b64)
            for i in range(count)
        ]
    if single_line:
        return "[" + ", ".join(items) + "]"
    inner = "\n" + indent(depth + 1)
    return "[" + inner + ("," + inner).join(items) + "\n" + indent(depth) + "]"


def _b64_object(leaf: str, depth: int) -> str:
    return "{\n" + indent(depth + 1) + '"b64": ' + leaf + "\n" + indent(depth) + "}"


def debug_json(value: Any) -> str:
    """``json_tensor.cc``'s ``JsonValueToDebugString``: a value re-serialised for an error text.

    PrettyWriter with single-line arrays; every event is refused once 256 bytes have been
    written (the cut can leave brackets open), and a non-finite number stops the output.
    """
    out: list[str] = []
    size = 0
    # Each open container: [is_array, values written so far].
    levels: list[list[Any]] = []
    for kind, payload in _events(value):
        if size >= _DEBUG_LIMIT:
            break
        if kind == "end_object":
            _, count = levels.pop()
            piece = "\n" + indent(len(levels)) + "}" if count else "}"
        elif kind == "end_array":
            levels.pop()
            piece = "]"
        else:
            prefix = _prefix(levels)
            if kind == "start_object":
                levels.append([False, 0])
                piece = prefix + "{"
            elif kind == "start_array":
                levels.append([True, 0])
                piece = prefix + "["
            else:
                text = _scalar_text(payload)
                if text is None:
                    out.append(prefix)
                    break
                piece = prefix + text
        out.append(piece)
        size += len(piece) if piece.isascii() else len(utf8_bytes(piece))
    return "".join(out)


def _prefix(levels: list[list[Any]]) -> str:
    """PrettyWriter::PrettyPrefix in single-line-array mode; counts the value."""
    if not levels:
        return ""
    level = levels[-1]
    count = level[1]
    level[1] += 1
    if level[0]:
        return ", " if count else ""
    if count % 2:
        return ": "
    return (",\n" if count else "\n") + indent(len(levels))


def _scalar_text(value: Any) -> str | None:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, int):
        return str(value)
    return format_double(value)


def _events(root: Any) -> Iterator[tuple[str, Any]]:
    """rapidjson ``Value::Accept`` events of a parsed value, without recursion."""
    stack: list[Any] = [root]
    while stack:
        value = stack.pop()
        if isinstance(value, tuple):  # a pending end marker or key
            yield value
            continue
        if isinstance(value, dict):
            yield ("start_object", None)
            stack.append(("end_object", None))
            for key, item in reversed(members(value)):
                stack.append(item)
                stack.append(("key", key))
        elif isinstance(value, list):
            yield ("start_array", None)
            stack.append(("end_array", None))
            stack.extend(reversed(value))
        else:
            yield ("scalar", value)
