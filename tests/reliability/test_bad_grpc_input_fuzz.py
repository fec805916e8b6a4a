"""Fuzzed gRPC requests get a status TF Serving's source allows, never a crash or a Python error.

The families (``tests.support.grpc_fuzz_tensors`` and ``grpc_fuzz_requests``) build
TensorProtos no client would write and push the rest of ``PredictionService`` to its edges; they
go to the fuzz server (shared with the REST fuzz) over one channel. Every answer must have one
of the codes its case allows - INVALID_ARGUMENT for a bad tensor, NOT_FOUND and
FAILED_PRECONDITION where TF Serving answers them - and the exact text where TF Serving's source
fixes it; never UNKNOWN or INTERNAL from an exception in the server (INTERNAL is gRPC's own
answer only to bytes that do not parse as the request). An OK answer must parse as the method's
response, and the channel must stay READY throughout: a dropped connection shows as the channel
leaving it.

The default run sends about a hundred cases. The slow run sends 10,000 after a warm-up of the
same families; then the server must still answer a good predict with version 1's outputs, and
its resident memory must not have grown by more than 50 MB since the warm-up.

Below them, what TensorFlow's ``ParseTensor`` does with a tensor of 2^40 elements, and what this
fuzz found in the stand-in (crashes and UNKNOWNs, fixed since), one test each.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2, types_pb2
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    inference_pb2,
    predict_pb2,
    regression_pb2,
)

from fashion.servers import ModelServerBinary
from fashion.testing.served import ServedModelServer
from tests.support import MODEL_NAME, QUICK_REQUEST_TIMEOUT, SLOW_REQUEST_TIMEOUT
from tests.support.fuzzing import (
    EXAMPLE_MODEL,
    RSS_LIMIT_BYTES,
    SLOW_CASES,
    Family,
    Tally,
    numpy_holds_rank,
    quick_fuzz,
    rss_of,
    warm_up_then_fuzz,
)
from tests.support.grpc_fuzz_requests import REQUEST_FAMILIES
from tests.support.grpc_fuzz_tensors import (
    IMAGES,
    INPUTS,
    INVALID,
    OK,
    TENSOR_FAMILIES,
    GrpcCase,
    floats,
    tensor_proto,
)
from tests.support.grpc_predict import open_channel, predict_request
from tests.support.traffic import VersionMatcher

pytestmark = pytest.mark.server

#: The slow run sends 10,600 cases after a warm-up of 480; the default run 111.
FAMILIES = TENSOR_FAMILIES + REQUEST_FAMILIES

_SERVICE = "/tensorflow.serving.PredictionService/"
_RESPONSES = {
    "Predict": predict_pb2.PredictResponse,
    "Classify": classification_pb2.ClassificationResponse,
    "Regress": regression_pb2.RegressionResponse,
    "MultiInference": inference_pb2.MultiInferenceResponse,
    "GetModelMetadata": get_model_metadata_pb2.GetModelMetadataResponse,
}


def _identity(data: bytes) -> bytes:
    return data


def _rpc(channel: grpc.Channel, method: str, payload: bytes) -> tuple[str, str, bytes]:
    """One ``PredictionService`` call of serialized bytes: (code name, details, answer bytes)."""
    rpc = channel.unary_unary(
        _SERVICE + method, request_serializer=_identity, response_deserializer=_identity
    )
    try:
        return "OK", "", rpc(payload, timeout=SLOW_REQUEST_TIMEOUT)
    except grpc.RpcError as exc:
        if not isinstance(exc, grpc.Call):  # what grpcio raises is both
            raise
        return exc.code().name, exc.details() or "", b""


@dataclass
class GrpcFuzzer:
    """Sends generated cases over one channel and checks every answer.

    The cases go out as bytes (their serialization, or the raw bytes of the ``wire`` family), so
    that one path sends all of them and the answer is read exactly as it came.
    """

    channel: grpc.Channel
    server: ServedModelServer
    tally: Tally = field(default_factory=Tally, repr=False)
    states: list[grpc.ChannelConnectivity] = field(default_factory=list, repr=False)
    previous: GrpcCase | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _watchers: list[threading.Thread] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        before = set(threading.enumerate())
        self.channel.subscribe(self._note_state, try_to_connect=True)
        # gRPC starts the thread that watches the channel inside subscribe().
        self._watchers = [thread for thread in threading.enumerate() if thread not in before]

    def close(self) -> None:
        """Stop watching the channel, and wait until gRPC's watching thread has ended."""
        self.channel.unsubscribe(self._note_state)
        for thread in self._watchers:
            thread.join(QUICK_REQUEST_TIMEOUT)
            assert not thread.is_alive(), f"gRPC's {thread.name} still watches the channel"

    def _note_state(self, state: grpc.ChannelConnectivity) -> None:
        with self._lock:
            self.states.append(state)

    def dropped(self) -> list[str]:
        """The states the channel passed through after it first was READY, if any was not."""
        with self._lock:
            states = list(self.states)
        ready = grpc.ChannelConnectivity.READY
        if ready not in states:
            return []
        after = states[states.index(ready) :]
        return [state.name for state in after] if any(s != ready for s in after) else []

    def restart_tally(self) -> None:
        """Count from zero again (after a warm-up)."""
        self.tally = Tally()

    def call(self, method: str, payload: bytes) -> tuple[str, str, bytes]:
        """One RPC: (code name, details, response bytes)."""
        return _rpc(self.channel, method, payload)

    def check(self, case: GrpcCase) -> None:
        """Send one case; assert an allowed code (and text), a parseable answer, no drop."""
        started = time.monotonic()
        code, details, response = self.call(case.method, case.payload)
        self.tally.record(case.family, code)
        if code in ("UNAVAILABLE", "DEADLINE_EXCEEDED"):
            self.server.assert_alive()  # fails with the server's log if it died
        took = f"{time.monotonic() - started:.2f} s"
        assert code in case.codes, f"{code} {details!r} after {took} for {case!r}"
        if code == "OK":
            _RESPONSES[case.method].FromString(response)
        elif case.details is not None:
            assert details == case.details, f"{code} after {took} for {case!r}"
        assert not self.dropped(), (
            f"the channel left READY ({self.dropped()}) by {case!r}, after {self.previous!r}"
        )
        self.previous = case


@pytest.fixture
def fuzz(fuzz_server: ServedModelServer) -> Iterator[GrpcFuzzer]:
    """A fuzzer on the fuzz server, over a channel of its own for the test.

    Not shared by the module: the thread that watches the channel calls into gRPC all along,
    and a test process that forks while a thread is in gRPC (to start a server, as the crash
    tests below do) is grpc/grpc#43055's case, which the fashion plugin works around; the thread
    has ended when the fixture is done.
    """
    fuzz_server.assert_alive()
    with open_channel(fuzz_server.grpc_target) as channel:
        fuzzer = GrpcFuzzer(channel, fuzz_server)
        try:
            yield fuzzer
        finally:
            fuzzer.close()


def _predict_matches_version_1(
    channel: grpc.Channel, request: predict_pb2.PredictRequest, matcher: VersionMatcher
) -> None:
    code, details, response = _rpc(channel, "Predict", request.SerializeToString())
    assert code == "OK", details
    outputs = predict_pb2.PredictResponse.FromString(response).outputs["probabilities"]
    assert matcher.judge_rows(tf.make_ndarray(outputs)).version == "v1"


@pytest.mark.parametrize("family", FAMILIES, ids=[f.name for f in FAMILIES])
def test_fuzzed_grpc_requests_get_an_allowed_status_and_never_a_crash_or_a_dropped_connection(
    fuzz: GrpcFuzzer,
    family: Family[GrpcCase],
    matcher: VersionMatcher,
    predict_grpc_request: predict_pb2.PredictRequest,
) -> None:
    quick_fuzz(fuzz, FAMILIES, family, 4_000)
    _predict_matches_version_1(fuzz.channel, predict_grpc_request, matcher)


@pytest.mark.slow
def test_10_000_fuzzed_grpc_requests_leave_the_server_answering_correctly_and_grown_under_50_mb(
    fuzz: GrpcFuzzer, matcher: VersionMatcher, predict_grpc_request: predict_pb2.PredictRequest
) -> None:
    rss_before = warm_up_then_fuzz(fuzz, FAMILIES, 5_000)
    _predict_matches_version_1(fuzz.channel, predict_grpc_request, matcher)
    rss_after = rss_of(fuzz.server.pid)
    print(fuzz.tally.summary("gRPC", rss_before, rss_after))
    assert fuzz.tally.total >= SLOW_CASES
    assert rss_after - rss_before <= RSS_LIMIT_BYTES


def _predict(
    channel: grpc.Channel, proto: tensor_pb2.TensorProto, *, model: str = MODEL_NAME, **options: Any
) -> tuple[str, str]:
    """Predict with one input (``images``, or ``alias=``); the answer's (code, details)."""
    alias = options.pop("alias", IMAGES)
    request = predict_request(model, {alias: proto}, **options)
    code, details, _ = _rpc(channel, "Predict", request.SerializeToString())
    return code, details


# ------------------------------------------------------- what TensorFlow does; what the fuzz found
@pytest.mark.parametrize(
    "dtype", [types_pb2.DT_FLOAT, types_pb2.DT_STRING], ids=["float", "string"]
)
def test_2_to_the_40_elements_get_tensor_parsing_error_at_once_without_growing_the_server(
    fuzz: GrpcFuzzer,
    dtype: int,
    model_server_binary: ModelServerBinary,
    matcher: VersionMatcher,
    predict_grpc_request: predict_pb2.PredictRequest,
) -> None:
    # Tensor::FromProto (TensorFlow's tensor.cc, which TF Serving calls, and ParseTensor too)
    # checks the shape - no negative dim, an element count that fits int64
    # (TensorShape::IsValid) - and then allocates the whole tensor before it reads a value: 4 TiB
    # here, 24 TiB of strings. Linux's default overcommit heuristic refuses one allocation
    # larger than RAM and swap, so FromProto fails at once and the answer is this one; a count
    # that fits in memory is allocated and filled from the few values sent. The stand-in refuses
    # any tensor past 2 GiB before it allocates (tensor_proto.py, MAX_TENSOR_BYTES).
    overcommit = Path("/proc/sys/vm/overcommit_memory").read_text().strip()
    if model_server_binary.is_real and overcommit == "1":
        pytest.skip("vm.overcommit_memory=1 grants 4 TiB: FromProto would fill it")
    rss_before = rss_of(fuzz.server.pid)
    proto = tensor_proto(dtype, [2**40])
    proto.float_val.append(1.0)  # what FromProto would repeat 2^40 times
    started = time.monotonic()
    assert _predict(fuzz.channel, proto) == (INVALID, "tensor parsing error: images")
    seconds = time.monotonic() - started
    fuzz.server.assert_alive()
    _predict_matches_version_1(fuzz.channel, predict_grpc_request, matcher)
    growth = rss_of(fuzz.server.pid) - rss_before
    name = types_pb2.DataType.Name(dtype)
    print(f"[2^40] {name}: answered in {seconds:.3f} s; server RSS {growth / 2**20:+.1f} MiB")
    assert seconds < 5
    assert growth < RSS_LIMIT_BYTES


#: Variant type names whose TensorFlow 2.21 decoders crash the process that parses a variant of
#: them that carries no tensors (tensor.cc's FromProtoField<Variant> calls DecodeUnaryVariant).
CRASHING_VARIANTS = (
    "tensorflow::Tensor",
    "tensorflow::TensorList",
    "tensorflow::data::WrappedDatasetVariant",
)


def test_variants_whose_decoders_crash_tensorflow_get_invalid_argument_and_the_server_lives(
    fuzz_server: ServedModelServer,
    matcher: VersionMatcher,
    predict_grpc_request: predict_pb2.PredictRequest,
) -> None:
    # Found by this fuzz: the stand-in parsed every proto with ParseTensor in its own process,
    # and TensorFlow 2.21 dies of SIGSEGV decoding these variants; it no longer decodes variants.
    with open_channel(fuzz_server.grpc_target) as channel:
        for type_name in CRASHING_VARIANTS:
            proto = tensor_proto(types_pb2.DT_VARIANT, [1])
            proto.variant_val.add(type_name=type_name)
            code, details = _predict(channel, proto)
            fuzz_server.assert_alive()
            assert code == INVALID, f"{type_name}: {code} {details}"
        _predict_matches_version_1(channel, predict_grpc_request, matcher)


@pytest.mark.parametrize("rank", [33, 64])
def test_a_string_tensor_of_rank_33_to_64_gets_invalid_argument_and_the_server_lives(
    fuzz_server: ServedModelServer,
    rank: int,
    matcher: VersionMatcher,
    predict_grpc_request: predict_pb2.PredictRequest,
) -> None:
    # Found by this fuzz: Tensor.numpy() dies of SIGSEGV for a string tensor of rank 33 to 64
    # (numbers convert); the stand-in now converts such a tensor flat.
    proto = tensor_proto(types_pb2.DT_STRING, [1] * rank)
    proto.string_val.append(b"a")
    with open_channel(fuzz_server.grpc_target) as channel:
        answer = _predict(channel, proto)
        fuzz_server.assert_alive()
        if numpy_holds_rank(rank) or fuzz_server.binary.is_real:
            assert answer == (INVALID, "Expects arg[0] to be float but string is provided")
        else:  # numpy 1 holds 32 dims: a documented deviation of the stand-in (docs/stand-in.md)
            assert answer == (INVALID, f"tensor parsing error: {IMAGES}")
        _predict_matches_version_1(channel, predict_grpc_request, matcher)


def test_dims_whose_int64_product_wraps_to_the_content_size_get_tensor_parsing_error(
    fuzz: GrpcFuzzer,
) -> None:
    # TensorShape::IsValid refuses an element count past int64 (tensor_shape.cc). The stand-in's
    # fast path for content once multiplied the dims in numpy's int64, which wraps around
    # (7 * 0x6DB6DB6DB6DB6DB7 is 1 mod 2^64): four bytes matched, reshape raised, and the
    # answer was UNKNOWN "Exception calling application: cannot reshape array of size 1 ...".
    proto = tensor_proto(types_pb2.DT_FLOAT, [7, 0x6DB6DB6DB6DB6DB7])
    proto.tensor_content = bytes(4)  # the one float the wrapped product asks for
    assert _predict(fuzz.channel, proto) == (INVALID, "tensor parsing error: images")


def test_invalid_utf8_that_parse_example_quotes_back_gets_invalid_argument_not_unknown(
    fuzz: GrpcFuzzer,
) -> None:
    # Found by this fuzz: TensorFlow's Python session cannot decode the status text, which quotes
    # the bytes, and raised UnicodeDecodeError: UNKNOWN 'Exception calling application: ...'.
    proto = tensor_proto(types_pb2.DT_STRING, [1])
    proto.string_val.append(b"\xff\x00 no example")
    options = {"model": EXAMPLE_MODEL, "alias": INPUTS, "signature_name": "classify_x_to_y"}
    code, details = _predict(fuzz.channel, proto, **options)
    assert code == INVALID, details
    assert details.startswith("Could not parse example input, value: '"), details


def test_an_input_sent_under_another_name_gets_the_missing_alias_text_of_get_input_values(
    fuzz: GrpcFuzzer,
) -> None:
    # The stand-in once looked the alias up in the request's protobuf map, whose indexing
    # inserts an empty TensorProto: the answer was "tensor parsing error: images".
    request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    request.model_spec.name = MODEL_NAME
    code, details, answer = fuzz.call("GetModelMetadata", request.SerializeToString())
    assert code == OK, details
    signatures = get_model_metadata_pb2.SignatureDefMap()
    get_model_metadata_pb2.GetModelMetadataResponse.FromString(answer).metadata[
        "signature_def"
    ].Unpack(signatures)
    feed = signatures.signature_def["serving_default"].inputs[IMAGES].name
    # tensorflow/cc/saved_model/util.cc, GetInputValues (the model has no default inputs).
    assert _predict(fuzz.channel, floats([1, 28, 28, 1]), alias="imagez") == (
        INVALID,
        f"Signature input alias: images(feed name: {feed}) not found in request and no default "
        "value provided. Inputs expected to be in the request {imagez}, or default input alias "
        "set: ",
    )
