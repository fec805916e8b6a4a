"""The gRPC server flags that change an answer, each beside the answer without it.

One server for this module starts with every such flag; the shared zoo
(tests/conformance/conftest.py), started with none, shows the default:

- ``--enable_grpc_healthcheck_service``: gRPC's standard ``grpc.health.v1.Health``, with ``""``,
  ``ModelService`` and ``PredictionService`` SERVING (``server.cc``; notes 6.3). Without it, no
  health service: UNIMPLEMENTED.
- ``--grpc_channel_arguments=grpc.max_receive_message_length=4096,...``: TF Serving adds the
  arguments after ``SetMaxMessageSize(INT32_MAX)``, and gRPC lets the later value win, so a
  request over 4096 bytes is RESOURCE_EXHAUSTED. Without it, any size up to 2 GiB (notes 6.1/6.2).
- ``--enable_serialization_as_tensor_content``: Predict outputs in ``tensor_content``
  (``AsProtoTensorContent``) instead of the typed fields (``AsProtoField``; notes 2.3).
- ``--grpc_max_threads=1``: one RPC at a time.

The flags share one server (and so one module): under ``--dist loadfile`` a server that several
files used would start once in each worker that ran one of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import numpy as np
import pytest
import tensorflow as tf
from grpc_health.v1 import health_pb2, health_pb2_grpc
from tensorflow.core.framework import tensor_pb2, types_pb2
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from fashion.testing.served import ServedModelServer, running_model_server
from tests.support import REQUEST_TIMEOUT
from tests.support.config_files import ModelEntry, write_model_config
from tests.support.example_models import write_half_plus_two_model
from tests.support.grpc_predict import (
    live_stub,
    parsed_tensor,
    predict_request,
    rpc_error,
)
from tests.support.rest_probe import RestProbe, serving
from tests.support.savedmodels import write_dtypes_model, write_slow_model

pytestmark = pytest.mark.server

MAX_RECEIVE = 4096
#: Seconds the slow model sleeps per dataset step (a run takes one or two steps).
SLEEP_SECONDS = 0.15
#: The flags server's models and the version each serves.
FLAGS_SERVER_MODELS = {"default": 123, "slow": 1, "dtypes": 1}


@pytest.fixture(scope="module")
def featured(
    xprocess: Any, model_server_binary: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServedModelServer]:
    """``default`` (half_plus_two, version 123), ``slow`` and ``dtypes``, with the gRPC flags."""
    root = tmp_path_factory.mktemp("grpc-flags")
    write_half_plus_two_model(root / "default" / "123")
    write_slow_model(root / "slow" / "1", SLEEP_SECONDS)
    write_dtypes_model(root / "dtypes" / "1")
    config = write_model_config(
        root / "models.config", [ModelEntry(name, root / name) for name in FLAGS_SERVER_MODELS]
    )
    with running_model_server(
        xprocess,
        model_server_binary,
        "grpc-flags-server",
        config_file=config,
        extra_flags=[
            "--enable_grpc_healthcheck_service=true",
            "--enable_serialization_as_tensor_content=true",
            f"--grpc_channel_arguments=grpc.max_receive_message_length={MAX_RECEIVE},"
            "grpc.so_reuseaddr=1",
            "--grpc_max_threads=1",
        ],
        ready=serving({name: {version} for name, version in FLAGS_SERVER_MODELS.items()}),
    ) as server:
        yield server


@pytest.fixture(scope="module")
def featured_channel(featured: ServedModelServer) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(featured.grpc_target) as channel:
        yield channel


@pytest.fixture
def featured_stub(
    featured: ServedModelServer, featured_channel: grpc.Channel
) -> prediction_service_pb2_grpc.PredictionServiceStub:
    return live_stub(featured, featured_channel)


# --- the health service ------------------------------------------------------------------------


@pytest.mark.parametrize("service", ["", "ModelService", "PredictionService"])
def test_the_health_service_answers_serving_with_the_flag(
    featured: ServedModelServer, featured_channel: grpc.Channel, service: str
) -> None:
    featured.assert_alive()
    stub = health_pb2_grpc.HealthStub(featured_channel)
    response = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=REQUEST_TIMEOUT)
    assert response.status == health_pb2.HealthCheckResponse.SERVING


def test_the_health_service_knows_only_the_short_service_names(
    featured: ServedModelServer, featured_channel: grpc.Channel
) -> None:
    featured.assert_alive()
    stub = health_pb2_grpc.HealthStub(featured_channel)
    request = health_pb2.HealthCheckRequest(service="tensorflow.serving.PredictionService")
    failure = rpc_error(stub.Check, request)
    assert (failure.code(), failure.details()) == (
        grpc.StatusCode.NOT_FOUND,
        "service name unknown",
    )


def test_without_the_flag_the_health_service_is_unimplemented(zoo_channel: grpc.Channel) -> None:
    stub = health_pb2_grpc.HealthStub(zoo_channel)
    failure = rpc_error(stub.Check, health_pb2.HealthCheckRequest())
    assert failure.code() == grpc.StatusCode.UNIMPLEMENTED


# --- message sizes -----------------------------------------------------------------------------


def _predict_request_of_size(size: int) -> predict_pb2.PredictRequest:
    """A predict of ``x = [[2.0]]`` for ``default``, exactly ``size`` bytes long: padded with a
    dimension name, which TensorFlow's shapes ignore."""
    request = predict_request("default", {"x": np.array([[2.0]], np.float32)})
    dim = request.inputs["x"].tensor_shape.dim[0]
    for _ in range(5):  # length prefixes of the name and its enclosing messages grow too
        dim.name = "n" * (len(dim.name) + size - request.ByteSize())
    assert request.ByteSize() == size
    return request


def test_a_request_of_the_channel_arguments_max_size_is_answered(
    featured_stub: prediction_service_pb2_grpc.PredictionServiceStub,
) -> None:
    response = featured_stub.Predict(_predict_request_of_size(MAX_RECEIVE), timeout=REQUEST_TIMEOUT)
    np.testing.assert_array_equal(parsed_tensor(response.outputs["y"]), [[3.0]])


def test_a_request_one_byte_over_it_is_resource_exhausted(
    featured_stub: prediction_service_pb2_grpc.PredictionServiceStub,
) -> None:
    """testGoodGrpcChannelArgs passes arguments; this one shows the server applied it."""
    failure = rpc_error(featured_stub.Predict, _predict_request_of_size(MAX_RECEIVE + 1))
    assert failure.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert f"({MAX_RECEIVE + 1} vs. {MAX_RECEIVE})" in failure.details()


def test_by_default_requests_and_responses_over_grpcs_4_mib_default_pass(
    zoo_stub: prediction_service_pb2_grpc.PredictionServiceStub,
) -> None:
    """``SetMaxMessageSize(INT32_MAX)``: 6 MB each way (identity model)."""
    x = np.arange(1_500_000, dtype=np.float32)
    request = predict_request("identity", {"x": x})
    assert request.ByteSize() > 6_000_000
    response = zoo_stub.Predict(request, timeout=REQUEST_TIMEOUT)
    assert response.ByteSize() > 6_000_000
    np.testing.assert_array_equal(tf.make_ndarray(response.outputs["y"]), x)


# --- output serialisation ----------------------------------------------------------------------


def _half_plus_two_of_1_and_2(
    stub: prediction_service_pb2_grpc.PredictionServiceStub,
) -> tensor_pb2.TensorProto:
    """Output ``y`` of ``default`` (half_plus_two) for ``x = [[1], [2]]``: a float [2, 1]."""
    request = predict_request("default", {"x": np.array([[1.0], [2.0]], np.float32)})
    y = stub.Predict(request, timeout=REQUEST_TIMEOUT).outputs["y"]
    assert y.dtype == types_pb2.DT_FLOAT
    assert [dim.size for dim in y.tensor_shape.dim] == [2, 1]
    return y


def test_by_default_outputs_are_in_the_typed_fields(
    zoo_stub: prediction_service_pb2_grpc.PredictionServiceStub,
) -> None:
    y = _half_plus_two_of_1_and_2(zoo_stub)
    assert list(y.float_val) == [2.5, 3.0]
    assert y.tensor_content == b""


def test_with_the_flag_outputs_are_in_tensor_content(
    featured_stub: prediction_service_pb2_grpc.PredictionServiceStub,
) -> None:
    y = _half_plus_two_of_1_and_2(featured_stub)
    assert list(y.float_val) == []
    assert y.tensor_content == np.array([2.5, 3.0], "<f4").tobytes()


DTYPES_INPUTS = {
    "f": np.array([1.5, -2.0], np.float32),
    "d": np.array([0.1], np.float64),
    "i32": np.array([-(2**31), 7], np.int32),
    "i64": np.array([2**62], np.int64),
    "u32": np.array([2**32 - 1], np.uint32),
    "u64": np.array([2**64 - 1], np.uint64),
    "b": np.array([True, False, True]),
    "s": np.array([b"", b"\xff\x00", "é".encode()], dtype=object),
}


def test_both_encodings_carry_the_same_values_for_every_dtype(
    zoo_stub: prediction_service_pb2_grpc.PredictionServiceStub,
    featured_stub: prediction_service_pb2_grpc.PredictionServiceStub,
) -> None:
    request = predict_request("dtypes", DTYPES_INPUTS)
    typed = zoo_stub.Predict(request, timeout=REQUEST_TIMEOUT).outputs
    content = featured_stub.Predict(request, timeout=REQUEST_TIMEOUT).outputs
    assert set(typed) == set(content) == {*DTYPES_INPUTS, "s_bytes"}
    for alias in typed:
        assert typed[alias].tensor_content == b"", alias
        assert content[alias].tensor_content != b"", alias  # strings too
        sent = DTYPES_INPUTS["s" if alias == "s_bytes" else alias]
        for output in (typed[alias], content[alias]):
            value = parsed_tensor(output)
            assert value.dtype == sent.dtype, alias
            np.testing.assert_array_equal(value, sent)


def test_a_scalar_string_keeps_its_trailing_nul_bytes_over_grpc_and_rest(
    zoo_stub: prediction_service_pb2_grpc.PredictionServiceStub, zoo: RestProbe
) -> None:
    text = b"ab\x00\x00"
    request = predict_request(
        "edge", {"text": tf.make_tensor_proto(text)}, signature_name="strings"
    )
    outputs = zoo_stub.Predict(request, timeout=REQUEST_TIMEOUT).outputs
    assert list(outputs["text"].string_val) == list(outputs["text_bytes"].string_val) == [text]
    reply = zoo.predict("edge", {"signature_name": "strings", "inputs": {"text": "ab\u0000\u0000"}})
    assert reply.status == 200, reply
    assert reply.json() == {
        "outputs": {"text": "ab\u0000\u0000", "text_bytes": {"b64": "YWIAAA=="}}
    }


# --- --grpc_max_threads=1 ----------------------------------------------------------------------


def test_with_one_thread_a_second_slow_rpc_waits_and_both_succeed(
    featured_stub: prediction_service_pb2_grpc.PredictionServiceStub,
) -> None:
    """A documented choice of the stand-in: an RPC beyond ``--grpc_max_threads`` waits for a
    thread. TF Serving's gRPC C++ sync server may instead answer RESOURCE_EXHAUSTED (``Server
    Threadpool Exhausted``) when ``ResourceQuota::SetMaxThreads`` is used up (notes 6.1)."""
    request = predict_request("slow", {"x": np.array([1.0], np.float32)})
    with ThreadPoolExecutor(2) as pool:
        calls = [pool.submit(featured_stub.Predict, request, timeout=REQUEST_TIMEOUT) for _ in "ab"]
        responses = [call.result() for call in calls]
    runs = sorted(
        (float(parsed_tensor(r.outputs["started"])), float(parsed_tensor(r.outputs["finished"])))
        for r in responses
    )
    for response in responses:
        np.testing.assert_array_equal(parsed_tensor(response.outputs["y"]), [1.0])
    assert runs[1][0] >= runs[0][1], f"the runs overlapped: {runs}"
