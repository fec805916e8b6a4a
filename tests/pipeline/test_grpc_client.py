"""The gRPC client against a scripted in-process gRPC server: arguments, answers, every failure.

The server here is TF Serving's two services with no model behind them
(``tests.support.scripted_grpc``): each test scripts what an RPC answers and reads what the
client sent. What the client sends and reads back for Predict, Classify, Regress and
ReloadConfig is test_grpc_client_requests.py's. The tests against a real server process are the
serving suite's (tests/suite): each behaviour REST and gRPC share runs over both, and
tests/suite/test_half_plus_two.py has what only gRPC has.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from tensorflow.core.framework import types_pb2
from tensorflow_serving.apis import get_model_metadata_pb2, get_model_status_pb2

from fashion.clients import (
    ServingConnectionError,
    ServingProtocolError,
    ServingRPCError,
    ServingTimeoutError,
    VersionStatus,
)
from fashion.clients.grpc import GrpcServingClient
from fashion.servers import free_port
from tests.support.scripted_grpc import (
    ScriptedServing,
    metadata_answer,
    predict_answer,
    signature,
    status_answer,
)


@pytest.fixture
def client(scripted_server: tuple[ScriptedServing, int]) -> Iterator[GrpcServingClient]:
    with GrpcServingClient(f"127.0.0.1:{scripted_server[1]}", "m", timeout=5.0) as instance:
        yield instance


@pytest.mark.parametrize(
    "target",
    ["", "localhost", "localhost:", "localhost:0", "localhost:70000", "localhost:port",
     "http://localhost:8500", "localhost:8500/path", "[::1]", "unix:", "unix://"],
)  # fmt: skip
def test_a_target_that_is_not_host_port_or_a_unix_path_is_refused_up_front(target: str) -> None:
    with pytest.raises(ValueError, match="not a gRPC target"):
        GrpcServingClient(target, "m")


@pytest.mark.parametrize("target", ["localhost:8500", "10.0.0.1:1", "[::1]:8500", "unix:/tmp/s"])
def test_host_port_ipv6_and_unix_socket_targets_are_accepted(target: str) -> None:
    with GrpcServingClient(target, "m") as client:
        assert client.target == target


@pytest.mark.parametrize("timeout", [0, -1.0, float("nan"), float("inf"), "5", True])
def test_a_timeout_that_is_not_positive_seconds_is_refused_up_front(timeout: Any) -> None:
    with pytest.raises(ValueError, match="timeout"):
        GrpcServingClient("localhost:8500", "m", timeout=timeout)


def test_an_empty_model_name_is_refused_up_front() -> None:
    with pytest.raises(ValueError, match="model name is empty"):
        GrpcServingClient("localhost:8500", "")


@pytest.mark.parametrize(
    ("code", "status_code"),
    [
        (grpc.StatusCode.NOT_FOUND, 404),
        (grpc.StatusCode.INVALID_ARGUMENT, 400),
        (grpc.StatusCode.FAILED_PRECONDITION, 400),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, 429),
        (grpc.StatusCode.UNIMPLEMENTED, 501),
        (grpc.StatusCode.INTERNAL, 500),
        (grpc.StatusCode.DEADLINE_EXCEEDED, 504),  # the server's own session-run timeout
    ],
)
def test_a_status_other_than_ok_is_a_serving_rpc_error_with_the_http_status_rest_answers(
    script: ScriptedServing, client: GrpcServingClient, code: grpc.StatusCode, status_code: int
) -> None:
    script.answers["GetModelStatus"] = (code, "the server's words")
    with pytest.raises(ServingRPCError) as info:
        client.status()
    error = info.value
    assert (error.code, error.status_code, error.error) == (
        code.name, status_code, "the server's words"
    )  # fmt: skip
    assert str(error).endswith(f"answered {code.name}: the server's words")
    assert isinstance(error.__cause__, grpc.RpcError)


def test_unavailable_is_a_connection_error(
    script: ScriptedServing, client: GrpcServingClient
) -> None:
    script.answers["GetModelStatus"] = (grpc.StatusCode.UNAVAILABLE, "Model labels does not init")
    with pytest.raises(ServingConnectionError, match="UNAVAILABLE: Model labels does not init"):
        client.status()


def test_a_server_that_is_down_is_a_connection_error_at_once() -> None:
    start = time.monotonic()
    with (
        GrpcServingClient(f"127.0.0.1:{free_port()}", "m", timeout=30) as client,
        pytest.raises(ServingConnectionError, match="UNAVAILABLE: failed to connect"),
    ):
        client.status()
    assert time.monotonic() - start < 5  # refused, not waited for until the deadline


def test_no_answer_before_the_clients_deadline_is_a_timeout_error(
    script: ScriptedServing, scripted_server: tuple[ScriptedServing, int]
) -> None:
    def answer_after_the_client_gave_up(request: Any, context: grpc.ServicerContext) -> Any:
        ended = threading.Event()
        context.add_callback(ended.set)
        ended.wait(10)
        return get_model_status_pb2.GetModelStatusResponse()

    script.answers["GetModelStatus"] = answer_after_the_client_gave_up
    target = f"127.0.0.1:{scripted_server[1]}"
    with (
        GrpcServingClient(target, "m", timeout=0.2) as client,
        pytest.raises(ServingTimeoutError, match=r"GetModelStatus at .*: no answer within 0.2 s"),
    ):
        client.status()


def _predict_answer_of(
    dtype: int, shape: list[int], variants: int = 0, content: bytes = b""
) -> Any:
    answer = predict_answer()
    answer.outputs["y"].dtype = dtype
    answer.outputs["y"].tensor_content = content
    for size in shape:
        answer.outputs["y"].tensor_shape.dim.add(size=size)
    for _ in range(variants):
        answer.outputs["y"].variant_val.add(type_name="tensorflow::TensorList")
    return answer


@pytest.mark.parametrize(
    ("rpc", "answer", "call", "message"),
    [
        ("GetModelStatus", b"\xff\xff", lambda c: c.status(), "not the promised message"),
        ("Predict", predict_answer(), lambda c: c.predict({"x": [1.0]}), "no outputs"),
        (
            "GetModelMetadata",
            get_model_metadata_pb2.GetModelMetadataResponse(),
            lambda c: c.metadata(),
            "no SignatureDefMap",
        ),
        (
            "GetModelStatus",
            status_answer((0, 35)),
            lambda c: c.status(),
            "unknown state",
        ),
        (
            "Predict",
            _predict_answer_of(types_pb2.DT_RESOURCE, [1]),
            lambda c: c.predict({"x": [1.0]}),
            "output 'y' is a DT_RESOURCE, which has no numpy type",
        ),
        (
            "Predict",
            _predict_answer_of(types_pb2.DT_VARIANT, [2], variants=1),
            lambda c: c.predict({"x": [1.0]}),
            "output 'y': 1 variant values for a shape of 2 elements",
        ),
        (
            "Predict",
            _predict_answer_of(types_pb2.DT_VARIANT, [1], content=b"\x03\xff\xff\xff"),
            lambda c: c.predict({"x": [1.0]}),
            "output 'y': a variant element does not decode",
        ),
    ],
    ids=[
        "undecodable",
        "predict-without-outputs",
        "metadata-without-signatures",
        "state-35",
        "dtype-without-a-numpy-type",
        "variants-short-of-the-shape",
        "a-variant-that-does-not-decode",
    ],
)
def test_an_answer_that_is_not_what_the_api_promises_is_a_protocol_error(
    script: ScriptedServing,
    client: GrpcServingClient,
    rpc: str,
    answer: Any,
    call: Callable[[GrpcServingClient], Any],
    message: str,
) -> None:
    script.answers["GetModelMetadata"] = metadata_answer(serving_default=signature("x"))
    script.answers[rpc] = answer
    with pytest.raises(ServingProtocolError, match=message):
        call(client)


def test_status_names_states_and_codes_as_rest_does(
    script: ScriptedServing, client: GrpcServingClient
) -> None:
    script.answers["GetModelStatus"] = status_answer((2, 50, 5, "gone"), (1, 30))
    assert client.status(2) == [
        VersionStatus(2, "END", "NOT_FOUND", "gone"),
        VersionStatus(1, "AVAILABLE", "OK", ""),
    ]
    assert script.requests("GetModelStatus")[0].model_spec.version.value == 2


def test_wait_until_available_polls_through_not_found_and_fails_at_once_on_a_failed_load(
    script: ScriptedServing, client: GrpcServingClient
) -> None:
    answers = iter(
        [
            (grpc.StatusCode.NOT_FOUND, "Could not find version 2 of model m"),
            status_answer((2, 20)),
            status_answer((2, 50, 3, "bad graph")),
        ]
    )
    script.answers["GetModelStatus"] = lambda request, context: next(answers)
    with pytest.raises(Exception, match="version 2 failed to load: INVALID_ARGUMENT: bad graph"):
        client.wait_until_available(2, timeout=30, interval=0.01)
    assert len(script.requests("GetModelStatus")) == 3


def test_version_and_label_together_are_refused_before_any_rpc(
    script: ScriptedServing, client: GrpcServingClient
) -> None:
    with pytest.raises(ValueError, match="not both"):
        client.metadata(version=1, label="stable")
    with pytest.raises(ValueError, match="a version is an integer"):
        client.status(1.5)  # type: ignore[arg-type]
    assert script.received == []
