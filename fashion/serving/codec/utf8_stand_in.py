"""Bodies that are not UTF-8, made readable for python-rapidjson without changing the result.

rapidjson reads bytes without validating UTF-8 (TF Serving's reader accepts any bytes inside
strings), but python-rapidjson decodes its input first. Each byte that is not UTF-8 is replaced
by a private-use character, which rapidjson treats like the byte (an invalid value outside
strings, kept inside them); offsets are mapped back and strings get the byte again as a
surrogate escape.
"""

from __future__ import annotations

import bisect
import re

from fashion.serving.status import Code, ServingStatusError

__all__ = ["Utf8StandIn"]

# Bytes that are not UTF-8 are handed to python-rapidjson as private-use characters (4 bytes
# each) from the first 256-character block of planes 15-16 that the body does not use.
_STAND_IN_BLOCKS = range(0x10FF00, 0xEFFFF, -0x100)
_STAND_IN_WIDTH = 4
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


class Utf8StandIn:
    """The body as python-rapidjson can take it, and the way back to body byte offsets.

    rapidjson reads bytes without validating UTF-8, but python-rapidjson decodes its input
    first. Each byte that is not UTF-8 is replaced by a private-use character, which rapidjson
    treats like the byte (an invalid value outside strings, kept inside them); offsets are
    mapped back and strings get the byte again as a surrogate escape.
    """

    def __init__(self, body: bytes) -> None:
        self.data = body
        self.block: int | None = None
        self._starts: list[int] = []
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            self._stand_in(body.decode("utf-8", "surrogateescape"))

    def _stand_in(self, text: str) -> None:
        used = {ord(char) & ~0xFF for char in text if ord(char) >= 0xEFF00}
        block = next((b for b in _STAND_IN_BLOCKS if b not in used), None)
        if block is None:  # pragma: no cover - needs hundreds of private-use blocks in one body
            raise ServingStatusError(
                Code.INVALID_ARGUMENT, "JSON Parse error: the TF Serving stand-in cannot read it"
            )
        self.block = block
        pieces: list[str] = []
        size = 0
        position = 0
        for match in _ESCAPED_BYTE.finditer(text):
            piece = text[position : match.start()]
            pieces.append(piece)
            size += len(piece.encode("utf-8"))
            self._starts.append(size)
            pieces.append(chr(block + (ord(match.group()) & 0xFF)))
            size += _STAND_IN_WIDTH
            position = match.end()
        pieces.append(text[position:])
        self.data = "".join(pieces).encode("utf-8")

    def body_offset(self, offset: int) -> int:
        """The body offset of a byte offset into :attr:`data`."""
        before = bisect.bisect_left(self._starts, offset)
        return offset - before * (_STAND_IN_WIDTH - 1)

    def originals(self) -> dict[int, str] | None:
        """``str.translate`` table from stand-in characters back to surrogate escapes."""
        if self.block is None:
            return None
        return {self.block + byte: chr(0xDC00 + byte) for byte in range(0x80, 0x100)}
