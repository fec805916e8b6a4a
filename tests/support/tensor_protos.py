"""TensorProtos written by hand, sample arrays of every dtype, and TensorFlow's own reader.

What the stand-in's TensorProto tests (``tests/standin/runtime/test_tensor_proto_*.py``) share:
the protos are built from ``tensor.proto``'s field comments, not with the stand-in's writer, so
that reading is checked against an independent encoding, and TensorFlow's ``ParseTensor`` kernel
(``Tensor::FromProto``) is the oracle where ``tf.make_ndarray`` and the C++ reader differ.
Imports TensorFlow.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2

__all__ = [
    "DTYPES",
    "NUMERIC",
    "TYPED_FIELD",
    "TensorProto",
    "assert_same",
    "content_proto",
    "for_every_dtype",
    "for_every_numeric_dtype",
    "parsed_by_tensorflow",
    "sample_array",
    "shape_proto",
    "typed_proto",
]

TensorProto = tensor_pb2.TensorProto

#: The typed field of each dtype (``tensor.proto``'s comments; half and bfloat16 hold bit
#: patterns in ``half_val``; complex numbers are (real, imaginary) pairs).
TYPED_FIELD = {
    tf.float32: "float_val",
    tf.float64: "double_val",
    tf.float16: "half_val",
    tf.bfloat16: "half_val",
    tf.int8: "int_val",
    tf.int16: "int_val",
    tf.int32: "int_val",
    tf.uint8: "int_val",
    tf.uint16: "int_val",
    tf.int64: "int64_val",
    tf.uint32: "uint32_val",
    tf.uint64: "uint64_val",
    tf.bool: "bool_val",
    tf.string: "string_val",
    tf.complex64: "scomplex_val",
    tf.complex128: "dcomplex_val",
}
#: Every dtype a TensorProto can carry in a typed field.
DTYPES = list(TYPED_FIELD)
#: The dtypes of :data:`DTYPES` that ``tensor_content`` holds as fixed-size little-endian values.
NUMERIC = [dtype for dtype in DTYPES if dtype != tf.string]


def _ids(dtypes: list[tf.DType]) -> list[str]:
    return [dtype.name for dtype in dtypes]


#: Runs a test once per dtype of :data:`DTYPES` (ids: the dtypes' names).
for_every_dtype = pytest.mark.parametrize("dtype", DTYPES, ids=_ids(DTYPES))
#: Runs a test once per dtype of :data:`NUMERIC`.
for_every_numeric_dtype = pytest.mark.parametrize("dtype", NUMERIC, ids=_ids(NUMERIC))


def sample_array(dtype: tf.DType, shape: tuple[int, ...] = (2, 3)) -> np.ndarray:
    """Distinct values of ``dtype`` (the extremes of integer types included)."""
    count = int(np.prod(shape, dtype=np.int64))
    if dtype == tf.string:
        pool = [b"", b"a", b"\xff\x00 not utf-8", "ünï".encode(), b"x" * 300, b"end"]
        return np.array([pool[i % len(pool)] for i in range(count)], dtype=object).reshape(shape)
    if dtype == tf.bool:
        return (np.arange(count) % 3 == 0).reshape(shape)
    numpy_type = dtype.as_numpy_dtype
    if dtype.is_integer:
        info = np.iinfo(numpy_type)
        values = [info.min, info.max, 0, 1, info.max - 1, info.min + 1]
        return np.array([values[i % 6] for i in range(count)], dtype=numpy_type).reshape(shape)
    real = np.array([0.5, -2.25, 1e3, 0.0, -0.0, 7.0], dtype=np.float64)
    values = np.resize(real, count)
    if dtype.is_complex:
        return (values + 1j * values[::-1]).astype(numpy_type).reshape(shape)
    return values.astype(numpy_type).reshape(shape)


def shape_proto(*dims: int) -> tensor_shape_pb2.TensorShapeProto:
    """A known shape of ``dims`` (negative sizes included, for the protos TensorFlow refuses)."""
    return tensor_shape_pb2.TensorShapeProto(dim=[{"size": size} for size in dims])


def typed_proto(array: np.ndarray, dtype: tf.DType) -> TensorProto:
    """``array`` in its dtype's typed field, written by hand from ``tensor.proto``."""
    proto = TensorProto(dtype=dtype.as_datatype_enum, tensor_shape=shape_proto(*array.shape))
    field = getattr(proto, TYPED_FIELD[dtype])
    flat = array.reshape(-1)
    if dtype in (tf.float16, tf.bfloat16):
        field.extend(flat.view(np.uint16).tolist())
    elif dtype.is_complex:
        field.extend(flat.view(flat.real.dtype).tolist())
    else:
        field.extend(flat.tolist())
    return proto


def content_proto(array: np.ndarray, dtype: tf.DType) -> TensorProto:
    """``array`` as little-endian ``tensor_content``, written by hand."""
    flat = array.reshape(-1)
    return TensorProto(
        dtype=dtype.as_datatype_enum,
        tensor_shape=shape_proto(*array.shape),
        tensor_content=flat.astype(flat.dtype.newbyteorder("<")).tobytes(),
    )


def assert_same(got: np.ndarray, expected: np.ndarray) -> None:
    """Equal values, and the same dtype and shape, which ``assert_array_equal`` lets differ."""
    assert got.dtype == expected.dtype
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


def parsed_by_tensorflow(proto: TensorProto) -> np.ndarray | None:
    """TensorFlow's ``ParseTensor`` kernel (``Tensor::FromProto``): the array, or None when it
    refuses the proto. Strings as an object array (a scalar comes back as bytes)."""
    try:
        dtype = tf.dtypes.as_dtype(proto.dtype)
        value = tf.raw_ops.ParseTensor(serialized=proto.SerializeToString(), out_type=dtype)
        value = value.numpy()
    except (tf.errors.OpError, TypeError, ValueError):
        return None
    return np.array(value, dtype=object) if dtype == tf.string else np.asarray(value)
