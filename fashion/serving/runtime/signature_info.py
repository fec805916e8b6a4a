"""A signature as TF Serving describes it: method name, inputs and outputs with short dtypes.

Built once per loaded version from the SignatureDef protos, so handlers can check aliases,
dtypes and method names without reading protos.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import NamedTuple

from tensorflow.core.framework import types_pb2
from tensorflow.core.protobuf import meta_graph_pb2

__all__ = ["SignatureInfo", "SignatureTensor", "dtype_name", "signature_info"]


class SignatureTensor(NamedTuple):
    """One signature input or output as TF Serving sees it.

    Attributes:
        dtype: TensorFlow's short type name (``float``, ``int64``, ``string``, ``INVALID``...).
        name: the graph tensor name that is fed or fetched (``serving_default_x:0``).
        shape: dimensions with -1 for unknown sizes, or None when the rank is unknown or the
            signature records no shape.
    """

    dtype: str
    name: str
    shape: list[int] | None


@dataclasses.dataclass(frozen=True)
class SignatureInfo:
    """A signature's method name and its inputs and outputs, sorted by alias.

    Attributes:
        method_name: e.g. ``tensorflow/serving/predict``; empty for ``__saved_model_init_op``.
        inputs: alias -> tensor spec.
        outputs: alias -> tensor spec.
    """

    method_name: str
    inputs: Mapping[str, SignatureTensor]
    outputs: Mapping[str, SignatureTensor]


def dtype_name(dtype: int) -> str:
    """TensorFlow's ``DataTypeString``: ``DT_FLOAT`` -> ``float``, ``DT_INVALID`` -> ``INVALID``.

    Args:
        dtype: a ``types_pb2.DataType`` enum value.

    Returns:
        The short name TF Serving uses in its messages and metadata.
    """
    if dtype == types_pb2.DT_INVALID:
        return "INVALID"
    try:
        enum_name = types_pb2.DataType.Name(dtype)
    except ValueError:
        return f"unknown dtype enum ({dtype})"
    return enum_name.removeprefix("DT_").lower()


def _tensor_spec(info: meta_graph_pb2.TensorInfo) -> SignatureTensor:
    shape: list[int] | None = None
    if info.HasField("tensor_shape") and not info.tensor_shape.unknown_rank:
        shape = [int(d.size) for d in info.tensor_shape.dim]
    return SignatureTensor(dtype_name(info.dtype), info.name, shape)


def signature_info(signature: meta_graph_pb2.SignatureDef) -> SignatureInfo:
    """Describe one SignatureDef.

    Args:
        signature: the proto from the MetaGraphDef.

    Returns:
        Its method name and its inputs and outputs, each sorted by alias.
    """
    return SignatureInfo(
        method_name=signature.method_name,
        inputs={k: _tensor_spec(signature.inputs[k]) for k in sorted(signature.inputs)},
        outputs={k: _tensor_spec(signature.outputs[k]) for k in sorted(signature.outputs)},
    )
