"""Arrays become TensorProtos as TF Serving writes its outputs, with and without the flag.

``predict_util.cc`` (``PostProcessPredictionResult``; TF Serving's notes section 2.3): by default
``Tensor::AsProtoField`` (the typed field of the dtype, ``tensor.proto``), with
``--enable_serialization_as_tensor_content`` ``Tensor::AsProtoTensorContent`` (every dtype in
``tensor_content``, strings included as varint lengths then bytes), compared with the proto
TensorFlow's ``SerializeTensor`` kernel writes through ``AsProtoTensorContent``.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from fashion.serving.runtime.tensor_proto import tensor_from_proto, tensor_to_proto
from fashion.serving.status import Code
from tests.support.status_errors import status_error
from tests.support.tensor_protos import (
    NUMERIC,
    TYPED_FIELD,
    TensorProto,
    assert_same,
    for_every_dtype,
    for_every_numeric_dtype,
    sample_array,
    typed_proto,
)

#: Runs a test for an output of two dimensions, a scalar and an empty one.
for_output_shapes = pytest.mark.parametrize(
    "shape", [(2, 3), (), (0, 2)], ids=["2x3", "scalar", "empty"]
)


@for_every_dtype
@for_output_shapes
def test_by_default_an_output_is_written_in_its_dtypes_typed_field(
    dtype: tf.DType, shape: tuple[int, ...]
) -> None:
    array = sample_array(dtype, shape)
    proto = tensor_to_proto(array)
    assert proto.dtype == dtype.as_datatype_enum
    assert proto.HasField("tensor_shape")  # present for a scalar too
    assert [dim.size for dim in proto.tensor_shape.dim] == list(shape)
    assert not proto.tensor_content
    filled = [field.name for field, _ in proto.ListFields() if field.name.endswith("_val")]
    assert filled == ([TYPED_FIELD[dtype]] if array.size else [])
    assert proto == typed_proto(array, dtype)
    assert_same(tf.make_ndarray(proto), array)


@for_every_numeric_dtype
@for_output_shapes
def test_with_the_flag_an_output_is_tensorflows_tensor_content(
    dtype: tf.DType, shape: tuple[int, ...]
) -> None:
    array = sample_array(dtype, shape)
    expected = TensorProto.FromString(
        tf.raw_ops.SerializeTensor(tensor=tf.constant(array, dtype=dtype)).numpy()
    )
    assert tensor_to_proto(array, as_content=True) == expected


def test_with_the_flag_strings_too_go_in_tensor_content() -> None:
    """``AsProtoTensorContent`` encodes every dtype, strings as ``EncodeStringList``.
    (``SerializeTensor`` itself writes strings with ``AsProtoField``, so it is no oracle.)"""
    array = np.array([[b"", b"a"], [b"z" * 130, "é".encode()]], dtype=object)
    proto = tensor_to_proto(array, as_content=True)
    assert list(proto.string_val) == []
    assert proto.tensor_content == b"\x00\x01\x82\x01\x02" + b"a" + b"z" * 130 + "é".encode()
    parsed = tf.raw_ops.ParseTensor(serialized=proto.SerializeToString(), out_type=tf.string)
    assert_same(parsed.numpy(), array)


def test_python_str_outputs_are_written_as_utf_8_bytes() -> None:
    array = np.array(["ab", "ü"])
    for as_content in (False, True):
        proto = tensor_to_proto(array, as_content=as_content)
        parsed = tf.raw_ops.ParseTensor(serialized=proto.SerializeToString(), out_type=tf.string)
        assert parsed.numpy().tolist() == [b"ab", "ü".encode()]


def test_the_proto_is_written_into_the_given_message() -> None:
    into = TensorProto()
    returned = tensor_to_proto(np.array([1.5], np.float32), into=into)
    assert returned is into
    assert list(into.float_val) == [1.5]


def test_a_dtype_neither_form_can_carry_is_internal() -> None:
    error = status_error(tensor_to_proto, np.array(["2024-01-01"], dtype="datetime64[D]"))
    assert error.code is Code.INTERNAL


_ARRAYS = st.sampled_from([d for d in NUMERIC if d != tf.bfloat16]).flatmap(
    lambda dtype: hnp.arrays(
        dtype.as_numpy_dtype,
        hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
    )
)


@settings(max_examples=100, deadline=None)
@given(_ARRAYS, st.booleans())
def test_any_array_written_either_way_reads_back_equal(array: np.ndarray, as_content: bool) -> None:
    proto = tensor_to_proto(array, as_content=as_content)
    assert bool(proto.tensor_content) == (as_content and array.size > 0)
    assert_same(tensor_from_proto(proto, "x"), array)
    assert_same(tf.make_ndarray(proto), array)
