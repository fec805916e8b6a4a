"""Version 2 replaces version 1 under steady traffic: no request fails, no answer is a mix.

Eight clients send the same four images to the latest version while version 2 arrives - exported
beside version 1, or selected by rewriting the model config file - and version 1 is unloaded
under the default policy. The clients are REST clients (a POST to the default route), gRPC
clients (``PredictionService/Predict`` on a channel each), or four of each on the one server, which
serves both APIs from the same versions. As ``core/availability_preserving_policy.cc`` and
``model_servers/server_core.cc`` (``ServableRequestFromModelSpec``) have it, "latest" moves to
version 2 the moment it is AVAILABLE, version 1 is unloaded only then, and serving is never
interrupted. Every answer must carry version 1's or version 2's outputs for all four rows; once
a client was answered by version 2, it is never answered by version 1 again.

Bounds: at most 20 s and 10,000 requests per test; the load stops once version 1 has reached
END and a short tail of requests has been answered.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from tensorflow_serving.apis import predict_pb2

from fashion.clients import ServingClient
from fashion.export import export_version
from fashion.servers import wait_until
from fashion.testing.served import ServedModelServer, running_model_server
from tests.support import MODEL_NAME, QUICK_REQUEST_TIMEOUT
from tests.support.config_files import ModelEntry, write_model_config
from tests.support.grpc_predict import GrpcPredict
from tests.support.traffic import (
    LoadReport,
    LoadTransport,
    PredictLoad,
    RestPredict,
    VersionMatcher,
)
from tests.support.transports import TRANSPORTS

pytestmark = [pytest.mark.server, pytest.mark.slow]

#: Answers wanted after version 1 reached END, to see the settled state under load too.
TAIL_REQUESTS = 200
MAX_REQUESTS = 10_000
MAX_SECONDS = 20.0
THREADS = 8
#: gRPC calls served at once: TF Serving's default is 4 per core (main.cc), and a server that is
#: past it refuses a call with RESOURCE_EXHAUSTED; the load must not depend on the machine's cores.
SERVER_FLAGS = [f"--grpc_max_threads={2 * THREADS}", "--file_system_poll_wait_seconds=1"]

#: Which clients send the load: REST, gRPC, or half of each.
LOADS = (*TRANSPORTS, "rest+grpc")


@pytest.fixture
def disk_server(xprocess, model_server_binary, base_path: Path) -> Iterator[ServedModelServer]:
    """Serves ``base_path`` (version 1 only, for now), scanning it every second."""
    with running_model_server(
        xprocess, model_server_binary, "reliability-swap-disk", model_name=MODEL_NAME,
        base_path=base_path, extra_flags=SERVER_FLAGS,
    ) as served:  # fmt: skip
        yield served


@pytest.fixture
def config_file(tmp_path: Path, base_path: Path, pristine_versions: dict[int, Path]) -> Path:
    """A config serving ``specific { versions: 1 }`` of a base path that also holds version 2."""
    shutil.copytree(pristine_versions[2], base_path / "2")
    entry = ModelEntry(MODEL_NAME, base_path, policy="specific { versions: 1 }")
    return write_model_config(tmp_path / "models.config", [entry])


@pytest.fixture
def config_server(xprocess, model_server_binary, config_file: Path) -> Iterator[ServedModelServer]:
    """Serves ``config_file``, re-reading it every second."""
    with running_model_server(
        xprocess, model_server_binary, "reliability-swap-config", model_name=MODEL_NAME,
        config_file=config_file, wait_for_versions=(1,),
        extra_flags=["--model_config_file_poll_wait_seconds=1", *SERVER_FLAGS],
    ) as served:  # fmt: skip
        yield served


@pytest.fixture(params=LOADS)
def load(request: pytest.FixtureRequest) -> str:
    """Which clients send the load."""
    return request.param


def _transports(
    load: str,
    server: ServedModelServer,
    matcher: VersionMatcher,
    body: bytes,
    grpc_request: predict_pb2.PredictRequest,
) -> Sequence[LoadTransport]:
    rest = RestPredict(f"{server.url}/v1/models/{MODEL_NAME}:predict", body, matcher)
    grpc = GrpcPredict(server.grpc_target, grpc_request, matcher)
    return {"rest": [rest], "grpc": [grpc], "rest+grpc": [rest, grpc]}[load]


def _swap_under_load(
    server: ServedModelServer,
    transports: Sequence[LoadTransport],
    bring_version_2: Callable[[], object],
) -> LoadReport:
    """Run the load, bring version 2, wait for version 1's END and a tail; return the report."""
    with ServingClient(server.url, MODEL_NAME, timeout=QUICK_REQUEST_TIMEOUT) as client:
        assert [(e.version, e.state) for e in client.status()] == [(1, "AVAILABLE")]
        load = PredictLoad(
            transports, threads=THREADS, max_requests=MAX_REQUESTS, max_seconds=MAX_SECONDS
        )
        with load:
            load.wait_for_answers(100, timeout=10)
            bring_version_2()

            def version_1_ended() -> bool:
                if not load.running:
                    raise AssertionError(f"the load ran out of budget first: {load.report()}")
                return any(e.version == 1 and e.state == "END" for e in client.status())

            wait_until(version_1_ended, 18, "version 1 to reach END", interval=0.1)
            load.wait_for_answers(load.completed + TAIL_REQUESTS, timeout=10)
        final = [(e.version, e.state, e.error_code) for e in client.status()]
    assert final == [(2, "AVAILABLE", "OK"), (1, "END", "OK")]
    return load.report()


def _assert_clean_swap(report: LoadReport, transports: Sequence[LoadTransport]) -> None:
    assert sorted(set(report.transports)) == sorted(t.name for t in transports)
    assert report.failures == 0, report.failure_samples
    assert report.versions["v1"] > 0, "no answer came from version 1: the swap was not under load"
    assert report.versions["v2"] >= TAIL_REQUESTS
    assert set(report.versions) == {"v1", "v2"}
    assert report.backward_steps(["v1", "v2"]) == []
    assert report.requests <= MAX_REQUESTS
    assert report.seconds <= MAX_SECONDS + 10  # the budget, plus in-flight requests' timeout


def test_exporting_version_2_under_load_swaps_versions_without_a_failed_or_mixed_answer(
    disk_server: ServedModelServer,
    base_path: Path,
    trained_tiny_v2,
    load: str,
    matcher: VersionMatcher,
    predict_body: bytes,
    predict_grpc_request: predict_pb2.PredictRequest,
) -> None:
    transports = _transports(load, disk_server, matcher, predict_body, predict_grpc_request)
    report = _swap_under_load(
        disk_server, transports, lambda: export_version(trained_tiny_v2, base_path, 2)
    )
    print(f"swap by export, {load}: {report.summary()}")
    _assert_clean_swap(report, transports)


def test_config_reload_to_version_2_under_load_swaps_versions_without_a_failed_or_mixed_answer(
    config_server: ServedModelServer,
    config_file: Path,
    base_path: Path,
    load: str,
    matcher: VersionMatcher,
    predict_body: bytes,
    predict_grpc_request: predict_pb2.PredictRequest,
) -> None:
    transports = _transports(load, config_server, matcher, predict_body, predict_grpc_request)
    new_entry = ModelEntry(MODEL_NAME, base_path, policy="specific { versions: 2 }")
    report = _swap_under_load(
        config_server, transports, lambda: write_model_config(config_file, [new_entry])
    )
    print(f"swap by config reload, {load}: {report.summary()}")
    _assert_clean_swap(report, transports)
