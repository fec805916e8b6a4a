"""TensorFlow's encoding of a list of byte strings, both ways, for ``tensor_content``.

A string or variant tensor's ``tensor_content`` is every element's length as a base-128 varint,
then every element's bytes (``EncodeStringList`` and ``EncodeVariantList`` in TensorFlow's
``tensor_coding.cc``). The stand-in writes it for string and variant outputs under
``--enable_serialization_as_tensor_content``, and reads it back from ``SerializeTensor``'s
output when it fetches a variant (``variant_outputs``): one module, so that the two directions
cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["decode_list", "encode_list"]


def encode_list(values: Sequence[bytes]) -> bytes:
    """``values`` as ``tensor_content``: the varint lengths first, then the bytes."""
    return b"".join(_varint(len(value)) for value in values) + b"".join(values)


def decode_list(content: bytes, count: int) -> list[bytes]:
    """The ``count`` byte strings that :func:`encode_list` (or TensorFlow) wrote into ``content``.

    Raises:
        ValueError: ``content`` ends before ``count`` elements, or holds bytes after them.
    """
    lengths, offset = [], 0
    for _ in range(count):
        length, offset = _read_varint(content, offset)
        lengths.append(length)
    values = []
    for length in lengths:
        if offset + length > len(content):
            raise ValueError(f"encoded list of {count} ends inside an element")
        values.append(content[offset : offset + length])
        offset += length
    if offset != len(content):
        raise ValueError(f"encoded list of {count} has {len(content) - offset} bytes after it")
    return values


def _varint(number: int) -> bytes:
    out = bytearray()
    while True:
        byte = number & 0x7F
        number >>= 7
        if number:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(data: bytes, offset: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if offset >= len(data):
            raise ValueError("encoded list ends inside a length")
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, offset
        shift += 7
