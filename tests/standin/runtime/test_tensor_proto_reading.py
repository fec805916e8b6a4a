"""TensorProtos become arrays as TensorFlow's C++ reader makes them, in both encodings.

``Tensor::FromProto`` (TensorFlow's ``core/framework/tensor.cc``; TF Serving's notes section
2.2): the expected tensor is ``tf.make_ndarray`` of the same proto, or, where ``make_ndarray``
and the C++ reader differ, TensorFlow's ``ParseTensor`` kernel (which calls ``FromProto``) or
numpy. Both encodings are read: the typed repeated fields (``float_val``...; fewer values than
the shape repeat the last one, none means zeros, more are cut) and ``tensor_content``
(little-endian bytes). The protos it refuses are in test_tensor_proto_refusals.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.framework import types_pb2

from fashion.serving.runtime.tensor_proto import tensor_from_proto
from tests.support.tensor_protos import (
    TYPED_FIELD,
    TensorProto,
    assert_same,
    content_proto,
    for_every_dtype,
    for_every_numeric_dtype,
    parsed_by_tensorflow,
    sample_array,
    shape_proto,
    typed_proto,
)


@for_every_dtype
def test_tf_make_tensor_proto_of_an_array_reads_back_as_make_ndarray(dtype: tf.DType) -> None:
    """The encoding TensorFlow's Python writer chooses (content for most numbers)."""
    proto = tf.make_tensor_proto(sample_array(dtype), dtype=dtype)
    assert_same(tensor_from_proto(proto, "x"), tf.make_ndarray(proto))


@for_every_dtype
def test_typed_fields_read_as_make_ndarray(dtype: tf.DType) -> None:
    proto = typed_proto(sample_array(dtype), dtype)
    assert not proto.tensor_content
    assert_same(tensor_from_proto(proto, "x"), tf.make_ndarray(proto))
    assert_same(tensor_from_proto(proto, "x"), sample_array(dtype))


@for_every_numeric_dtype
def test_tensor_content_reads_as_make_ndarray(dtype: tf.DType) -> None:
    proto = content_proto(sample_array(dtype), dtype)
    assert_same(tensor_from_proto(proto, "x"), tf.make_ndarray(proto))
    assert_same(tensor_from_proto(proto, "x"), sample_array(dtype))


def test_string_tensor_content_is_varint_lengths_then_the_bytes() -> None:
    """``EncodeStringList``: every length as a varint, then every string's bytes."""
    content = b"\x00\x01\x82\x01" + b"a" + b"z" * 130
    proto = TensorProto(
        dtype=types_pb2.DT_STRING, tensor_shape=shape_proto(3), tensor_content=content
    )
    expected = np.array([b"", b"a", b"z" * 130], dtype=object)
    assert_same(tensor_from_proto(proto, "x"), expected)


@for_every_dtype
def test_a_scalar_reads_as_a_rank_0_tensor(dtype: tf.DType) -> None:
    value = sample_array(dtype, (1,))[0]
    proto = tf.make_tensor_proto(value, dtype=dtype)
    assert proto.tensor_shape.dim == []
    got = tensor_from_proto(proto, "x")
    assert_same(got, tf.make_ndarray(proto))
    assert got.shape == ()


def test_a_scalar_string_keeps_its_trailing_nul_bytes() -> None:
    """A serialized ``tf.Example`` may well end in ``\\x00``; ``FromProto`` keeps every byte."""
    proto = tf.make_tensor_proto(b"ab\x00\x00", dtype=tf.string)
    got = tensor_from_proto(proto, "x")
    assert got.shape == ()
    assert got.item() == b"ab\x00\x00"


def test_a_proto_without_a_shape_is_a_scalar_of_its_first_value() -> None:
    """tensorflow_model_server_test_client.py sends ``x`` this way (no ``tensor_shape``)."""
    proto = TensorProto(dtype=types_pb2.DT_FLOAT, float_val=[2.0, 5.0])
    assert_same(tensor_from_proto(proto, "x"), np.array(2.0, np.float32))


@for_every_dtype
@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0, 2)], ids=["0", "0x3", "3x0x2"])
def test_an_empty_tensor_reads_as_empty(dtype: tf.DType, shape: tuple[int, ...]) -> None:
    proto = tf.make_tensor_proto(sample_array(dtype, shape), dtype=dtype, shape=shape)
    got = tensor_from_proto(proto, "x")
    assert_same(got, tf.make_ndarray(proto))
    assert got.shape == shape


def test_a_shape_with_no_elements_ignores_whatever_values_come_with_it() -> None:
    for proto in (
        TensorProto(
            dtype=types_pb2.DT_FLOAT, tensor_shape=shape_proto(0, 3), tensor_content=b"abc"
        ),
        TensorProto(dtype=types_pb2.DT_INT32, tensor_shape=shape_proto(0), int_val=[1, 2, 3]),
    ):
        assert tensor_from_proto(proto, "x").size == 0


@for_every_dtype
def test_one_value_fills_the_whole_shape(dtype: tf.DType) -> None:
    """TensorFlow's fill rule: ``make_tensor_proto(value, shape=...)`` writes one value."""
    value = sample_array(dtype, (2,))[1]
    proto = tf.make_tensor_proto(value, dtype=dtype, shape=[2, 3])
    assert len(getattr(proto, TYPED_FIELD[dtype])) in (1, 2)  # complex: one (re, im) pair
    got = tensor_from_proto(proto, "x")
    assert_same(got, tf.make_ndarray(proto))
    assert_same(got, np.full((2, 3), value, dtype=got.dtype))


@for_every_dtype
def test_fewer_values_repeat_the_last_and_none_means_zeros(dtype: tf.DType) -> None:
    sample = sample_array(dtype, (6,))
    fewer = typed_proto(sample[:2], dtype)
    fewer.tensor_shape.CopyFrom(shape_proto(2, 3))
    expected = np.array([sample[0], sample[1], sample[1], sample[1], sample[1], sample[1]])
    assert_same(tensor_from_proto(fewer, "x"), tf.make_ndarray(fewer))
    assert_same(tensor_from_proto(fewer, "x"), expected.astype(sample.dtype).reshape(2, 3))

    # No value: zeros (make_ndarray pads strings with str "", TensorFlow's C++ with b"").
    none = TensorProto(dtype=dtype.as_datatype_enum, tensor_shape=shape_proto(2, 3))
    assert_same(tensor_from_proto(none, "x"), parsed_by_tensorflow(none))
    zero = b"" if dtype == tf.string else 0
    assert_same(tensor_from_proto(none, "x"), np.full((2, 3), zero, dtype=sample.dtype))


@for_every_dtype
def test_more_typed_values_than_the_shape_holds_are_cut(dtype: tf.DType) -> None:
    """``FromProtoField`` copies the first n values; ``make_ndarray`` would refuse the proto."""
    sample = sample_array(dtype, (6,))
    proto = typed_proto(sample, dtype)
    proto.tensor_shape.CopyFrom(shape_proto(2))
    assert_same(tensor_from_proto(proto, "x"), sample[:2])


def test_values_in_another_dtypes_field_are_not_read() -> None:
    """``FromProto`` reads only its dtype's field: these protos hold no value, so zeros."""
    float_in_double = TensorProto(dtype=types_pb2.DT_FLOAT, tensor_shape=shape_proto(2))
    float_in_double.double_val.extend([1.0, 2.0])
    uint32_in_int = TensorProto(dtype=types_pb2.DT_UINT32, tensor_shape=shape_proto(1), int_val=[5])
    assert_same(tensor_from_proto(float_in_double, "x"), np.zeros(2, np.float32))
    assert_same(tensor_from_proto(uint32_in_int, "x"), np.zeros(1, np.uint32))


def test_an_int_val_outside_a_small_dtype_wraps_as_the_cpp_cast_does() -> None:
    """``int_val`` is int32; ``FromProto`` casts each value to the dtype (300 → int8 44)."""
    proto = TensorProto(dtype=types_pb2.DT_INT8, tensor_shape=shape_proto(2), int_val=[300, -129])
    expected = np.array([300, -129], dtype=np.int32).astype(np.int8)
    assert_same(tensor_from_proto(proto, "x"), expected)


def test_a_shape_of_unknown_rank_without_dims_reads_as_tensorflow_reads_it() -> None:
    """``TensorShape::IsValid`` does not look at ``unknown_rank`` for a full shape (a comment in
    ``tensor_shape.cc`` keeps it for compatibility), so the proto is a scalar to TensorFlow."""
    proto = TensorProto(dtype=types_pb2.DT_FLOAT, float_val=[4.0])
    proto.tensor_shape.unknown_rank = True
    expected = tf.raw_ops.ParseTensor(serialized=proto.SerializeToString(), out_type=tf.float32)
    assert_same(tensor_from_proto(proto, "x"), expected.numpy())
