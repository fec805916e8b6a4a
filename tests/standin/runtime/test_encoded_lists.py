"""TensorFlow's length-prefixed list encoding, checked against TensorFlow's own reader.

``ParseTensor`` reads a string tensor's ``tensor_content`` with ``DecodeStringList``, the
inverse of the ``EncodeStringList`` the stand-in writes for
``--enable_serialization_as_tensor_content``; the reading direction is checked through TensorFlow's
own variant encoding in ``test_variant_outputs.py``, and here against the writer.
"""

from __future__ import annotations

import pytest
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2, types_pb2

from fashion.serving.runtime.encoded_lists import decode_list, encode_list

_LISTS = {
    "empty": [],
    "one-empty-string": [b""],
    "short": [b"a", b"bc", b""],
    "two-byte-lengths": [b"x" * 128, b"y" * 300],
    "three-byte-lengths": [b"z" * 20_000, b"\x00\xff"],
}


def _read_by_tensorflow(content: bytes, count: int) -> list[bytes]:
    proto = tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, tensor_content=content)
    proto.tensor_shape.dim.add(size=count)
    return tf.io.parse_tensor(proto.SerializeToString(), tf.string).numpy().tolist()


@pytest.mark.parametrize("values", list(_LISTS.values()), ids=list(_LISTS))
def test_tensorflow_reads_what_is_written_and_reading_gives_it_back(values: list[bytes]) -> None:
    content = encode_list(values)
    assert _read_by_tensorflow(content, len(values)) == values
    assert decode_list(content, len(values)) == values


@pytest.mark.parametrize(
    ("content", "count", "message"),
    [
        (b"", 1, "ends inside a length"),
        (b"\x80", 1, "ends inside a length"),
        (b"\x03ab", 1, "ends inside an element"),
        (b"\x01ab", 1, "has 1 bytes after it"),
    ],
    ids=["no-length", "cut-varint", "short-element", "trailing-bytes"],
)
def test_damaged_content_is_a_value_error_not_a_wrong_list(
    content: bytes, count: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        decode_list(content, count)
