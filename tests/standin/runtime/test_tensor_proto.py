"""TensorProtos in and out, against TensorFlow's own readers and writers.

Reading (``Tensor::FromProto``, TensorFlow's ``core/framework/tensor.cc``; TF Serving's notes
section 2.2): the expected tensor is ``tf.make_ndarray`` of the same proto, or, where
``make_ndarray`` and the C++ reader differ, TensorFlow's ``ParseTensor`` kernel (which calls
``FromProto``) or numpy. Both encodings are read: the typed repeated fields (``float_val``...;
fewer values than the shape repeat the last one, none means zeros, more are cut) and
``tensor_content`` (little-endian bytes, which must be exactly the shape's size). A proto
``FromProto`` refuses is INVALID_ARGUMENT ``tensor parsing error: {alias}``.

Writing (``predict_util.cc``, ``PostProcessPredictionResult``; notes 2.3): by default
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
from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2

from fashion.serving.runtime.tensor_proto import tensor_from_proto, tensor_to_proto
from fashion.serving.status import Code, ServingStatusError

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
DTYPES = list(TYPED_FIELD)
NUMERIC = [dtype for dtype in DTYPES if dtype != tf.string]


def _ids(dtypes: list[tf.DType]) -> list[str]:
    return [dtype.name for dtype in dtypes]


#: Runs a test once per dtype of :data:`DTYPES` (ids: the dtypes' names).
for_every_dtype = pytest.mark.parametrize("dtype", DTYPES, ids=_ids(DTYPES))
#: Runs a test once per dtype of :data:`NUMERIC`.
for_every_numeric_dtype = pytest.mark.parametrize("dtype", NUMERIC, ids=_ids(NUMERIC))
#: Runs a test for an output of two dimensions, a scalar and an empty one.
for_output_shapes = pytest.mark.parametrize(
    "shape", [(2, 3), (), (0, 2)], ids=["2x3", "scalar", "empty"]
)


def _sample(dtype: tf.DType, shape: tuple[int, ...] = (2, 3)) -> np.ndarray:
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


def _shape(*dims: int) -> tensor_shape_pb2.TensorShapeProto:
    return tensor_shape_pb2.TensorShapeProto(dim=[{"size": size} for size in dims])


def _typed(array: np.ndarray, dtype: tf.DType) -> TensorProto:
    """``array`` in its dtype's typed field, written by hand from ``tensor.proto``."""
    proto = TensorProto(dtype=dtype.as_datatype_enum, tensor_shape=_shape(*array.shape))
    field = getattr(proto, TYPED_FIELD[dtype])
    flat = array.reshape(-1)
    if dtype in (tf.float16, tf.bfloat16):
        field.extend(flat.view(np.uint16).tolist())
    elif dtype.is_complex:
        field.extend(flat.view(flat.real.dtype).tolist())
    else:
        field.extend(flat.tolist())
    return proto


def _content(array: np.ndarray, dtype: tf.DType) -> TensorProto:
    """``array`` as little-endian ``tensor_content``, written by hand."""
    flat = array.reshape(-1)
    return TensorProto(
        dtype=dtype.as_datatype_enum,
        tensor_shape=_shape(*array.shape),
        tensor_content=flat.astype(flat.dtype.newbyteorder("<")).tobytes(),
    )


def _assert_same(got: np.ndarray, expected: np.ndarray) -> None:
    assert got.dtype == expected.dtype
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


def _parsed_by_tensorflow(proto: TensorProto) -> np.ndarray | None:
    """TensorFlow's ``ParseTensor`` kernel (``Tensor::FromProto``): the array, or None when it
    refuses the proto. Strings as an object array (a scalar comes back as bytes)."""
    try:
        dtype = tf.dtypes.as_dtype(proto.dtype)
        value = tf.raw_ops.ParseTensor(serialized=proto.SerializeToString(), out_type=dtype)
        value = value.numpy()
    except (tf.errors.OpError, TypeError, ValueError):
        return None
    return np.array(value, dtype=object) if dtype == tf.string else np.asarray(value)


def _parse_error(proto: TensorProto, alias: str = "x") -> ServingStatusError:
    with pytest.raises(ServingStatusError) as caught:
        tensor_from_proto(proto, alias)
    return caught.value


# --- reading: both encodings, every dtype ------------------------------------------------------


@for_every_dtype
def test_tf_make_tensor_proto_of_an_array_reads_back_as_make_ndarray(dtype: tf.DType) -> None:
    """The encoding TensorFlow's Python writer chooses (content for most numbers)."""
    proto = tf.make_tensor_proto(_sample(dtype), dtype=dtype)
    _assert_same(tensor_from_proto(proto, "x"), tf.make_ndarray(proto))


@for_every_dtype
def test_typed_fields_read_as_make_ndarray(dtype: tf.DType) -> None:
    proto = _typed(_sample(dtype), dtype)
    assert not proto.tensor_content
    _assert_same(tensor_from_proto(proto, "x"), tf.make_ndarray(proto))
    _assert_same(tensor_from_proto(proto, "x"), _sample(dtype))


@for_every_numeric_dtype
def test_tensor_content_reads_as_make_ndarray(dtype: tf.DType) -> None:
    proto = _content(_sample(dtype), dtype)
    _assert_same(tensor_from_proto(proto, "x"), tf.make_ndarray(proto))
    _assert_same(tensor_from_proto(proto, "x"), _sample(dtype))


def test_string_tensor_content_is_varint_lengths_then_the_bytes() -> None:
    """``EncodeStringList``: every length as a varint, then every string's bytes."""
    content = b"\x00\x01\x82\x01" + b"a" + b"z" * 130
    proto = TensorProto(dtype=types_pb2.DT_STRING, tensor_shape=_shape(3), tensor_content=content)
    expected = np.array([b"", b"a", b"z" * 130], dtype=object)
    _assert_same(tensor_from_proto(proto, "x"), expected)


@for_every_dtype
def test_a_scalar_reads_as_a_rank_0_tensor(dtype: tf.DType) -> None:
    value = _sample(dtype, (1,))[0]
    proto = tf.make_tensor_proto(value, dtype=dtype)
    assert proto.tensor_shape.dim == []
    got = tensor_from_proto(proto, "x")
    _assert_same(got, tf.make_ndarray(proto))
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
    _assert_same(tensor_from_proto(proto, "x"), np.array(2.0, np.float32))


@for_every_dtype
@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0, 2)], ids=["0", "0x3", "3x0x2"])
def test_an_empty_tensor_reads_as_empty(dtype: tf.DType, shape: tuple[int, ...]) -> None:
    proto = tf.make_tensor_proto(_sample(dtype, shape), dtype=dtype, shape=shape)
    got = tensor_from_proto(proto, "x")
    _assert_same(got, tf.make_ndarray(proto))
    assert got.shape == shape


def test_a_shape_with_no_elements_ignores_whatever_values_come_with_it() -> None:
    for proto in (
        TensorProto(dtype=types_pb2.DT_FLOAT, tensor_shape=_shape(0, 3), tensor_content=b"abc"),
        TensorProto(dtype=types_pb2.DT_INT32, tensor_shape=_shape(0), int_val=[1, 2, 3]),
    ):
        assert tensor_from_proto(proto, "x").size == 0


@for_every_dtype
def test_one_value_fills_the_whole_shape(dtype: tf.DType) -> None:
    """TensorFlow's fill rule: ``make_tensor_proto(value, shape=...)`` writes one value."""
    value = _sample(dtype, (2,))[1]
    proto = tf.make_tensor_proto(value, dtype=dtype, shape=[2, 3])
    assert len(getattr(proto, TYPED_FIELD[dtype])) in (1, 2)  # complex: one (re, im) pair
    got = tensor_from_proto(proto, "x")
    _assert_same(got, tf.make_ndarray(proto))
    _assert_same(got, np.full((2, 3), value, dtype=got.dtype))


@for_every_dtype
def test_fewer_values_repeat_the_last_and_none_means_zeros(dtype: tf.DType) -> None:
    sample = _sample(dtype, (6,))
    fewer = _typed(sample[:2], dtype)
    fewer.tensor_shape.CopyFrom(_shape(2, 3))
    expected = np.array([sample[0], sample[1], sample[1], sample[1], sample[1], sample[1]])
    _assert_same(tensor_from_proto(fewer, "x"), tf.make_ndarray(fewer))
    _assert_same(tensor_from_proto(fewer, "x"), expected.astype(sample.dtype).reshape(2, 3))

    # No value: zeros (make_ndarray pads strings with str "", TensorFlow's C++ with b"").
    none = TensorProto(dtype=dtype.as_datatype_enum, tensor_shape=_shape(2, 3))
    _assert_same(tensor_from_proto(none, "x"), _parsed_by_tensorflow(none))
    zero = b"" if dtype == tf.string else 0
    _assert_same(tensor_from_proto(none, "x"), np.full((2, 3), zero, dtype=sample.dtype))


@for_every_dtype
def test_more_typed_values_than_the_shape_holds_are_cut(dtype: tf.DType) -> None:
    """``FromProtoField`` copies the first n values; ``make_ndarray`` would refuse the proto."""
    sample = _sample(dtype, (6,))
    proto = _typed(sample, dtype)
    proto.tensor_shape.CopyFrom(_shape(2))
    _assert_same(tensor_from_proto(proto, "x"), sample[:2])


def test_values_in_another_dtypes_field_are_not_read() -> None:
    """``FromProto`` reads only its dtype's field: these protos hold no value, so zeros."""
    float_in_double = TensorProto(dtype=types_pb2.DT_FLOAT, tensor_shape=_shape(2))
    float_in_double.double_val.extend([1.0, 2.0])
    uint32_in_int = TensorProto(dtype=types_pb2.DT_UINT32, tensor_shape=_shape(1), int_val=[5])
    _assert_same(tensor_from_proto(float_in_double, "x"), np.zeros(2, np.float32))
    _assert_same(tensor_from_proto(uint32_in_int, "x"), np.zeros(1, np.uint32))


def test_an_int_val_outside_a_small_dtype_wraps_as_the_cpp_cast_does() -> None:
    """``int_val`` is int32; ``FromProto`` casts each value to the dtype (300 → int8 44)."""
    proto = TensorProto(dtype=types_pb2.DT_INT8, tensor_shape=_shape(2), int_val=[300, -129])
    expected = np.array([300, -129], dtype=np.int32).astype(np.int8)
    _assert_same(tensor_from_proto(proto, "x"), expected)


def test_a_shape_of_unknown_rank_without_dims_reads_as_tensorflow_reads_it() -> None:
    """``TensorShape::IsValid`` does not look at ``unknown_rank`` for a full shape (a comment in
    ``tensor_shape.cc`` keeps it for compatibility), so the proto is a scalar to TensorFlow."""
    proto = TensorProto(dtype=types_pb2.DT_FLOAT, float_val=[4.0])
    proto.tensor_shape.unknown_rank = True
    expected = tf.raw_ops.ParseTensor(serialized=proto.SerializeToString(), out_type=tf.float32)
    _assert_same(tensor_from_proto(proto, "x"), expected.numpy())


# --- reading: malformed protos -----------------------------------------------------------------


def _float_proto(*dims: int, **fields: object) -> TensorProto:
    return TensorProto(dtype=types_pb2.DT_FLOAT, tensor_shape=_shape(*dims), **fields)  # type: ignore[arg-type]


MALFORMED = {
    "content-too-short": _float_proto(3, tensor_content=b"\0" * 8),
    "content-too-long": _float_proto(1, tensor_content=b"\0" * 8),
    "content-not-a-whole-value": _float_proto(1, tensor_content=b"\0" * 5),
    "dt-invalid": TensorProto(dtype=types_pb2.DT_INVALID, tensor_shape=_shape(1), float_val=[1]),
    "unknown-dtype-999": TensorProto(dtype=999, tensor_shape=_shape(1), float_val=[1]),
    "dt-resource": TensorProto(dtype=types_pb2.DT_RESOURCE, tensor_shape=_shape(1)),
    "dt-variant": TensorProto(dtype=types_pb2.DT_VARIANT, tensor_shape=_shape(1)),
    "dt-float-ref": TensorProto(dtype=types_pb2.DT_FLOAT_REF, tensor_shape=_shape(1)),
    "negative-dim": _float_proto(-1, float_val=[1]),
    "negative-dim-content": _float_proto(2, -2, tensor_content=b"\0" * 16),
    "255-dims": _float_proto(*[1] * 255, float_val=[1]),
    "element-count-overflows": _float_proto(2**62, 2**62, float_val=[1]),
    "bool-content-byte-2": TensorProto(
        dtype=types_pb2.DT_BOOL, tensor_shape=_shape(2), tensor_content=b"\x01\x02"
    ),
    "string-content-too-short": TensorProto(
        dtype=types_pb2.DT_STRING, tensor_shape=_shape(2), tensor_content=b"\x05a"
    ),
    "half-content-odd": TensorProto(
        dtype=types_pb2.DT_HALF, tensor_shape=_shape(2), tensor_content=b"\0" * 3
    ),
}


@pytest.mark.parametrize("proto", MALFORMED.values(), ids=list(MALFORMED))
def test_a_proto_tensorflow_refuses_is_a_tensor_parsing_error_naming_the_alias(
    proto: TensorProto,
) -> None:
    error = _parse_error(proto, "my_input")
    assert (error.code, error.message) == (Code.INVALID_ARGUMENT, "tensor parsing error: my_input")


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
    error = _parse_error(_float_proto(*[1] * dims, **fields))
    assert (error.code, error.message) == (Code.INVALID_ARGUMENT, "tensor parsing error: x")


def test_a_tensor_over_2_gib_is_refused_before_it_is_allocated() -> None:
    """A stand-in limit (``MAX_TENSOR_BYTES``): one typed value would fill 4 TiB here."""
    error = _parse_error(_float_proto(2**20, 2**20, float_val=[1.0]))
    assert (error.code, error.message) == (Code.INVALID_ARGUMENT, "tensor parsing error: x")


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
    expected = _parsed_by_tensorflow(proto)
    if expected is None:
        error = _parse_error(proto)
        assert (error.code, error.message) == (Code.INVALID_ARGUMENT, "tensor parsing error: x")
    else:
        _assert_same(tensor_from_proto(proto, "x"), expected)


# --- writing: AsProtoField by default, AsProtoTensorContent with the flag ----------------------


@for_every_dtype
@for_output_shapes
def test_by_default_an_output_is_written_in_its_dtypes_typed_field(
    dtype: tf.DType, shape: tuple[int, ...]
) -> None:
    array = _sample(dtype, shape)
    proto = tensor_to_proto(array)
    assert proto.dtype == dtype.as_datatype_enum
    assert proto.HasField("tensor_shape")  # present for a scalar too
    assert [dim.size for dim in proto.tensor_shape.dim] == list(shape)
    assert not proto.tensor_content
    filled = [field.name for field, _ in proto.ListFields() if field.name.endswith("_val")]
    assert filled == ([TYPED_FIELD[dtype]] if array.size else [])
    assert proto == _typed(array, dtype)
    _assert_same(tf.make_ndarray(proto), array)


@for_every_numeric_dtype
@for_output_shapes
def test_with_the_flag_an_output_is_tensorflows_tensor_content(
    dtype: tf.DType, shape: tuple[int, ...]
) -> None:
    array = _sample(dtype, shape)
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
    _assert_same(parsed.numpy(), array)


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
    with pytest.raises(ServingStatusError) as caught:
        tensor_to_proto(np.array(["2024-01-01"], dtype="datetime64[D]"))
    assert caught.value.code is Code.INTERNAL


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
    _assert_same(tensor_from_proto(proto, "x"), array)
    _assert_same(tf.make_ndarray(proto), array)
