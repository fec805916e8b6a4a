"""TensorProtos in and out, as TensorFlow's C++ ``Tensor`` reads and writes them.

Requests carry ``TensorProto`` inputs (gRPC Predict, warm-up predict records). TF Serving turns
each into a tensor with ``Tensor::FromProto`` (through ``saved_model::GetInputValues``), and a
proto it refuses becomes INVALID_ARGUMENT ``tensor parsing error: {alias}``. ``FromProto`` is
lenient in ways a hand-written reader would miss (too few typed values repeat the last one, none
means zeros, extra ones are dropped, no shape means a scalar), so the stand-in asks TensorFlow's
own C++ parser, the ``ParseTensor`` kernel, which calls ``FromProto``.

Two limits are the stand-in's own, refused with the same text: a proto that would become a
tensor of more than 2 GiB (the largest message gRPC carries here), before anything is allocated
(``FromProto`` would fill such a tensor from a few typed values, and the real server would try);
and a tensor of more dimensions than numpy holds (64; TensorFlow allows 254).

Outputs go back as ``Tensor::AsProtoField`` writes them (typed fields such as ``float_val``), or,
with ``--enable_serialization_as_tensor_content``, as ``AsProtoTensorContent`` does (the raw
little-endian buffer; strings as TensorFlow's varint-length list), as ``predict_util.cc`` does.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2, types_pb2

from fashion.serving.runtime.encoded_lists import encode_list
from fashion.serving.runtime.session_callables import MAX_STRING_RANK
from fashion.serving.status import Code, ServingStatusError

__all__ = ["MAX_TENSOR_BYTES", "tensor_from_proto", "tensor_to_proto"]

MAX_TENSOR_BYTES = 2**31 - 1
"""The largest tensor a request may make the stand-in build (the gRPC message limit)."""

# dtype -> the TensorProto field AsProtoField fills (``tensor.cc``'s ProtoHelper).
_FIELDS = {
    types_pb2.DT_FLOAT: "float_val",
    types_pb2.DT_DOUBLE: "double_val",
    types_pb2.DT_INT32: "int_val",
    types_pb2.DT_INT16: "int_val",
    types_pb2.DT_INT8: "int_val",
    types_pb2.DT_UINT8: "int_val",
    types_pb2.DT_UINT16: "int_val",
    types_pb2.DT_INT64: "int64_val",
    types_pb2.DT_UINT32: "uint32_val",
    types_pb2.DT_UINT64: "uint64_val",
    types_pb2.DT_BOOL: "bool_val",
    types_pb2.DT_STRING: "string_val",
}
_HALF_BITS = {types_pb2.DT_HALF, types_pb2.DT_BFLOAT16}  # half_val holds their bit patterns
_COMPLEX = {types_pb2.DT_COMPLEX64: "scomplex_val", types_pb2.DT_COMPLEX128: "dcomplex_val"}


def tensor_from_proto(proto: tensor_pb2.TensorProto, alias: str) -> np.ndarray:
    """The tensor ``Tensor::FromProto`` makes of ``proto``.

    Args:
        proto: a request's input.
        alias: the input's name, for the error text.

    Raises:
        ServingStatusError: INVALID_ARGUMENT ``tensor parsing error: {alias}`` when TensorFlow
            refuses the proto (no or an unknown dtype, a bad shape, content of the wrong size).
    """
    fast = _exact_content(proto)
    if fast is None:
        fast = _exact_typed(proto)
    if fast is not None:
        return fast
    try:
        if proto.dtype == types_pb2.DT_VARIANT:
            # Never decoded: numpy holds no variant, and decoding an empty variant of
            # tensorflow::Tensor, TensorList or WrappedDatasetVariant kills the process.
            raise ValueError("a variant")
        dtype = tf.dtypes.as_dtype(proto.dtype)
        if _too_large(proto, dtype):
            raise ValueError("larger than the stand-in builds")
        tensor = tf.raw_ops.ParseTensor(serialized=proto.SerializeToString(), out_type=dtype)
        if dtype == tf.string and tensor.shape.rank > MAX_STRING_RANK:
            # Tensor.numpy() of such a string tensor segfaults too; a flat one converts.
            flat = tf.reshape(tensor, [-1]).numpy()
            return np.array(list(flat), dtype=object).reshape(tensor.shape.as_list())
        value = tensor.numpy()
    except (tf.errors.OpError, TypeError, ValueError):
        raise ServingStatusError(Code.INVALID_ARGUMENT, f"tensor parsing error: {alias}") from None
    if dtype == tf.string:  # a scalar comes as bytes: numpy's "S" dtype would drop trailing NULs
        return np.array(value, dtype=object)
    return np.asarray(value)


# Numeric dtypes whose tensor_content is plain little-endian numpy data.
_CONTENT_TYPES = {
    types_pb2.DT_FLOAT: np.dtype("<f4"),
    types_pb2.DT_DOUBLE: np.dtype("<f8"),
    types_pb2.DT_INT32: np.dtype("<i4"),
    types_pb2.DT_INT64: np.dtype("<i8"),
    types_pb2.DT_UINT8: np.dtype("u1"),
    types_pb2.DT_INT8: np.dtype("i1"),
    types_pb2.DT_INT16: np.dtype("<i2"),
    types_pb2.DT_UINT16: np.dtype("<u2"),
    types_pb2.DT_UINT32: np.dtype("<u4"),
    types_pb2.DT_UINT64: np.dtype("<u8"),
}
_MAX_RANK = 254  # TensorShape::MaxDimensions()


def _exact_content(proto: tensor_pb2.TensorProto) -> np.ndarray | None:
    """The common case without a TensorFlow op: numeric ``tensor_content`` of exactly the size
    the shape calls for, which ``FromProto`` copies as it is. Anything else: None."""
    numpy_type = _CONTENT_TYPES.get(proto.dtype)
    if numpy_type is None:
        return None
    content = proto.tensor_content  # read once: every read copies the bytes out of the message
    shape = proto.tensor_shape
    if not content or shape.unknown_rank:
        return None
    dims = [dim.size for dim in shape.dim]
    if len(dims) > _MAX_RANK or any(size < 0 for size in dims):
        return None
    if len(content) != numpy_type.itemsize * math.prod(dims):
        return None
    try:
        array = np.frombuffer(content, dtype=numpy_type).reshape(dims)
    except ValueError:  # more dimensions than numpy holds: the slow path refuses it
        return None
    return array if numpy_type.isnative else array.astype(numpy_type.newbyteorder("="))


# Typed fields whose values numpy reads straight from the repeated field (no Python objects).
_TYPED = {
    types_pb2.DT_FLOAT: ("float_val", np.dtype(np.float32)),
    types_pb2.DT_DOUBLE: ("double_val", np.dtype(np.float64)),
    types_pb2.DT_INT32: ("int_val", np.dtype(np.int32)),
    types_pb2.DT_INT64: ("int64_val", np.dtype(np.int64)),
}


def _exact_typed(proto: tensor_pb2.TensorProto) -> np.ndarray | None:
    """Typed values (``float_val``...) exactly as many as the shape calls for and no
    ``tensor_content``: ``FromProto`` copies them as they are. Anything else: None."""
    typed = _TYPED.get(proto.dtype)
    shape = proto.tensor_shape
    if typed is None or proto.tensor_content or shape.unknown_rank:
        return None
    dims = [dim.size for dim in shape.dim]
    if len(dims) > _MAX_RANK or any(size < 0 for size in dims):
        return None
    values = getattr(proto, typed[0])
    count = math.prod(dims)
    if count == 0 or len(values) != count:
        return None
    try:
        return np.array(values, dtype=typed[1]).reshape(dims)
    except ValueError:  # more dimensions than numpy holds: the slow path refuses it
        return None


def _too_large(proto: tensor_pb2.TensorProto, dtype: tf.DType) -> bool:
    """Whether a valid shape asks for more than :data:`MAX_TENSOR_BYTES` (strings: 1 B each)."""
    if proto.tensor_shape.unknown_rank:
        return False
    count = 1
    for dim in proto.tensor_shape.dim:
        if dim.size < 0:
            return False  # an invalid shape: TensorFlow refuses it itself
        count *= dim.size
    item = dtype.size if dtype.size else 1
    return count * item > MAX_TENSOR_BYTES


_DATATYPES: dict[np.dtype, int] = {}


def _datatype(array: np.ndarray) -> int:
    datatype = _DATATYPES.get(array.dtype)
    if datatype is None:
        if array.dtype.kind in "OSU":
            datatype = types_pb2.DT_STRING
        else:
            datatype = tf.dtypes.as_dtype(array.dtype).as_datatype_enum
        _DATATYPES[array.dtype] = datatype
    return datatype


def _as_bytes(value: object) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)  # type: ignore[arg-type]


def tensor_to_proto(
    array: np.ndarray,
    *,
    as_content: bool = False,
    into: tensor_pb2.TensorProto | None = None,
    variant: bool = False,
) -> tensor_pb2.TensorProto:
    """The proto TF Serving writes for an output tensor.

    Args:
        array: the tensor the run produced.
        as_content: ``AsProtoTensorContent`` (``--enable_serialization_as_tensor_content``)
            instead of ``AsProtoField``.
        into: an empty proto to fill in place (a response's map entry); a new one otherwise.
        variant: ``array`` holds a variant's ``VariantTensorDataProto``s (``variant_outputs``):
            written to ``variant_val``, or as content the way strings are (``EncodeVariantList``).

    Raises:
        ServingStatusError: INTERNAL for a dtype neither form can carry (resource).
    """
    array = np.asarray(array)
    try:
        datatype = types_pb2.DT_VARIANT if variant else _datatype(array)
    except TypeError:
        raise ServingStatusError(
            Code.INTERNAL, f"Cannot serialize a tensor of numpy dtype {array.dtype}"
        ) from None
    proto = tensor_pb2.TensorProto() if into is None else into
    proto.dtype = datatype
    proto.tensor_shape.SetInParent()  # present even for a scalar, as AsProtoField writes it
    dims = proto.tensor_shape.dim
    for size in array.shape:
        dims.add(size=size)
    flat = array.reshape(-1)
    if datatype == types_pb2.DT_VARIANT and not as_content:
        proto.variant_val.extend(flat.tolist())
    elif datatype in (types_pb2.DT_STRING, types_pb2.DT_VARIANT):
        if datatype == types_pb2.DT_VARIANT:
            values = [element.SerializeToString() for element in flat.tolist()]
        else:
            values = [_as_bytes(value) for value in flat.tolist()]
        if as_content:
            proto.tensor_content = encode_list(values)
        else:
            proto.string_val.extend(values)
    elif as_content:
        proto.tensor_content = flat.astype(flat.dtype.newbyteorder("<"), copy=False).tobytes()
    elif datatype in _HALF_BITS:
        proto.half_val.extend(flat.view(np.uint16).tolist())
    elif datatype in _COMPLEX:
        getattr(proto, _COMPLEX[datatype]).extend(flat.view(flat.real.dtype).tolist())
    elif datatype in _FIELDS:
        getattr(proto, _FIELDS[datatype]).extend(flat.tolist())
    else:
        raise ServingStatusError(
            Code.INTERNAL, f"Cannot serialize a tensor of dtype {types_pb2.DataType.Name(datatype)}"
        )
    return proto
