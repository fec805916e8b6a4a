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
from google.protobuf.message import DecodeError
from tensorflow.core.framework import tensor_pb2
from tensorflow.core.framework.tensor_pb2 import VariantTensorDataProto

from fashion.serving.runtime.encoded_lists import decode_list

__all__ = [
    "VARIANT",
    "holds_variants",
    "serialize_variant_outputs",
    "variant_array",
    "variant_proto_array",
]

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
    return variant_proto_array(tensor_pb2.TensorProto.FromString(serialized))


def variant_proto_array(proto: tensor_pb2.TensorProto) -> np.ndarray:
    """A ``DT_VARIANT`` TensorProto in either of the forms TF Serving answers it, as an array.

    ``AsProtoField`` writes ``variant_val``; ``AsProtoTensorContent`` (the fetch above, and
    answers under ``--enable_serialization_as_tensor_content``) writes the encoded list.

    Raises:
        ValueError: the proto holds more or fewer elements than its shape, or an element that
            is not a ``VariantTensorDataProto``.
    """
    shape = tuple(dim.size for dim in proto.tensor_shape.dim)
    count = int(np.prod(shape, dtype=np.int64))
    if proto.tensor_content or not proto.variant_val:
        encoded = decode_list(proto.tensor_content, count)
        try:
            values = [VariantTensorDataProto.FromString(element) for element in encoded]
        except DecodeError as exc:
            raise ValueError(f"a variant element does not decode ({exc})") from exc
    else:
        values = list(proto.variant_val)
        if len(values) != count:
            raise ValueError(f"{len(values)} variant values for a shape of {count} elements")
    elements = np.empty(count, dtype=object)
    for index, value in enumerate(values):
        elements[index] = value
    return elements.reshape(shape)


def holds_variants(array: np.ndarray) -> bool:
    """Whether ``array`` came from :func:`variant_array` (an empty one cannot be told apart
    from an empty string tensor, and counts as strings)."""
    return (
        array.dtype == object
        and array.size > 0
        and isinstance(array.reshape(-1)[0], VariantTensorDataProto)
    )
