"""The gRPC front door's server flags and answers, against spawned servers.

Two servers: the shared zoo (tests/conformance/conftest.py), started with no gRPC flag, and one
for this module with every gRPC flag that changes an answer:

- ``--enable_grpc_healthcheck_service``: gRPC's standard ``grpc.health.v1.Health``, with ``""``,
  ``ModelService`` and ``PredictionService`` SERVING (``server.cc``; notes 6.3). Without it, no
  health service: UNIMPLEMENTED.
- ``--grpc_channel_arguments=grpc.max_receive_message_length=4096,...``: TF Serving adds the
  arguments after ``SetMaxMessageSize(INT32_MAX)``, and gRPC lets the later value win, so a
  request over 4096 bytes is RESOURCE_EXHAUSTED. Without it, any size up to 2 GiB (notes 6.1/6.2).
- ``--enable_serialization_as_tensor_content``: Predict outputs in ``tensor_content``
  (``AsProtoTensorContent``) instead of the typed fields (``AsProtoField``; notes 2.3).
- ``--grpc_max_threads=1``: one RPC at a time.

And the response ``model_spec`` of Predict, Classify, Regress and GetModelMetadata
(``MakeModelSpec``; notes 1.4): the name asked for, the version that answered (also when asked by
label or for the latest) and, except for metadata, the signature that ran.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pytest
import tensorflow as tf
from grpc_health.v1 import health_pb2, health_pb2_grpc
from tensorflow.core.example import example_pb2
from tensorflow.core.framework import tensor_pb2, types_pb2
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    predict_pb2,
    prediction_service_pb2_grpc,
    regression_pb2,
)

from fashion.testing.served import ServedModelServer, running_model_server
from tests.support.config_files import ModelEntry, write_model_config
from tests.support.example_models import write_half_plus_two_model
from tests.support.rest_probe import RestProbe
from tests.support.savedmodels import (
    any_shape_placeholder,
    build_signature,
    save_graph,
    write_dtypes_model,
)

pytestmark = pytest.mark.server

RPC_TIMEOUT = 30.0
MAX_RECEIVE = 4096
#: Seconds the slow model sleeps per dataset step (a run takes one or two steps).
SLEEP_SECONDS = 0.15
FEATURED_MODELS = ("default", "slow", "dtypes")


def write_slow_model(path: Path, sleep_seconds: float) -> Path:
    """``y = x`` after a sleep, with the wall-clock time the run started and finished.

    The sleep is TensorFlow's ``SleepDataset`` (a real sleep, no CPU); ``started`` and
    ``finished`` are ``tf.timestamp()`` before and after it, in seconds since the epoch.
    """
    graph = tf.Graph()
    with graph.as_default():
        x = any_shape_placeholder(tf.float32, "x")
        shapes = [tf.TensorShape(None)]
        started = tf.timestamp(name="started")
        with tf.control_dependencies([started]):
            dataset = tf.raw_ops.TensorDataset(components=[x], output_shapes=shapes)
        dataset = tf.raw_ops.SleepDataset(
            input_dataset=dataset,
            sleep_microseconds=tf.constant(int(sleep_seconds * 1e6), tf.int64),
            output_types=[tf.float32],
            output_shapes=shapes,
        )
        (value,) = tf.raw_ops.DatasetToSingleElement(
            dataset=dataset, output_types=[tf.float32], output_shapes=shapes
        )
        with tf.control_dependencies([value]):
            finished = tf.timestamp(name="finished")
        outputs = {"y": tf.identity(value, name="y"), "started": started, "finished": finished}
        return save_graph(path, graph, {"serving_default": build_signature({"x": x}, outputs)})


def _all_available(port: int, models: tuple[str, ...]) -> bool:
    probe = RestProbe(port)
    return all(
        any(state.state == "AVAILABLE" for state in probe.version_states(model).values())
        for model in models
    )


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
        root / "models.config", [ModelEntry(name, root / name) for name in FEATURED_MODELS]
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
        ready=lambda url: _all_available(int(url.rsplit(":", 1)[1]), FEATURED_MODELS),
    ) as server:
        yield server


@pytest.fixture(scope="module")
def featured_channel(featured: ServedModelServer) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(featured.grpc_target) as channel:
        yield channel


@pytest.fixture(scope="module")
def zoo_channel(zoo_server: ServedModelServer) -> Iterator[grpc.Channel]:
    """A channel to the zoo that receives messages of any size (gRPC's default is 4 MiB)."""
    options = [("grpc.max_receive_message_length", -1)]
    with grpc.insecure_channel(zoo_server.grpc_target, options=options) as channel:
        yield channel


def _live_stub(
    server: ServedModelServer, channel: grpc.Channel
) -> prediction_service_pb2_grpc.PredictionServiceStub:
    """A PredictionService stub on ``channel``; fails at once, with the log, if ``server`` died."""
    server.assert_alive()
    return prediction_service_pb2_grpc.PredictionServiceStub(channel)


@pytest.fixture
def featured_stub(
    featured: ServedModelServer, featured_channel: grpc.Channel
) -> prediction_service_pb2_grpc.PredictionServiceStub:
    return _live_stub(featured, featured_channel)


@pytest.fixture
def zoo_stub(
    zoo_server: ServedModelServer, zoo_channel: grpc.Channel
) -> prediction_service_pb2_grpc.PredictionServiceStub:
    return _live_stub(zoo_server, zoo_channel)


def _predict_request(model: str, inputs: dict[str, Any], **spec: Any) -> predict_pb2.PredictRequest:
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    for field, value in spec.items():
        if field == "version":
            request.model_spec.version.value = value
        else:
            setattr(request.model_spec, field, value)
    for alias, value in inputs.items():
        request.inputs[alias].CopyFrom(
            value if isinstance(value, tensor_pb2.TensorProto) else tf.make_tensor_proto(value)
        )
    return request


def _rpc_error(call: Any, request: Any) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call(request, timeout=RPC_TIMEOUT)
    return caught.value


def _parsed(proto: tensor_pb2.TensorProto) -> np.ndarray:
    """TensorFlow's own reading of an output proto (either encoding, strings included)."""
    dtype = tf.dtypes.as_dtype(proto.dtype)
    value = tf.raw_ops.ParseTensor(serialized=proto.SerializeToString(), out_type=dtype)
    return np.array(value.numpy(), dtype=object) if dtype == tf.string else value.numpy()


# --- the health service ------------------------------------------------------------------------


@pytest.mark.parametrize("service", ["", "ModelService", "PredictionService"])
def test_the_health_service_answers_serving_with_the_flag(
    featured: ServedModelServer, featured_channel: grpc.Channel, service: str
) -> None:
    featured.assert_alive()
    stub = health_pb2_grpc.HealthStub(featured_channel)
    response = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=RPC_TIMEOUT)
    assert response.status == health_pb2.HealthCheckResponse.SERVING


def test_the_health_service_knows_only_the_short_service_names(
    featured: ServedModelServer, featured_channel: grpc.Channel
) -> None:
    featured.assert_alive()
    stub = health_pb2_grpc.HealthStub(featured_channel)
    request = health_pb2.HealthCheckRequest(service="tensorflow.serving.PredictionService")
    failure = _rpc_error(stub.Check, request)
    assert (failure.code(), failure.details()) == (
        grpc.StatusCode.NOT_FOUND,
        "service name unknown",
    )


def test_without_the_flag_the_health_service_is_unimplemented(zoo_channel: grpc.Channel) -> None:
    stub = health_pb2_grpc.HealthStub(zoo_channel)
    failure = _rpc_error(stub.Check, health_pb2.HealthCheckRequest())
    assert failure.code() == grpc.StatusCode.UNIMPLEMENTED


# --- message sizes -----------------------------------------------------------------------------


def _predict_request_of_size(size: int) -> predict_pb2.PredictRequest:
    """A predict of ``x = [[2.0]]`` for ``default``, exactly ``size`` bytes long: padded with a
    dimension name, which TensorFlow's shapes ignore."""
    request = _predict_request("default", {"x": np.array([[2.0]], np.float32)})
    dim = request.inputs["x"].tensor_shape.dim[0]
    for _ in range(5):  # length prefixes of the name and its enclosing messages grow too
        dim.name = "n" * (len(dim.name) + size - request.ByteSize())
    assert request.ByteSize() == size
    return request


def test_a_request_of_the_channel_arguments_max_size_is_answered(
    featured_stub: prediction_service_pb2_grpc.PredictionServiceStub,
) -> None:
    response = featured_stub.Predict(_predict_request_of_size(MAX_RECEIVE), timeout=RPC_TIMEOUT)
    np.testing.assert_array_equal(_parsed(response.outputs["y"]), [[3.0]])


def test_a_request_one_byte_over_it_is_resource_exhausted(
    featured_stub: prediction_service_pb2_grpc.PredictionServiceStub,
) -> None:
    """testGoodGrpcChannelArgs passes arguments; this one shows the server applied it."""
    failure = _rpc_error(featured_stub.Predict, _predict_request_of_size(MAX_RECEIVE + 1))
    assert failure.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert f"({MAX_RECEIVE + 1} vs. {MAX_RECEIVE})" in failure.details()


def test_by_default_requests_and_responses_over_grpcs_4_mib_default_pass(
    zoo_stub: prediction_service_pb2_grpc.PredictionServiceStub,
) -> None:
    """``SetMaxMessageSize(INT32_MAX)``: 6 MB each way (identity model)."""
    x = np.arange(1_500_000, dtype=np.float32)
    request = _predict_request("identity", {"x": x})
    assert request.ByteSize() > 6_000_000
    response = zoo_stub.Predict(request, timeout=RPC_TIMEOUT)
    assert response.ByteSize() > 6_000_000
    np.testing.assert_array_equal(tf.make_ndarray(response.outputs["y"]), x)


# --- output serialisation ----------------------------------------------------------------------


def _half_plus_two_of_1_and_2(
    stub: prediction_service_pb2_grpc.PredictionServiceStub,
) -> tensor_pb2.TensorProto:
    """Output ``y`` of ``default`` (half_plus_two) for ``x = [[1], [2]]``: a float [2, 1]."""
    request = _predict_request("default", {"x": np.array([[1.0], [2.0]], np.float32)})
    y = stub.Predict(request, timeout=RPC_TIMEOUT).outputs["y"]
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
    request = _predict_request("dtypes", DTYPES_INPUTS)
    typed = zoo_stub.Predict(request, timeout=RPC_TIMEOUT).outputs
    content = featured_stub.Predict(request, timeout=RPC_TIMEOUT).outputs
    assert set(typed) == set(content) == {*DTYPES_INPUTS, "s_bytes"}
    for alias in typed:
        assert typed[alias].tensor_content == b"", alias
        assert content[alias].tensor_content != b"", alias  # strings too
        sent = DTYPES_INPUTS["s" if alias == "s_bytes" else alias]
        for output in (typed[alias], content[alias]):
            value = _parsed(output)
            assert value.dtype == sent.dtype, alias
            np.testing.assert_array_equal(value, sent)


def test_a_scalar_string_keeps_its_trailing_nul_bytes_over_grpc_and_rest(
    zoo_stub: prediction_service_pb2_grpc.PredictionServiceStub, zoo: RestProbe
) -> None:
    text = b"ab\x00\x00"
    request = _predict_request(
        "edge", {"text": tf.make_tensor_proto(text)}, signature_name="strings"
    )
    outputs = zoo_stub.Predict(request, timeout=RPC_TIMEOUT).outputs
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
    request = _predict_request("slow", {"x": np.array([1.0], np.float32)})
    with ThreadPoolExecutor(2) as pool:
        calls = [pool.submit(featured_stub.Predict, request, timeout=RPC_TIMEOUT) for _ in "ab"]
        responses = [call.result() for call in calls]
    runs = sorted(
        (float(_parsed(r.outputs["started"])), float(_parsed(r.outputs["finished"])))
        for r in responses
    )
    for response in responses:
        np.testing.assert_array_equal(_parsed(response.outputs["y"]), [1.0])
    assert runs[1][0] >= runs[0][1], f"the runs overlapped: {runs}"


# --- the response model_spec -------------------------------------------------------------------


def _spec(name: str, version: int, signature_name: str = "") -> dict[str, Any]:
    return {"name": name, "version": version, "signature_name": signature_name}


def _as_dict(spec: Any) -> dict[str, Any]:
    assert spec.WhichOneof("version_choice") == "version"  # never a label
    return {"name": spec.name, "version": spec.version.value, "signature_name": spec.signature_name}


@pytest.mark.parametrize(
    ("asked", "version"),
    [({}, 3), ({"version": 1}, 1), ({"version_label": "second"}, 2)],
    ids=["latest", "version-1", "label-second"],
)
@pytest.mark.parametrize("signature", ["", "serving_default"])
def test_predict_answers_with_the_version_that_ran_and_its_signature(
    zoo_stub: prediction_service_pb2_grpc.PredictionServiceStub,
    asked: dict[str, Any],
    version: int,
    signature: str,
) -> None:
    inputs = {"x": np.array([1.0], np.float32)}
    request = _predict_request("policy_all", inputs, signature_name=signature, **asked)
    response = zoo_stub.Predict(request, timeout=RPC_TIMEOUT)
    assert _as_dict(response.model_spec) == _spec("policy_all", version, "serving_default")
    np.testing.assert_array_equal(_parsed(response.outputs["y"]), [float(version)])


def _examples_input(x: float) -> Any:
    example = example_pb2.Example()
    example.features.feature["x"].float_list.value.append(x)
    request = classification_pb2.ClassificationRequest()
    request.input.example_list.examples.append(example)
    return request.input


@pytest.mark.parametrize(
    ("model", "asked"),
    [
        ("default", {}),
        ("default", {"version": 123}),
        ("saved_model_half_plus_two_2_versions", {"version_label": "Version_Label"}),
    ],
    ids=["latest", "version", "label"],
)
def test_classify_and_regress_answer_with_the_version_and_the_signature_asked_for(
    zoo_stub: prediction_service_pb2_grpc.PredictionServiceStub,
    model: str,
    asked: dict[str, Any],
) -> None:
    """testClassify / testRegress (tensorflow_model_server_test.py) check the same three."""
    classify = classification_pb2.ClassificationRequest(input=_examples_input(2.0))
    regress = regression_pb2.RegressionRequest(input=_examples_input(2.0))
    for request, signature in ((classify, "classify_x_to_y"), (regress, "regress_x_to_y")):
        request.model_spec.name = model
        request.model_spec.signature_name = signature
        if "version" in asked:
            request.model_spec.version.value = asked["version"]
        if "version_label" in asked:
            request.model_spec.version_label = asked["version_label"]
    classified = zoo_stub.Classify(classify, timeout=RPC_TIMEOUT)
    regressed = zoo_stub.Regress(regress, timeout=RPC_TIMEOUT)
    assert _as_dict(classified.model_spec) == _spec(model, 123, "classify_x_to_y")
    assert _as_dict(regressed.model_spec) == _spec(model, 123, "regress_x_to_y")
    assert classified.result.classifications[0].classes[0].score == 3.0
    assert regressed.result.regressions[0].value == 3.0


@pytest.mark.parametrize(
    ("asked", "version"),
    [({}, 3), ({"version": 2}, 2), ({"version_label": "first"}, 1)],
    ids=["latest", "version-2", "label-first"],
)
def test_metadata_answers_with_the_version_and_no_signature_name(
    zoo_stub: prediction_service_pb2_grpc.PredictionServiceStub,
    asked: dict[str, Any],
    version: int,
) -> None:
    request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    request.model_spec.name = "policy_all"
    request.model_spec.signature_name = "serving_default"  # not echoed
    if "version" in asked:
        request.model_spec.version.value = asked["version"]
    if "version_label" in asked:
        request.model_spec.version_label = asked["version_label"]
    response = zoo_stub.GetModelMetadata(request, timeout=RPC_TIMEOUT)
    assert _as_dict(response.model_spec) == _spec("policy_all", version)
    assert list(response.metadata) == ["signature_def"]
