"""The predict body most clients send, recognised from its bytes (the codec's fast path).

The commonest body, ``{"instances": <regular array of numbers>}`` (or ``"inputs"``, with or
without a plain ``signature_name``), takes a shorter road than the general JSON decoding:
byte-level checks prove that its array is a regular nested array of number tokens, and the tokens
alone are parsed as one flat list, without building a Python list per innermost row (for 256
images, 200,000 lists that also keep the cyclic garbage collector busy). The array is then exactly
what the general path would have built; anything the checks cannot prove is left to it.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

import numpy as np
import orjson

from fashion.serving.codec.json_numbers import first_number_too_big, may_hide_a_number_too_big

__all__ = ["DenseBody", "recognise_dense_body"]

_WS = rb"[ \t\n\r]*"
_NAME = rb'"signature_name"' + _WS + rb":" + _WS + rb'"([A-Za-z0-9_./-]*)"'
_DENSE_HEAD = re.compile(
    _WS + rb"\{" + _WS + rb"(?:" + _NAME + _WS + rb"," + _WS + rb")?"
    + rb'"(instances|inputs)"' + _WS + rb":" + _WS + rb"(?=\[)"
)  # fmt: skip
_DENSE_TAIL = re.compile(rb"\]" + _WS + rb"(?:," + _WS + _NAME + _WS + rb")?\}" + _WS + rb"\Z")
_DENSE_TAIL_WINDOW = 512
_DENSE_MAX_DEPTH = 32
_WHITESPACE_BYTES = b" \t\n\r"
_NUMBER_BYTES = b"0123456789.eE+-"
_ARRAY_BYTES = _NUMBER_BYTES + b"[]," + _WHITESPACE_BYTES
_NUMBERS_AS_ZERO = bytes.maketrans(_NUMBER_BYTES, b"0" * len(_NUMBER_BYTES))


@dataclass(frozen=True)
class DenseBody:
    """A body proven to be one regular numeric array under ``instances`` or ``inputs``.

    Attributes:
        signature_name: ``signature_name`` as sent; ``""`` when absent.
        key: ``instances`` or ``inputs``.
        array: what ``np.asarray`` makes of the parsed array (the census block of the array).
    """

    signature_name: str
    key: str
    array: np.ndarray


def recognise_dense_body(body: bytes) -> DenseBody | None:
    """Recognise ``{"instances"|"inputs": <regular numeric array>}`` without building lists.

    Proof that the array is regular: in its text without whitespace, no number touches a ``[``
    on its right or a ``]`` on its left, and with the numbers removed what is left is exactly
    the brackets and commas of the array of ``shape``.
    Then removing the brackets leaves the number tokens separated by single commas, which orjson
    parses (and checks) exactly as inside the nested array. A ``0e`` anywhere sends the body
    the general way, whose census looks for rapidjson's "Number too big" on ``0e400``.
    """
    head = _DENSE_HEAD.match(body)
    if head is None:
        return None
    tail = _DENSE_TAIL.search(body, max(head.end(), len(body) - _DENSE_TAIL_WINDOW))
    if tail is None or (head.group(1) is not None and tail.group(1) is not None):
        return None
    text = body[head.end() : tail.start() + 1]
    if text.translate(None, _ARRAY_BYTES):
        return None
    if (b"e" in text or b"E" in text) and (b"0e" in text or b"0E" in text):
        return None
    if may_hide_a_number_too_big(text) and first_number_too_big(text) is not None:
        return None  # the general path reports it as rapidjson does
    if _misplaced_number(text.translate(_NUMBERS_AS_ZERO, _WHITESPACE_BYTES)):
        return None
    skeleton = text.translate(None, _NUMBER_BYTES + _WHITESPACE_BYTES)
    shape = _skeleton_shape(skeleton)
    if shape is None or skeleton != _skeleton_of(shape):
        return None
    try:
        numbers = orjson.loads(b"[" + text.translate(None, b"[]") + b"]")
        if len(numbers) != math.prod(shape):
            return None
        if text.count(b".") == len(numbers):  # every number a float: what asarray makes
            array = np.fromiter(numbers, dtype=np.float64, count=len(numbers))
        else:
            array = np.asarray(numbers)
    except (orjson.JSONDecodeError, ValueError, TypeError, OverflowError):
        return None
    if array.dtype.kind not in "fiu":
        return None
    name = head.group(1) if head.group(1) is not None else tail.group(1)
    key = head.group(2).decode("ascii")
    return DenseBody(name.decode("ascii") if name is not None else "", key, array.reshape(shape))


def _misplaced_number(marks: bytes) -> bool:
    """A number right after ``]`` or right before ``[``, or an empty ``[]`` (numbers as ``0``).

    numpy, because ``bytes.find`` crawls when the first byte of the needle is everywhere.
    """
    codes = np.frombuffer(marks, dtype=np.uint8)
    number, opening, closing = codes == 0x30, codes == 0x5B, codes == 0x5D
    return bool(
        (number[:-1] & opening[1:]).any()
        or (closing[:-1] & number[1:]).any()
        or (opening[:-1] & closing[1:]).any()
    )


def _skeleton_shape(skeleton: bytes) -> tuple[int, ...] | None:
    """The shape whose array has these brackets and commas, if the first row says so.

    The first array at depth ``i`` ends where the first run of ``depth - i + 1`` closing
    brackets does; its length gives its item count. The caller compares the whole skeleton.
    """
    depth = len(skeleton) - len(skeleton.lstrip(b"["))
    if not 0 < depth <= _DENSE_MAX_DEPTH:
        return None
    inner_end = skeleton.find(b"]")
    dims = [inner_end - depth + 1]  # the first innermost array: "[" + (n - 1) commas + "]"
    length = dims[0] + 1
    for level in range(depth - 1, 0, -1):
        run = depth - level + 1
        start = skeleton.find(b"]" * run)
        end = len(skeleton) if level == 1 else start + run
        if start < 0:
            return None
        total = end - (level - 1)
        count, rest = divmod(total - 1, length + 1)
        if rest or count < 1:
            return None
        dims.append(count)
        length = total
    return tuple(reversed(dims))


@functools.lru_cache(maxsize=8)
def _skeleton_of(shape: tuple[int, ...]) -> bytes:
    """The brackets and commas of an array of ``shape`` (numbers and whitespace removed)."""
    text = b"[" + b"," * (shape[-1] - 1) + b"]"
    for size in reversed(shape[:-1]):
        text = b"[" + b",".join([text] * size) + b"]"
    return text
