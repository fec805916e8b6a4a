"""The gRPC fuzz's cases, and its families of TensorProtos no client would write.

A :class:`GrpcCase` is one ``PredictionService`` call with the status codes TF Serving's source
allows for it, and the exact text where that source fixes it. The families here send
``fashion_model`` (one float input, ``images``) and ``half_plus_two`` (float ``x``; string
``inputs``, read by ``ParseExample``) tensors with dtypes that are invalid, unknown or not the
input's, ``tensor_content`` of the wrong size, dims that are negative, overflow int64 or ask for
more memory than a machine has, and typed fields of absurd lengths; ``grpc_fuzz_requests`` has
the rest of the API.

What TF Serving answers: a tensor ``Tensor::FromProto`` refuses is INVALID_ARGUMENT ``tensor
parsing error: {alias}`` (``tensorflow/cc/saved_model/util.cc``, ``GetInputValues``); a dtype
the graph does not take is the session's INVALID_ARGUMENT ``Expects arg[0] to be float but
string is provided``; a tensor that reaches the model gets its kernels' codes (INVALID_ARGUMENT,
and UNIMPLEMENTED from the fused convolution for zero input channels). ``FromProto`` is lenient:
typed values fewer than the elements repeat the last one (none means zeros), more are dropped,
other dtypes' fields are ignored, and a tensor of no elements ignores its content.

What this fuzz found in the stand-in, and the stand-in no longer does, each with its own test in
``tests/reliability/test_bad_grpc_input_fuzz.py``: variants naming ``tensorflow::Tensor``,
``tensorflow::TensorList`` or ``tensorflow::data::WrappedDatasetVariant`` crashed it (their
decoders crash the process that parses an empty one; the families send them too); so did
string tensors of rank 33 to 64 (TensorFlow's conversion to numpy); invalid UTF-8 that
``ParseExample`` quotes back was UNKNOWN. No case sends element counts a machine could
allocate, above 2^20: ``FromProto`` allocates and fills them, so a few bytes of request can make
TF Serving take gigabytes (the stand-in refuses tensors past 2 GiB, and builds smaller ones).
Counts of 2^47 elements and more are sent: no x86-64 process can map that many bytes, so every
server refuses them.

Imports TensorFlow (the message classes) and Hypothesis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from google.protobuf import text_format
from google.protobuf.message import Message
from hypothesis import strategies as st
from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2

from tests.support import MODEL_NAME
from tests.support.fuzzing import EXAMPLE_MODEL, Family
from tests.support.grpc_predict import predict_request

__all__ = [
    "FAILED_PRECONDITION",
    "IMAGES",
    "INPUTS",
    "INVALID",
    "NOT_FOUND",
    "OK",
    "RUN",
    "TENSOR_FAMILIES",
    "UNIMPLEMENTED",
    "UNPARSEABLE",
    "GrpcCase",
    "X",
    "floats",
    "int32s",
    "int64s",
    "tensor_proto",
]

OK, INVALID, NOT_FOUND = "OK", "INVALID_ARGUMENT", "NOT_FOUND"
FAILED_PRECONDITION, UNIMPLEMENTED = "FAILED_PRECONDITION", "UNIMPLEMENTED"
#: gRPC's own answer to bytes that do not parse as the request (grpc++ and grpcio alike).
UNPARSEABLE = "INTERNAL"
#: What running the fashion model on a float tensor of any shape may answer.
RUN = frozenset({OK, INVALID, UNIMPLEMENTED})

IMAGES, X, INPUTS = "images", "x", "inputs"


@dataclass(frozen=True)
class GrpcCase:
    """One RPC and the answers it may get.

    Attributes:
        family: the family that generated it.
        method: the ``PredictionService`` method (``"Predict"``).
        request: the request message, or raw bytes sent as its serialization.
        codes: status code names TF Serving's source allows.
        details: the exact status text, where TF Serving's source fixes it.
    """

    family: str
    method: str
    request: Message | bytes
    codes: frozenset[str]
    details: str | None = None

    @property
    def payload(self) -> bytes:
        """The bytes on the wire."""
        if isinstance(self.request, bytes):
            return self.request
        return self.request.SerializeToString()

    def __repr__(self) -> str:
        if isinstance(self.request, bytes):
            shown = repr(self.request[:300])
        else:
            shown = text_format.MessageToString(self.request, as_one_line=True)
        shown = shown if len(shown) <= 600 else shown[:600] + "..."
        expected = sorted(self.codes) + ([repr(self.details)] if self.details else [])
        return (
            f"GrpcCase({self.family}: {self.method} [{len(self.payload)} bytes] {shown} "
            f"-> {' '.join(expected)})"
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """How Hypothesis prints a failing case (else every field, megabytes of values)."""
        printer.text(repr(self))


def tensor_proto(
    dtype: int, dims: list[int], *, unknown_rank: bool = False
) -> tensor_pb2.TensorProto:
    """A TensorProto with a dtype and a shape, and no values yet."""
    shape = tensor_shape_pb2.TensorShapeProto(
        dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=size) for size in dims],
        unknown_rank=unknown_rank,
    )
    return tensor_pb2.TensorProto(dtype=dtype, tensor_shape=shape)


def floats(dims: list[int], value: float = 0.5) -> tensor_pb2.TensorProto:
    """A float tensor of ``dims`` filled with ``value`` (one typed value, repeated)."""
    proto = tensor_proto(types_pb2.DT_FLOAT, dims)
    proto.float_val.append(value)
    return proto


def _predict(
    alias: str, proto: tensor_pb2.TensorProto, model: str = MODEL_NAME, signature: str = ""
) -> Message:
    return predict_request(model, {alias: proto}, signature_name=signature)


int32s = st.integers(-(2**31), 2**31 - 1)
int64s = st.integers(-(2**63), 2**63 - 1)
_dtype_numbers = st.sampled_from(sorted(types_pb2.DataType.values())) | int32s
_image_dims = st.integers(1, 3).map(lambda n: [n, 28, 28, 1])
_small_dims = st.lists(st.integers(0, 4), max_size=4)
# Every typed field of TensorProto, with values its type accepts.
_TYPED_VALUES = {
    "float_val": st.floats(width=32),
    "double_val": st.floats(),
    "int_val": int32s,
    "half_val": int32s,
    "string_val": st.binary(max_size=8),
    "scomplex_val": st.floats(width=32),
    "int64_val": int64s,
    "bool_val": st.booleans(),
    "dcomplex_val": st.floats(),
    "uint32_val": st.integers(0, 2**32 - 1),
    "uint64_val": st.integers(0, 2**64 - 1),
}
_ITEMSIZE = {
    types_pb2.DT_FLOAT: 4, types_pb2.DT_DOUBLE: 8, types_pb2.DT_INT32: 4, types_pb2.DT_INT64: 8,
    types_pb2.DT_UINT8: 1, types_pb2.DT_INT8: 1, types_pb2.DT_INT16: 2, types_pb2.DT_UINT16: 2,
    types_pb2.DT_HALF: 2, types_pb2.DT_BFLOAT16: 2, types_pb2.DT_BOOL: 1,
    types_pb2.DT_COMPLEX64: 8, types_pb2.DT_UINT32: 4, types_pb2.DT_UINT64: 8,
}  # fmt: skip
# Variant type names; the last three have decoders that crash TensorFlow 2.21 (module doc).
_VARIANT_NAMES = (
    "", "x", "int", "float", "double", "bool", "string", "tensorflow::TensorMap",
    "tensorflow::CSRSparseMatrix", "tensorflow::data::Optional",
    "tensorflow::DatasetVariantWrapper", "tensorflow::WrappedDatasetVariantWrapper",
    "RaggedTensorVariant", "CompositeTensorVariant", "tensorflow::Iterator",
    "tensorflow::Tensor", "tensorflow::TensorList", "tensorflow::data::WrappedDatasetVariant",
)  # fmt: skip


@st.composite
def _fill(draw: st.DrawFn, proto: tensor_pb2.TensorProto) -> tensor_pb2.TensorProto:
    """A few values in one or two typed fields, content, variants or resource handles."""
    for _ in range(draw(st.integers(0, 2))):
        name = draw(st.sampled_from(sorted(_TYPED_VALUES)))
        getattr(proto, name).extend(draw(st.lists(_TYPED_VALUES[name], max_size=4)))
    if draw(st.integers(0, 4)) == 0:
        proto.tensor_content = draw(st.binary(max_size=64))
    if draw(st.integers(0, 5)) == 0:
        proto.float8_val = draw(st.binary(max_size=8))
    if draw(st.integers(0, 3)) == 0:
        for _ in range(draw(st.integers(1, 2))):
            variant = proto.variant_val.add(
                type_name=draw(st.sampled_from(_VARIANT_NAMES)),
                metadata=draw(st.binary(max_size=16)),
            )
            for _ in range(draw(st.integers(0, 2))):
                inner = variant.tensors.add()
                inner.CopyFrom(tensor_proto(draw(_dtype_numbers), draw(_small_dims)))
                inner.float_val.extend(draw(st.lists(st.floats(width=32), max_size=2)))
    if draw(st.integers(0, 5)) == 0:
        handle = proto.resource_handle_val.add(
            device=draw(st.sampled_from(["", "/cpu:0", "x"])), name=draw(st.text(max_size=4))
        )
        for _ in range(draw(st.integers(0, 2))):
            entry = handle.dtypes_and_shapes.add(dtype=draw(_dtype_numbers))
            entry.shape.CopyFrom(tensor_proto(0, draw(st.lists(int64s, max_size=3))).tensor_shape)
    return proto


@st.composite
def _dtypes(draw: st.DrawFn) -> GrpcCase:
    """Any dtype number - DT_INVALID, DT_RESOURCE, DT_VARIANT, reference types, numbers no enum
    names - with values in any field: only DT_FLOAT is the model's input."""
    dtype = draw(
        st.sampled_from([0, types_pb2.DT_VARIANT, types_pb2.DT_RESOURCE, types_pb2.DT_FLOAT])
        | _dtype_numbers
    )
    proto = draw(_fill(tensor_proto(dtype, draw(_image_dims))))
    codes = frozenset({OK, INVALID} if dtype == types_pb2.DT_FLOAT else {INVALID})
    return GrpcCase("dtypes", "Predict", _predict(IMAGES, proto), codes)


@st.composite
def _content_size(draw: st.DrawFn) -> GrpcCase:
    """``tensor_content`` of another size than the shape calls for (or, rarely, the same)."""
    dtype = draw(st.sampled_from([*sorted(_ITEMSIZE), types_pb2.DT_STRING]))
    dims = draw(_image_dims | _small_dims)
    count = 1
    for size in dims:
        count *= size
    wanted = _ITEMSIZE.get(dtype, 1) * count
    length = draw(st.sampled_from([wanted - 1, wanted + 1, 1, 3]) | st.integers(1, 4 * wanted + 8))
    proto = tensor_proto(dtype, dims)
    proto.tensor_content = draw(st.binary(min_size=max(length, 1), max_size=max(length, 1)))
    exact = len(proto.tensor_content) == wanted or count == 0
    codes = RUN if dtype == types_pb2.DT_FLOAT and exact else frozenset({INVALID})
    return GrpcCase("content_size", "Predict", _predict(IMAGES, proto), codes)


def _wrapping_dims(first: int) -> list[int]:
    """``[first, second]`` whose product overflows int64 and wraps around, mod 2^64, to 1 to 16
    elements: an int64 product would find that much content the right size."""
    first |= 1  # odd, so invertible mod 2^64
    inverse = pow(first, -1, 2**64)
    for elements in range(1, 17):
        second = elements * inverse % 2**64
        if 2**32 < second < 2**63:
            return [first, second]
    return [7, 0x6DB6DB6DB6DB6DB7]  # 7 times it is 1 mod 2^64


@st.composite
def _huge_dims(draw: st.DrawFn) -> GrpcCase:
    """Negative dims, element counts past int64, counts no machine can allocate (2^47 and up),
    ranks past TensorShape's 254, unknown rank, zero-element tensors with huge dims."""
    kinds = ["negative", "overflow", "wrap", "unallocatable", "rank", "zero", "rank?"]
    kind = draw(st.sampled_from(kinds))
    dtypes = [types_pb2.DT_FLOAT, types_pb2.DT_STRING, types_pb2.DT_UINT8]
    if kind == "negative":
        dims = draw(st.lists(st.integers(0, 8), max_size=3))
        dims.insert(draw(st.integers(0, len(dims))), draw(st.integers(-(2**63), -1)))
    elif kind == "overflow":
        first = draw(st.integers(2**32, 2**63 - 1))
        dims = [first, draw(st.integers((2**63 - 1) // first + 1, 2**63 - 1))]
        dims += draw(st.lists(st.integers(1, 8), max_size=2))
    elif kind == "wrap":
        dims = _wrapping_dims(draw(st.integers(3, 2**20)))
    elif kind == "unallocatable":
        total = draw(st.integers(47, 62))
        first = draw(st.integers(0, total))
        dims = [2**first, 2 ** (total - first)] if draw(st.booleans()) else [2**total]
    elif kind == "rank":
        dims = [1] * draw(st.sampled_from([33, 64, 65, 254, 255, 300]))
        dtypes = dtypes[::2]  # no strings: see the module doc
    elif kind == "zero":
        dims = [0, draw(st.integers(2**20, 2**62)), draw(st.integers(1, 2**20)), 1]
    else:
        dims = draw(_image_dims | _small_dims)
    dtype = draw(st.sampled_from(dtypes))
    proto = tensor_proto(dtype, dims, unknown_rank=kind == "rank?" and draw(st.booleans()))
    if dtype == types_pb2.DT_STRING:
        proto.string_val.extend(draw(st.lists(st.binary(max_size=3), max_size=3)))
    else:
        proto.float_val.extend(draw(st.lists(st.floats(width=32), max_size=3)))
        proto.int_val.extend(draw(st.lists(st.integers(0, 255), max_size=3)))
    if kind == "wrap":  # content of the size the product wrapped around to
        proto.tensor_content = bytes(_ITEMSIZE.get(dtype, 1) * (math.prod(dims) % 2**64))
    elif kind in ("negative", "overflow", "unallocatable") and draw(st.booleans()):
        proto.tensor_content = draw(st.binary(min_size=1, max_size=16))
    lenient = kind in ("zero", "rank?") and dtype == types_pb2.DT_FLOAT
    # Only the fashion model refuses every rank but 4: half_plus_two's x takes any. (The
    # stand-in refuses ranks 65 to 254 there, which numpy cannot hold; TF Serving runs them.)
    targets = [(MODEL_NAME, IMAGES)] + ([(EXAMPLE_MODEL, X)] if kind != "rank" else [])
    model, alias = draw(st.sampled_from(targets))
    codes = RUN if lenient else frozenset({INVALID})
    return GrpcCase("huge_dims", "Predict", _predict(alias, proto, model), codes)


_TYPE_NAMES = {
    types_pb2.DT_FLOAT: "float", types_pb2.DT_DOUBLE: "double", types_pb2.DT_INT32: "int32",
    types_pb2.DT_INT64: "int64", types_pb2.DT_BOOL: "bool", types_pb2.DT_HALF: "half",
    types_pb2.DT_UINT8: "uint8", types_pb2.DT_STRING: "string",
}  # fmt: skip
_utf8 = st.text(max_size=16).map(str.encode)


@st.composite
def _type_mismatch(draw: st.DrawFn) -> GrpcCase:
    """Strings into float inputs, numbers into the string input ``ParseExample`` reads, and
    text that is no serialized ``tf.Example`` into it."""
    model, signature, alias, wanted = draw(
        st.sampled_from(
            [
                (MODEL_NAME, "", IMAGES, types_pb2.DT_FLOAT),
                (EXAMPLE_MODEL, "", X, types_pb2.DT_FLOAT),
                (EXAMPLE_MODEL, "classify_x_to_y", INPUTS, types_pb2.DT_STRING),
                (EXAMPLE_MODEL, "regress_x_to_y", INPUTS, types_pb2.DT_STRING),
            ]
        )
    )
    dtype = draw(st.sampled_from(sorted(_TYPE_NAMES)))
    dims = draw(_image_dims if model == MODEL_NAME else st.lists(st.integers(1, 3), max_size=2))
    proto = tensor_proto(dtype, dims)
    if dtype == types_pb2.DT_STRING:
        # Invalid UTF-8 only where no kernel quotes it back (see the module doc).
        strings = _utf8 if alias == INPUTS else st.binary(max_size=16)
        proto.string_val.extend(draw(st.lists(strings, min_size=1, max_size=4)))
    else:
        proto.float_val.append(draw(st.floats(width=32)))
        proto.int_val.append(draw(st.integers(0, 1)))
        proto.int64_val.append(draw(int64s))
        proto.double_val.append(draw(st.floats()))
        proto.bool_val.append(draw(st.booleans()))
        proto.half_val.append(draw(st.integers(0, 2**16 - 1)))
    request = _predict(alias, proto, model, signature)
    if dtype != wanted:
        details = f"Expects arg[0] to be {_TYPE_NAMES[wanted]} but {_TYPE_NAMES[dtype]} is provided"
        return GrpcCase("type_mismatch", "Predict", request, frozenset({INVALID}), details)
    return GrpcCase("type_mismatch", "Predict", request, frozenset({OK, INVALID}))


_LENGTHS = (0, 1, 2, 783, 784, 785, 2_351, 2_353, 10_000, 100_000, 300_000, 1_000_000)


@st.composite
def _typed_lengths(draw: st.DrawFn) -> GrpcCase:
    """Typed fields of absurd lengths: fewer values than elements repeat the last one, more are
    dropped, other fields than the dtype's are ignored (``tensor.cc``, ``FromProtoField``)."""
    proto = tensor_proto(types_pb2.DT_FLOAT, draw(_image_dims))
    proto.float_val.extend([draw(st.floats(width=32))] * draw(st.sampled_from(_LENGTHS)))
    other = draw(st.sampled_from(["int_val", "string_val", "double_val", "half_val"]))
    getattr(proto, other).extend([draw(_TYPED_VALUES[other])] * draw(st.sampled_from(_LENGTHS[:9])))
    return GrpcCase("typed_lengths", "Predict", _predict(IMAGES, proto), frozenset({OK}))


# (name, strategy, slow, quick, warm-up). typed_lengths warms up a third of what it runs: its
# messages of megabytes set the server's memory high-water mark, which is not growth.
TENSOR_FAMILIES: tuple[Family[GrpcCase], ...] = (
    Family("dtypes", _dtypes(), 1_500, 12, 40),
    Family("content_size", _content_size(), 1_200, 10, 30),
    Family("huge_dims", _huge_dims(), 1_500, 12, 40),
    Family("type_mismatch", _type_mismatch(), 1_000, 10, 30),
    Family("typed_lengths", _typed_lengths(), 300, 5, 100),
)
