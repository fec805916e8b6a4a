"""A TensorProto that TensorFlow refuses is a ``tensor parsing error`` naming the input's alias.

``Tensor::FromProto`` (TensorFlow's ``core/framework/tensor.cc``) refuses ``tensor_content``
that is not exactly the shape's size, dtypes a tensor cannot hold, invalid shapes and invalid
bool or string content; TF Serving answers INVALID_ARGUMENT ``tensor parsing error: {alias}``.
Each case is checked against TensorFlow's ``ParseTensor`` kernel too, and the stand-in's own
limits (numpy's 64 dimensions, 2 GiB) fail with the same text.
"""

from __future__ import annotations

import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from tensorflow.core.framework import types_pb2

from fashion.serving.runtime.tensor_proto import tensor_from_proto
from fashion.serving.status import Code
from tests.support.status_errors import code_and_message
from tests.support.tensor_protos import (
    DTYPES,
    TensorProto,
    assert_same,
    parsed_by_tensorflow,
    shape_proto,
)

#: What reading a proto TensorFlow refuses raises, for the alias ``x``.
PARSING_ERROR_X = (Code.INVALID_ARGUMENT, "tensor parsing error: x")


def _float_proto(*dims: int, **fields: object) -> TensorProto:
    """A ``DT_FLOAT`` proto of shape ``dims`` with ``fields`` as given, however wrong."""
    return TensorProto(dtype=types_pb2.DT_FLOAT, tensor_shape=shape_proto(*dims), **fields)  # type: ignore[arg-type]


MALFORMED = {
    "content-too-short": _float_proto(3, tensor_content=b"\0" * 8),
    "content-too-long": _float_proto(1, tensor_content=b"\0" * 8),
    "content-not-a-whole-value": _float_proto(1, tensor_content=b"\0" * 5),
    "dt-invalid": TensorProto(
        dtype=types_pb2.DT_INVALID, tensor_shape=shape_proto(1), float_val=[1]
    ),
    "unknown-dtype-999": TensorProto(dtype=999, tensor_shape=shape_proto(1), float_val=[1]),
    "dt-resource": TensorProto(dtype=types_pb2.DT_RESOURCE, tensor_shape=shape_proto(1)),
    "dt-variant": TensorProto(dtype=types_pb2.DT_VARIANT, tensor_shape=shape_proto(1)),
    "dt-float-ref": TensorProto(dtype=types_pb2.DT_FLOAT_REF, tensor_shape=shape_proto(1)),
    "negative-dim": _float_proto(-1, float_val=[1]),
    "negative-dim-content": _float_proto(2, -2, tensor_content=b"\0" * 16),
    "255-dims": _float_proto(*[1] * 255, float_val=[1]),
    "element-count-overflows": _float_proto(2**62, 2**62, float_val=[1]),
    "bool-content-byte-2": TensorProto(
        dtype=types_pb2.DT_BOOL, tensor_shape=shape_proto(2), tensor_content=b"\x01\x02"
    ),
    "string-content-too-short": TensorProto(
        dtype=types_pb2.DT_STRING, tensor_shape=shape_proto(2), tensor_content=b"\x05a"
    ),
    "half-content-odd": TensorProto(
        dtype=types_pb2.DT_HALF, tensor_shape=shape_proto(2), tensor_content=b"\0" * 3
    ),
}


@pytest.mark.parametrize("proto", MALFORMED.values(), ids=list(MALFORMED))
def test_a_proto_tensorflow_refuses_is_a_tensor_parsing_error_naming_the_alias(
    proto: TensorProto,
) -> None:
    assert code_and_message(tensor_from_proto, proto, "my_input") == (
        Code.INVALID_ARGUMENT,
        "tensor parsing error: my_input",
    )


@pytest.mark.parametrize("proto", MALFORMED.values(), ids=list(MALFORMED))
def test_tensorflow_itself_refuses_each_of_them(proto: TensorProto) -> None:
    """The oracle: TensorFlow's ``ParseTensor`` kernel (``FromProto``) fails on each (asked for
    a float where the proto's dtype is not one a tensor can hold)."""
    parseable = {types_pb2.DT_FLOAT, types_pb2.DT_BOOL, types_pb2.DT_STRING, types_pb2.DT_HALF}
    out_type = proto.dtype if proto.dtype in parseable else types_pb2.DT_FLOAT
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.raw_ops.ParseTensor(serialized=proto.SerializeToString(), out_type=out_type)


@pytest.mark.parametrize("dims", [65, 254], ids=["65-dims", "254-dims"])
@pytest.mark.parametrize("encoding", ["typed", "content"])
def test_more_dimensions_than_numpy_holds_are_refused_with_the_same_text(
    dims: int, encoding: str
) -> None:
    """A stand-in limit: TensorFlow allows 254 dimensions, numpy 64. The real server would
    accept such a tensor; the stand-in refuses it rather than fail with numpy's ValueError."""
    fields = {"float_val": [1.0]} if encoding == "typed" else {"tensor_content": b"\0" * 4}
    proto = _float_proto(*[1] * dims, **fields)
    assert code_and_message(tensor_from_proto, proto, "x") == PARSING_ERROR_X


def test_a_tensor_over_2_gib_is_refused_before_it_is_allocated() -> None:
    """A stand-in limit (``MAX_TENSOR_BYTES``): one typed value would fill 4 TiB here."""
    proto = _float_proto(2**20, 2**20, float_val=[1.0])
    assert code_and_message(tensor_from_proto, proto, "x") == PARSING_ERROR_X


_DATATYPES = st.sampled_from([*(dtype.as_datatype_enum for dtype in DTYPES), 0, 20, 21, 101, 999])


@st.composite
def _arbitrary_protos(draw: st.DrawFn) -> TensorProto:
    """Protos of any dtype number, small (possibly negative) dims, and random values."""
    proto = TensorProto(dtype=draw(_DATATYPES))
    for size in draw(st.lists(st.integers(-2, 4), max_size=3)):
        proto.tensor_shape.dim.add(size=size)
    proto.tensor_shape.unknown_rank = draw(st.booleans()) and not proto.tensor_shape.dim
    if draw(st.booleans()):
        proto.tensor_content = draw(st.binary(max_size=40))
    proto.float_val.extend(draw(st.lists(st.floats(width=32), max_size=5)))
    proto.int_val.extend(draw(st.lists(st.integers(-(2**31), 2**31 - 1), max_size=5)))
    proto.int64_val.extend(draw(st.lists(st.integers(-(2**63), 2**63 - 1), max_size=3)))
    proto.string_val.extend(draw(st.lists(st.binary(max_size=4), max_size=3)))
    proto.bool_val.extend(draw(st.lists(st.booleans(), max_size=3)))
    proto.half_val.extend(draw(st.lists(st.integers(0, 2**16 - 1), max_size=3)))
    return proto


@settings(max_examples=150, deadline=None)
@given(_arbitrary_protos())
def test_any_proto_reads_as_tensorflows_parse_tensor_or_is_a_parsing_error(
    proto: TensorProto,
) -> None:
    expected = parsed_by_tensorflow(proto)
    if expected is None:
        assert code_and_message(tensor_from_proto, proto, "x") == PARSING_ERROR_X
    else:
        assert_same(tensor_from_proto(proto, "x"), expected)
