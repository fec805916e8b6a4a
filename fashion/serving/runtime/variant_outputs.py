"""Fetching ``DT_VARIANT`` outputs, which TensorFlow's Python session cannot hand back.

TF Serving copies every output the run produced into its response (``predict_util.cc``:
``AsProtoField``), variants included: a TensorList comes back over gRPC as ``variant_val``, and
REST refuses it only while writing JSON (``json_tensor.cc``). The Python session fails on such a
fetch (``Tensorflow type 21 not convertible to numpy dtype.``) after the run itself succeeded.
So each variant output gets a ``SerializeTensor`` node beside it, added once when the version
loads, and the run fetches that instead: TensorFlow's own encoding of the variant, which this
module reads back into one ``VariantTensorDataProto`` per element.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2
from tensorflow.core.framework.tensor_pb2 import VariantTensorDataProto

__all__ = ["VARIANT", "holds_variants", "serialize_variant_outputs", "variant_array"]

VARIANT = "variant"
"""The dtype name (``DataTypeString``) of a variant output, as ``output_dtypes`` gives it."""


def serialize_variant_outputs(graph: tf.Graph, tensor_names: Iterable[str]) -> dict[str, str]:
    """For each named tensor that is a variant, the name of a new tensor that serializes it.

    Called before the first run, so the graph does not change under running callables. Names
    that are not in the graph are left out: the run then fails on them as TF Serving's does.
    """
    serialized: dict[str, str] = {}
    for name in sorted(set(tensor_names)):
        try:
            tensor = graph.get_tensor_by_name(name)
        except (KeyError, ValueError):
            continue
        if tensor.dtype.base_dtype != tf.variant:
            continue
        with graph.as_default():
            serialized[name] = tf.raw_ops.SerializeTensor(tensor=tensor).name
    return serialized


def variant_array(serialized: bytes) -> np.ndarray:
    """The fetched variant, of its shape: an object array of ``VariantTensorDataProto``s.

    ``SerializeTensor`` writes ``AsProtoTensorContent``: for a variant, the length of each
    element's encoding as a varint, then the encodings (TensorFlow's ``EncodeVariantList``).
    """
    proto = tensor_pb2.TensorProto.FromString(serialized)
    shape = tuple(dim.size for dim in proto.tensor_shape.dim)
    count = int(np.prod(shape, dtype=np.int64))
    content = proto.tensor_content
    lengths, offset = [], 0
    for _ in range(count):
        length, offset = _read_varint(content, offset)
        lengths.append(length)
    elements = np.empty(count, dtype=object)
    for index, length in enumerate(lengths):
        elements[index] = VariantTensorDataProto.FromString(content[offset : offset + length])
        offset += length
    return elements.reshape(shape)


def holds_variants(array: np.ndarray) -> bool:
    """Whether ``array`` came from :func:`variant_array` (an empty one cannot be told apart
    from an empty string tensor, and counts as strings)."""
    return (
        array.dtype == object
        and array.size > 0
        and isinstance(array.reshape(-1)[0], VariantTensorDataProto)
    )


def _read_varint(data: bytes, offset: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, offset
        shift += 7
