"""The gRPC client against a scripted in-process gRPC server: requests, answers, every failure.

The server here is TF Serving's two services with no model behind them: each test scripts what an
RPC answers (a message, a status, raw bytes, or a function) and reads what the client sent. The
tests against a real server process are the serving suite's (tests/suite): each behaviour REST
and gRPC share runs over both, and tests/suite/test_half_plus_two.py has what only gRPC has.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from typing import Any

import grpc
import numpy as np
import pytest
import tensorflow as tf
from google.protobuf.message import Message
from tensorflow.core.protobuf import meta_graph_pb2
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    inference_pb2,
    model_management_pb2,
    predict_pb2,
    regression_pb2,
)

from fashion.clients import (
    ServingConnectionError,
    ServingProtocolError,
    ServingRPCError,
    ServingTimeoutError,
    VersionStatus,
)
from fashion.clients.grpc import GrpcServingClient
from fashion.servers import free_port

_REQUESTS: dict[str, tuple[str, type[Message]]] = {
    "Predict": ("PredictionService", predict_pb2.PredictRequest),
    "GetModelMetadata": ("PredictionService", get_model_metadata_pb2.GetModelMetadataRequest),
    "Classify": ("PredictionService", classification_pb2.ClassificationRequest),
    "Regress": ("PredictionService", regression_pb2.RegressionRequest),
    "MultiInference": ("PredictionService", inference_pb2.MultiInferenceRequest),
    "GetModelStatus": ("ModelService", get_model_status_pb2.GetModelStatusRequest),
    "HandleReloadConfigRequest": ("ModelService", model_management_pb2.ReloadConfigRequest),
}


class ScriptedServing:
    """What each RPC answers, and every request received, in order.

    An answer is a message, raw bytes (sent as they are), a ``(grpc.StatusCode, text)`` status,
    or a function of ``(request, context)`` returning one of those.
    """

    def __init__(self) -> None:
        self.answers: dict[str, Any] = {}
        self.received: list[tuple[str, Message]] = []

    def handle(self, rpc: str, request: Message, context: grpc.ServicerContext) -> Any:
        self.received.append((rpc, request))
        answer = self.answers.get(rpc, (grpc.StatusCode.UNIMPLEMENTED, f"no {rpc} scripted"))
        if callable(answer):
            answer = answer(request, context)
        if isinstance(answer, tuple):
            context.abort(*answer)
        return answer

    def requests(self, rpc: str) -> list[Any]:
        return [request for name, request in self.received if name == rpc]


def _handlers(script: ScriptedServing) -> list[grpc.GenericRpcHandler]:
    by_service: dict[str, dict[str, grpc.RpcMethodHandler]] = {}
    for rpc, (service, request_type) in _REQUESTS.items():
        by_service.setdefault(f"tensorflow.serving.{service}", {})[rpc] = (
            grpc.unary_unary_rpc_method_handler(
                lambda request, context, rpc=rpc: script.handle(rpc, request, context),
                request_deserializer=request_type.FromString,
                response_serializer=lambda m: m if isinstance(m, bytes) else m.SerializeToString(),
            )
        )
    return [grpc.method_handlers_generic_handler(s, m) for s, m in by_service.items()]


@pytest.fixture(scope="module")
def scripted_server() -> Iterator[tuple[ScriptedServing, int]]:
    """One in-process gRPC server for the module, on a port picked by binding port 0."""
    script = ScriptedServing()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), handlers=_handlers(script))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield script, port
    finally:
        server.stop(None)


@pytest.fixture
def script(scripted_server: tuple[ScriptedServing, int]) -> ScriptedServing:
    """The scripted server, emptied for this test."""
    scripted_server[0].answers.clear()
    scripted_server[0].received.clear()
    return scripted_server[0]


@pytest.fixture
def client(scripted_server: tuple[ScriptedServing, int]) -> Iterator[GrpcServingClient]:
    with GrpcServingClient(f"127.0.0.1:{scripted_server[1]}", "m", timeout=5.0) as instance:
        yield instance


def _metadata(version: int = 1, **signatures: meta_graph_pb2.SignatureDef) -> Any:
    answer = get_model_metadata_pb2.GetModelMetadataResponse()
    answer.model_spec.name = "m"
    answer.model_spec.version.value = version
    answer.metadata["signature_def"].Pack(
        get_model_metadata_pb2.SignatureDefMap(signature_def=signatures)
    )
    return answer


def _signature(*inputs: str, dtype: int = tf.float32.as_datatype_enum) -> Any:
    return meta_graph_pb2.SignatureDef(
        inputs={name: meta_graph_pb2.TensorInfo(name=f"{name}:0", dtype=dtype) for name in inputs},
        method_name="tensorflow/serving/predict",
    )


def _predict_answer(**outputs: Any) -> predict_pb2.PredictResponse:
    answer = predict_pb2.PredictResponse()
    for name, value in outputs.items():
        answer.outputs[name].CopyFrom(tf.make_tensor_proto(np.asarray(value, np.float32)))
    return answer


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


def test_predict_sends_an_array_under_the_only_input_in_the_declared_dtype(
    script: ScriptedServing, client: GrpcServingClient
) -> None:
    script.answers["GetModelMetadata"] = _metadata(serving_default=_signature("images"))
    script.answers["Predict"] = _predict_answer(scores=[[0.25, 0.75]])
    for _ in range(2):
        result = client.predict([[1, 2]], version=3, output_filter=["scores"])
        np.testing.assert_array_equal(result, np.array([[0.25, 0.75]], np.float32))
    assert len(script.requests("GetModelMetadata")) == 1  # learnt once per version
    request = script.requests("Predict")[0]
    assert (request.model_spec.name, request.model_spec.version.value) == ("m", 3)
    assert list(request.output_filter) == ["scores"]
    assert list(request.inputs) == ["images"]
    sent = tf.make_ndarray(request.inputs["images"])
    assert sent.dtype == np.float32  # ints cast to the declared DT_FLOAT, as REST does
    np.testing.assert_array_equal(sent, [[1.0, 2.0]])


@pytest.mark.parametrize("pin", [{}, {"label": "stable"}], ids=["latest", "label"])
def test_the_latest_version_or_a_label_is_asked_again_after_a_hot_load_renames_the_input(
    script: ScriptedServing, client: GrpcServingClient, pin: dict[str, Any]
) -> None:
    script.answers["Predict"] = _predict_answer(y=[2.0])
    script.answers["GetModelMetadata"] = _metadata(1, serving_default=_signature("x"))
    client.predict([1.0], **pin)
    # Version 2 is hot-loaded (or the label moved to it) and names its input "z".
    script.answers["GetModelMetadata"] = _metadata(2, serving_default=_signature("z"))
    client.predict([1.0], **pin)
    assert [list(request.inputs) for request in script.requests("Predict")] == [["x"], ["z"]]


def test_a_version_the_latest_resolved_to_is_not_asked_again_when_pinned(
    script: ScriptedServing, client: GrpcServingClient
) -> None:
    script.answers["Predict"] = _predict_answer(y=[2.0])
    script.answers["GetModelMetadata"] = _metadata(4, serving_default=_signature("x"))
    client.predict([1.0])  # the latest: the answer says it is version 4
    client.predict([1.0], version=4)
    client.predict([1.0], version=4)
    assert len(script.requests("GetModelMetadata")) == 1
    assert [request.model_spec.version.value for request in script.requests("Predict")] == [
        0, 4, 4
    ]  # fmt: skip


def test_predict_of_a_signature_with_several_inputs_needs_a_dict_by_name(
    script: ScriptedServing, client: GrpcServingClient
) -> None:
    script.answers["GetModelMetadata"] = _metadata(serving_default=_signature("a", "b"))
    script.answers["Predict"] = _predict_answer(y=[1.0], z=[2.0])
    with pytest.raises(ValueError, match=r"has inputs \['a', 'b'\]; pass a dict"):
        client.predict([1.0])
    answer = client.predict({"a": [1.0], "b": [2.0]})
    assert isinstance(answer, dict)
    assert {name: value.tolist() for name, value in answer.items()} == {"y": [1.0], "z": [2.0]}
    assert sorted(script.requests("Predict")[0].inputs) == ["a", "b"]


def test_predict_with_an_unknown_signature_lets_the_server_say_so(
    script: ScriptedServing, client: GrpcServingClient
) -> None:
    script.answers["GetModelMetadata"] = _metadata(serving_default=_signature("x"))
    script.answers["Predict"] = (
        grpc.StatusCode.FAILED_PRECONDITION,
        'Serving signature key "nope" not found.',
    )
    with pytest.raises(ServingRPCError) as info:
        client.predict([1.0], signature_name="nope")
    assert (info.value.status_code, info.value.error) == (
        400, 'Serving signature key "nope" not found.'
    )  # fmt: skip
    assert script.requests("Predict")[0].model_spec.signature_name == "nope"


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


@pytest.mark.parametrize(
    ("rpc", "answer", "call", "message"),
    [
        ("GetModelStatus", b"\xff\xff", lambda c: c.status(), "not the promised message"),
        ("Predict", _predict_answer(), lambda c: c.predict({"x": [1.0]}), "no outputs"),
        (
            "GetModelMetadata",
            get_model_metadata_pb2.GetModelMetadataResponse(),
            lambda c: c.metadata(),
            "no SignatureDefMap",
        ),
        (
            "GetModelStatus",
            get_model_status_pb2.GetModelStatusResponse(
                model_version_status=[get_model_status_pb2.ModelVersionStatus(state=35)]
            ),
            lambda c: c.status(),
            "unknown state",
        ),
    ],
    ids=["undecodable", "predict-without-outputs", "metadata-without-signatures", "state-35"],
)
def test_an_answer_that_is_not_what_the_api_promises_is_a_protocol_error(
    script: ScriptedServing,
    client: GrpcServingClient,
    rpc: str,
    answer: Any,
    call: Callable[[GrpcServingClient], Any],
    message: str,
) -> None:
    script.answers["GetModelMetadata"] = _metadata(serving_default=_signature("x"))
    script.answers[rpc] = answer
    with pytest.raises(ServingProtocolError, match=message):
        call(client)


def test_status_names_states_and_codes_as_rest_does(
    script: ScriptedServing, client: GrpcServingClient
) -> None:
    failed = get_model_status_pb2.ModelVersionStatus(version=2, state=50)
    failed.status.error_code = 5
    failed.status.error_message = "gone"
    script.answers["GetModelStatus"] = get_model_status_pb2.GetModelStatusResponse(
        model_version_status=[failed, get_model_status_pb2.ModelVersionStatus(version=1, state=30)]
    )
    assert client.status(2) == [
        VersionStatus(2, "END", "NOT_FOUND", "gone"),
        VersionStatus(1, "AVAILABLE", "OK", ""),
    ]
    assert script.requests("GetModelStatus")[0].model_spec.version.value == 2


def test_wait_until_available_polls_through_not_found_and_fails_at_once_on_a_failed_load(
    script: ScriptedServing, client: GrpcServingClient
) -> None:
    failed = get_model_status_pb2.ModelVersionStatus(version=2, state=50)
    failed.status.error_code = 3
    failed.status.error_message = "bad graph"
    answers = iter(
        [
            (grpc.StatusCode.NOT_FOUND, "Could not find version 2 of model m"),
            get_model_status_pb2.GetModelStatusResponse(
                model_version_status=[get_model_status_pb2.ModelVersionStatus(version=2, state=20)]
            ),
            get_model_status_pb2.GetModelStatusResponse(model_version_status=[failed]),
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


def test_reload_config_sends_text_format_as_the_config_and_refuses_what_does_not_parse(
    script: ScriptedServing, client: GrpcServingClient
) -> None:
    script.answers["HandleReloadConfigRequest"] = model_management_pb2.ReloadConfigResponse()
    client.reload_config('model_config_list { config { name: "a" base_path: "/models/a" } }')
    (request,) = script.requests("HandleReloadConfigRequest")
    assert [(c.name, c.base_path) for c in request.config.model_config_list.config] == [
        ("a", "/models/a")
    ]
    with pytest.raises(ValueError, match="not a ModelServerConfig in text format"):
        client.reload_config("model_config_list { nonsense")
    assert len(script.received) == 1


def test_classify_and_regress_send_examples_as_tf_examples_and_return_plain_values(
    script: ScriptedServing, client: GrpcServingClient
) -> None:
    classified = classification_pb2.ClassificationResponse()
    classified.result.classifications.add().classes.add(label="cat", score=0.5)
    regressed = regression_pb2.RegressionResponse()
    regressed.result.regressions.add(value=3.0)
    script.answers["Classify"] = classified
    script.answers["Regress"] = regressed
    example = {"x": 2.0, "ids": [1, 2], "tag": "a"}
    assert client.classify([example], signature_name="c") == [[("cat", 0.5)]]
    assert client.regress([example], signature_name="r", context={"x2": b"z"}) == [3.0]
    features = script.requests("Classify")[0].input.example_list.examples[0].features.feature
    assert list(features["x"].float_list.value) == [2.0]
    assert list(features["ids"].int64_list.value) == [1, 2]
    assert list(features["tag"].bytes_list.value) == [b"a"]
    regress = script.requests("Regress")[0]
    assert regress.model_spec.signature_name == "r"
    context = regress.input.example_list_with_context.context.features.feature
    assert list(context["x2"].bytes_list.value) == [b"z"]
