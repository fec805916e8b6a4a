"""The Prometheus endpoint (``--monitoring_config_file``), as TF Serving's testPrometheusEndpoint
(tensorflow_model_server_test.py) uses it, and more.

TF Serving reads the ``MonitoringConfig`` when it starts REST (``server.cc``) and serves the
metrics on the REST port at the configured path, for any method; a query string is a 400
``Unexpected path: ...``; without the config the path is not served at all (404). Every REST
``/v1`` request and every gRPC Predict/Classify/Regress counts in ``request_count{model_name,
status}`` (GetModelMetadata, MultiInference and ModelService RPCs do not); successful ones are
timed in ``request_latency{model_name, API, entrypoint}`` (notes 7). The page is read with
prometheus-client's text parser, which reads TF Serving's exposition and the stand-in's alike.
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pytest
import tensorflow as tf
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from fashion.servers.launcher import free_ports
from fashion.servers.waiting import wait_until
from fashion.testing.served import ServedModelServer, running_model_server
from tests.support.example_models import write_half_plus_two_model
from tests.support.failed_start import failure_line
from tests.support.rest_probe import Reply, RestProbe, live_probe
from tests.support.savedmodels import write_elementwise_affine_model

pytestmark = pytest.mark.server

MODEL = "counted"
METRICS_PATH = "/monitoring/fashion/metrics"
DEFAULT_PATH = "/monitoring/prometheus/metrics"
RPC_TIMEOUT = 30.0

REQUEST_COUNT = ":tensorflow:serving:request_count"
REQUEST_LATENCY = ":tensorflow:serving:request_latency"
RUNTIME_LATENCY = ":tensorflow:serving:runtime_latency"
LOAD_ATTEMPTS = ":tensorflow:cc:saved_model:load_attempt_count"


@pytest.fixture(scope="module")
def model_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("prometheus") / MODEL
    write_half_plus_two_model(base / "123")
    return base


@pytest.fixture(scope="module")
def monitored(
    xprocess: Any, model_server_binary: Any, model_base: Path
) -> Iterator[ServedModelServer]:
    """``counted`` (half_plus_two) with Prometheus enabled at :data:`METRICS_PATH`."""
    config = model_base.parent / "monitoring.config"
    config.write_text(f'prometheus_config: {{ enable: true, path: "{METRICS_PATH}" }}\n')
    with running_model_server(
        xprocess,
        model_server_binary,
        "prometheus-server",
        model_name=MODEL,
        base_path=model_base,
        extra_flags=[f"--monitoring_config_file={config}"],
    ) as server:
        yield server


@pytest.fixture
def rest(monitored: ServedModelServer) -> RestProbe:
    """A raw HTTP probe for the monitored server; fails at once, with the log, if it died."""
    return live_probe(monitored)


@pytest.fixture(scope="module")
def stub(
    monitored: ServedModelServer,
) -> Iterator[prediction_service_pb2_grpc.PredictionServiceStub]:
    with grpc.insecure_channel(monitored.grpc_target) as channel:
        yield prediction_service_pb2_grpc.PredictionServiceStub(channel)


def _families(reply: Reply) -> dict[str, list[Sample]]:
    assert reply.status == 200, reply
    page = reply.body.decode()
    return {family.name: family.samples for family in text_string_to_metric_families(page)}


def _scrape(rest: RestProbe) -> dict[str, list[Sample]]:
    return _families(rest.get(METRICS_PATH))


def _value(samples: list[Sample], suffix: str = "", **labels: str) -> float:
    """The sample with exactly these labels (0 when there is none yet)."""
    found = [s.value for s in samples if s.name.endswith(suffix) and s.labels == labels]
    assert len(found) <= 1, found
    return found[0] if found else 0.0


def _grpc_predict(x: float, signature: str = "") -> predict_pb2.PredictRequest:
    request = predict_pb2.PredictRequest()
    request.model_spec.name = MODEL
    request.model_spec.signature_name = signature
    request.inputs["x"].CopyFrom(tf.make_tensor_proto(np.array([[x]], np.float32)))
    return request


def test_the_configured_path_answers_prometheus_text(rest: RestProbe) -> None:
    reply = rest.get(METRICS_PATH)
    assert reply.status == 200
    assert reply.header("content-type") == "text/plain"
    assert "# TYPE" in reply.body.decode()  # all testPrometheusEndpoint asks
    assert {REQUEST_COUNT, REQUEST_LATENCY, RUNTIME_LATENCY, LOAD_ATTEMPTS} <= set(_families(reply))


def test_any_method_is_answered_and_a_query_is_a_400(rest: RestProbe) -> None:
    assert rest.post(METRICS_PATH, b"").status == 200
    reply = rest.get(f"{METRICS_PATH}?name=x")
    assert (reply.status, reply.body.decode()) == (
        400,
        f"Unexpected path: {METRICS_PATH}?name=x. Should be {METRICS_PATH}",
    )


def test_only_the_configured_path_serves_the_metrics(rest: RestProbe) -> None:
    assert rest.get(DEFAULT_PATH).status == 404


def test_without_a_monitoring_config_the_path_is_404(zoo: RestProbe) -> None:
    reply = zoo.get(DEFAULT_PATH)
    assert reply.status == 404
    assert b"# TYPE" not in reply.body


def test_requests_over_rest_and_grpc_each_count_once_under_their_status(
    rest: RestProbe, stub: prediction_service_pb2_grpc.PredictionServiceStub
) -> None:
    before = _scrape(rest)
    for x in (1.0, 2.0, 3.0):
        assert rest.predict(MODEL, {"instances": [[x]]}).status == 200
        stub.Predict(_grpc_predict(x), timeout=RPC_TIMEOUT)
    with pytest.raises(grpc.RpcError) as caught:
        stub.Predict(_grpc_predict(1.0, "nope"), timeout=RPC_TIMEOUT)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    after = _scrape(rest)

    def grown(family: str, suffix: str = "", **labels: str) -> float:
        return _value(after[family], suffix, **labels) - _value(before[family], suffix, **labels)

    assert grown(REQUEST_COUNT, model_name=MODEL, status="OK") == 6
    assert grown(REQUEST_COUNT, model_name=MODEL, status="FAILED_PRECONDITION") == 1
    grpc_labels = {"model_name": MODEL, "API": "Predict", "entrypoint": "GRPC"}
    rest_labels = {"model_name": MODEL, "API": "predict", "entrypoint": "REST"}
    assert grown(REQUEST_LATENCY, "_count", **grpc_labels) == 3  # successful requests only
    assert grown(REQUEST_LATENCY, "_count", **rest_labels) == 3
    runtime_labels = {"model_name": MODEL, "API": "Predict", "runtime": "TF1"}
    assert grown(RUNTIME_LATENCY, "_count", **runtime_labels) == 6


def test_metadata_and_model_service_rpcs_are_not_counted(
    rest: RestProbe,
    monitored: ServedModelServer,
    stub: prediction_service_pb2_grpc.PredictionServiceStub,
) -> None:
    before = _value(_scrape(rest)[REQUEST_COUNT], model_name=MODEL, status="OK")
    metadata = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    metadata.model_spec.name = MODEL
    stub.GetModelMetadata(metadata, timeout=RPC_TIMEOUT)
    with grpc.insecure_channel(monitored.grpc_target) as channel:
        status = get_model_status_pb2.GetModelStatusRequest()
        status.model_spec.name = MODEL
        model_service_pb2_grpc.ModelServiceStub(channel).GetModelStatus(status, timeout=RPC_TIMEOUT)
    assert _value(_scrape(rest)[REQUEST_COUNT], model_name=MODEL, status="OK") == before


def test_the_model_load_is_counted_under_its_version_directory(
    rest: RestProbe, model_base: Path
) -> None:
    attempts = _scrape(rest)[LOAD_ATTEMPTS]
    assert _value(attempts, model_path=str(model_base / "123"), status="success") >= 1


# --- a monitoring config the server cannot read ------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """How a start with a bad monitoring config ended (or that it went on serving)."""

    returncode: int
    stdout: str
    served_grpc: bool


def _serving_grpc(port: int) -> bool:
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = "m"
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = model_service_pb2_grpc.ModelServiceStub(channel)
            response = stub.GetModelStatus(request, timeout=2)
    except grpc.RpcError:
        return False
    return response.model_version_status[0].state == 30  # AVAILABLE


def _run(command: list[str], grpc_port: int, serves: bool) -> Outcome:
    """Run a server; one expected to keep serving is stopped with SIGTERM once gRPC answers."""
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    served = False
    try:
        if serves:
            wait_until(lambda: process.poll() is not None or _serving_grpc(grpc_port), 120, "gRPC")
            served = process.poll() is None
            if served:
                process.send_signal(signal.SIGTERM)
        stdout, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return Outcome(process.returncode, stdout, served)


@pytest.fixture(scope="module")
def bad_config_starts(
    model_server_binary: Any, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[Path, Outcome]]:
    """Three starts, side by side: a malformed config, a missing one, and a malformed one with
    ``--rest_api_port`` equal to ``--port`` (REST off, so the file is never read)."""
    root = tmp_path_factory.mktemp("bad-monitoring")
    write_elementwise_affine_model(root / "m" / "1", 0.5, 2.0)
    malformed = root / "malformed.config"
    malformed.write_text("prometheus_config { enable: true\n")
    missing = root / "missing.config"
    picked = free_ports(6)  # all distinct: three gRPC ports, then three REST ports
    ports_for_grpc, ports_for_rest = picked[:3], picked[3:]
    ports = dict(zip(("malformed", "missing", "same-port"), ports_for_grpc, strict=True))

    def command(name: str, config: Path, rest_port: int) -> list[str]:
        return [
            *model_server_binary.command,
            f"--port={ports[name]}",
            f"--rest_api_port={rest_port}",
            "--model_name=m",
            f"--model_base_path={root / 'm'}",
            f"--monitoring_config_file={config}",
        ]

    with ThreadPoolExecutor(3) as pool:
        runs = {
            "malformed": pool.submit(
                _run, command("malformed", malformed, ports_for_rest[0]), ports["malformed"], False
            ),
            "missing": pool.submit(
                _run, command("missing", missing, ports_for_rest[1]), ports["missing"], False
            ),
            "same-port": pool.submit(
                _run,
                command("same-port", malformed, ports["same-port"]),
                ports["same-port"],
                True,
            ),
        }
        configs = {"malformed": malformed, "missing": missing, "same-port": malformed}
        return {name: (configs[name], run.result()) for name, run in runs.items()}


@pytest.mark.slow
@pytest.mark.parametrize("case", ["malformed", "missing"])
def test_an_unreadable_monitoring_config_fails_the_start_after_grpc_started(
    bad_config_starts: dict[str, tuple[Path, Outcome]], case: str
) -> None:
    """A deviation. Both servers print ``Failed to start server. Error: ...`` (``main.cc``): the
    config is parsed after the gRPC server was built (``server.cc``), and ``ParseProtoTextFile``
    fails. The stand-in then stops gRPC and exits 255. TF Serving's ``main`` returns, but
    ``Server::~Server`` calls ``WaitForTermination``, which waits on the running gRPC server
    forever: the real process keeps serving gRPC, without REST, until it is killed (inferred from
    ``main.cc`` and ``server.cc``; no test of TF Serving's covers it). For a missing file TF
    Serving prints TensorFlow's file-system error (NOT_FOUND), the stand-in the parse error."""
    config, outcome = bad_config_starts[case]
    assert outcome.returncode == 255, outcome
    assert failure_line(outcome.stdout) == (
        f"Failed to start server. Error: INVALID_ARGUMENT: Invalid protobuf file: '{config}'"
    )


@pytest.mark.slow
def test_with_rest_on_the_grpc_port_the_monitoring_config_is_never_read(
    bad_config_starts: dict[str, tuple[Path, Outcome]],
) -> None:
    """``server.cc`` reads the config only inside ``http_port != grpc_port``: REST is skipped
    (logged), the file is not read, and gRPC serves on."""
    _, outcome = bad_config_starts["same-port"]
    assert outcome.served_grpc, outcome
    assert "Failed to start" not in outcome.stdout
