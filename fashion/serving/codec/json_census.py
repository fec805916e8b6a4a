"""Proof that a fast parse of a body reads it exactly as rapidjson would, from byte counts.

orjson is strict JSON and keeps the **last** of duplicate keys; rapidjson (TF Serving) keeps the
first, and also reads ``0e400`` as "Number too big" where orjson reads 0.0. A census of the
parsed value, compared with a few byte counts of the body, shows when neither can have happened:

* every object and string is visited; numeric lists are skipped with one ``np.asarray`` each
  (kept as :attr:`Census.blocks` for the tensor codec), which is why counting is cheap;
* if the body has no backslash, every string's bytes are its decoded UTF-8, so the body's
  ``:`` count is the members seen plus colons inside strings - one more means a duplicate key
  was folded; likewise its ``t``/``f`` counts reveal a boolean numpy folded into a number array;
* a number with a zero significand and an exponent must contain ``0e`` or ``0E``; that is only
  looked for when a float zero and an exponent are present at all.

With a backslash in the body, the fast result is not used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Census"]


@dataclass
class Census:
    """Counts over a parsed value (see the module docstring).

    Attributes:
        blocks: ``id(list) -> ndarray`` for lists numpy converted to a numeric or boolean array.
    """

    blocks: dict[int, np.ndarray] = field(default_factory=dict)
    members: int = 0
    trues: int = 0
    falses: int = 0
    float_zero: bool = False
    # Characters inside every key and string value: ':', 't', 'f', 'e'/'E'.
    string_colons: int = 0
    string_ts: int = 0
    string_fs: int = 0
    string_es: int = 0
    # A string contains "true"/"false" (the check used when backslashes are present).
    literal_words_in_strings: bool = False

    @classmethod
    def take(cls, root: Any, pairs_of: Any) -> Census:
        """Visit ``root`` without recursion.

        Args:
            root: the parsed value.
            pairs_of: ``object -> [(key, value), ...]`` with duplicates (dicts as parsed).
        """
        census = cls()
        stack = [root]
        while stack:
            value = stack.pop()
            if isinstance(value, list):
                if value and census._try_block(value):
                    continue
                stack.extend(value)
            elif isinstance(value, dict):
                pairs = pairs_of(value)
                census.members += len(pairs)
                for key, item in pairs:
                    census._note_string(key)
                    stack.append(item)
            elif isinstance(value, str):
                census._note_string(value)
            elif value is True:
                census.trues += 1
            elif value is False:
                census.falses += 1
            elif isinstance(value, float) and value == 0:
                census.float_zero = True
        return census

    def _try_block(self, value: list) -> bool:
        first = value[0]
        if isinstance(first, (str, dict)):
            return False
        try:
            array = np.asarray(value)
        except (ValueError, TypeError, OverflowError, RecursionError):
            return False
        kind = array.dtype.kind
        if kind not in "fiub":
            return False
        self.blocks[id(value)] = array
        if kind == "b":
            trues = int(np.count_nonzero(array))
            self.trues += trues
            self.falses += array.size - trues
        elif kind == "f" and not self.float_zero and not array.all():
            self.float_zero = True
        return True

    def _note_string(self, text: str) -> None:
        self.string_colons += text.count(":")
        self.string_ts += text.count("t")
        self.string_fs += text.count("f")
        self.string_es += text.count("e") + text.count("E")
        if "true" in text or "false" in text:
            self.literal_words_in_strings = True

    def matches_strict_reading(self, body: bytes) -> bool:
        """The body, read by a strict parser into this value, reads the same in rapidjson.

        Only valid for a value from a strict JSON parser (no NaN/Infinity, no trailing data).
        """
        if b"\\" in body:
            return False
        if body.count(b":") != self.members + self.string_colons:
            return False
        if body.count(b"t") != self.trues + self.string_ts:
            return False
        if body.count(b"f") != self.falses + self.string_fs:
            return False
        if self.float_zero:
            letters = self.string_es + self.trues + self.falses  # "true"/"false" hold one 'e'
            if body.count(b"e") + body.count(b"E") != letters and (b"0e" in body or b"0E" in body):
                return False
        return True

    def booleans_visible(self, body: bytes) -> bool:
        """No boolean literal was folded into a numeric block (any body, any parser)."""
        if self.literal_words_in_strings:
            return False
        return body.count(b"true") + body.count(b"false") == self.trues + self.falses
