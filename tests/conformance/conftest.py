"""Servers for the process-level tests: one shared read-only "zoo", one that watches its files.

Both are started once per session with ``tensorflow_model_server``'s own flags (through
:func:`fashion.testing.served.spawn_model_server`), so the same tests run against the stand-in
and the real binary (``--model-server=/path/to/tensorflow_model_server``). The test models are tiny
SavedModels written with TensorFlow's TF1 builder in milliseconds (``tests.support.savedmodels``
and ``tests.support.example_models``, imported inside the fixtures: TensorFlow must not be
imported before the root conftest's ``pytest_configure``); nothing here looks inside the server.

- ``zoo``: many models in one model config file, never changed. Read-only tests share it:
  ``zoo`` probes its REST port, ``zoo_stub`` its gRPC one.
- ``watching``: polls its config file and base paths every second, gives up on a failed load
  at once (``--max_num_load_retries=0``), has CORS on and a 1 s predict deadline. Each test
  that changes files owns one model of it, so the tests stay independent of each other's order.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from fashion.servers import wait_until
from fashion.testing.served import READY_TIMEOUT, ServedModelServer, running_model_server
from tests.support.config_files import ModelEntry, write_model_config
from tests.support.rest_probe import RestProbe, live_probe, serving
from tests.support.watched_server import WatchedServer

if TYPE_CHECKING:
    import grpc
    from tensorflow_serving.apis import prediction_service_pb2_grpc

#: Versions each zoo model must show AVAILABLE before the zoo counts as ready.
ZOO_AVAILABLE: Mapping[str, frozenset[int]] = {
    "half": frozenset({1}),
    "identity": frozenset({1}),
    "two_tensors": frozenset({1}),
    "dtypes": frozenset({1}),
    "edge": frozenset({1}),
    "parser": frozenset({1}),
    "policy_all": frozenset({1, 2, 3}),
    "policy_latest2": frozenset({2, 3}),
    "policy_specific": frozenset({1, 3}),
    "policy_default": frozenset({3}),
    "policy_latest0": frozenset({3}),
    "padded": frozenset({7}),
    "my model+1": frozenset({1}),
    # TF Serving's own test model, served under the names its tests, docs and images use.
    "default": frozenset({123}),
    "half_plus_two": frozenset({123}),
    "saved_model_half_plus_two_cpu": frozenset({123}),
    "saved_model_half_plus_two_2_versions": frozenset({123}),
    "saved_model_half_plus_three": frozenset({123}),
}

#: The watching server's deadline for a predict run (``blocking`` waits for it: 504).
WATCHING_TIMEOUT_MS = 1000

#: Flags of the watching server (all real ``tensorflow_model_server`` flags).
WATCHING_FLAGS = (
    "--model_config_file_poll_wait_seconds=1",
    "--file_system_poll_wait_seconds=1",
    "--max_num_load_retries=0",
    "--rest_api_enable_cors_support=true",
    f"--rest_api_timeout_in_ms={WATCHING_TIMEOUT_MS}",
)


def _build_zoo(root: Path) -> list[ModelEntry]:
    from tests.support import example_models, savedmodels

    def single(name: str, write: Any, *args: Any) -> Path:
        base = root / name.replace(" ", "_").replace("+", "_plus_")
        write(base / "1", *args)
        return base

    def three_versions(name: str) -> Path:
        base = root / name
        for version in (1, 2, 3):
            savedmodels.write_elementwise_affine_model(base / str(version), float(version), 0.0)
        return base

    def padded() -> Path:
        base = root / "padded"
        savedmodels.write_elementwise_affine_model(base / "007", 7.0, 0.0)
        savedmodels.write_elementwise_affine_model(base / "8.tmp", 8.0, 0.0)  # not a version
        savedmodels.write_elementwise_affine_model(base / "v9", 9.0, 0.0)  # not a version
        return base

    def half_plus_two(name: str, **options: Any) -> Path:
        base = root / name
        example_models.write_half_plus_two_model(base / "123", **options)
        return base

    five_signatures = half_plus_two("half_plus_two_cpu", classify_x2_to_y3=False)
    half_plus_three = root / "half_plus_three"
    example_models.write_half_plus_three_model(half_plus_three / "123")
    return [
        # tensorflow_model_server_test.py serves it as "default"; README.md and docker.md as
        # "half_plus_two"; the image tests by its directory name.
        ModelEntry("default", five_signatures),
        ModelEntry("half_plus_two", five_signatures),
        ModelEntry("saved_model_half_plus_two_cpu", five_signatures),
        # http_rest_api_handler_test.cc: version 123 only, label Version_Label -> 123.
        ModelEntry(
            "saved_model_half_plus_two_2_versions",
            half_plus_two("half_plus_two_2_versions"),
            policy="specific { versions: 123 }",
            labels={"Version_Label": 123},
        ),
        ModelEntry("saved_model_half_plus_three", half_plus_three),
        ModelEntry(
            "half",
            single("half", savedmodels.write_elementwise_affine_model, 0.5, 2.0),
            labels={"stable": 1, "ghost": 7},
        ),
        ModelEntry("identity", single("identity", savedmodels.write_identity_model)),
        ModelEntry("two_tensors", single("two_tensors", savedmodels.write_two_tensor_model)),
        ModelEntry("dtypes", single("dtypes", savedmodels.write_dtypes_model)),
        ModelEntry("edge", single("edge", savedmodels.write_edge_signatures_model)),
        ModelEntry("parser", single("parser", example_models.write_example_parser_model)),
        ModelEntry(
            "policy_all",
            three_versions("policy_all"),
            policy="all {}",
            labels={"first": 1, "second": 2},
        ),
        ModelEntry(
            "policy_latest2",
            three_versions("policy_latest2"),
            policy="latest { num_versions: 2 }",
        ),
        ModelEntry(
            "policy_specific",
            three_versions("policy_specific"),
            policy="specific { versions: 1 versions: 3 }",
        ),
        ModelEntry("policy_default", three_versions("policy_default")),
        ModelEntry(
            "policy_latest0",
            three_versions("policy_latest0"),
            policy="latest { num_versions: 0 }",
        ),
        ModelEntry("padded", padded()),
        ModelEntry(
            "my model+1", single("my model+1", savedmodels.write_elementwise_affine_model, 1.0, 0.0)
        ),
    ]


def _session_uses(request: pytest.FixtureRequest, fixture: str) -> bool:
    return any(fixture in getattr(item, "fixturenames", ()) for item in request.session.items)


@pytest.fixture(scope="session")
def zoo_server(
    xprocess: Any,
    model_server_binary: Any,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[ServedModelServer]:
    """The shared read-only server: every model of :data:`ZOO_AVAILABLE`, from a config file.

    Labels at start-up need ``--allow_version_labels_for_unavailable_models``
    (``server_core.cc``, ``UpdateModelVersionLabelMap``). If the session also needs the
    watching server, that one is launched first and starts while the zoo does (each start is
    seconds of TensorFlow import).
    """
    if _session_uses(request, "watching_server"):
        request.getfixturevalue("watching_launch")
    root = tmp_path_factory.mktemp("zoo")
    config = write_model_config(root / "models.config", _build_zoo(root))
    with running_model_server(
        xprocess,
        model_server_binary,
        "zoo-server",
        config_file=config,
        extra_flags=[
            "--allow_version_labels_for_unavailable_models=true",
            "--file_system_poll_wait_seconds=1",
        ],
        ready=serving(ZOO_AVAILABLE),
    ) as server:
        yield server


@pytest.fixture
def zoo(zoo_server: ServedModelServer) -> RestProbe:
    """A raw HTTP probe for the zoo; fails at once, with the log, if the server died."""
    return live_probe(zoo_server)


@pytest.fixture(scope="module")
def zoo_channel(zoo_server: ServedModelServer) -> Iterator[grpc.Channel]:
    """A gRPC channel to the zoo that sends and receives messages of any size (gRPC's default
    receive limit is 4 MiB)."""
    from tests.support.grpc_predict import open_channel

    with open_channel(zoo_server.grpc_target) as channel:
        yield channel


@pytest.fixture
def zoo_stub(
    zoo_server: ServedModelServer, zoo_channel: grpc.Channel
) -> prediction_service_pb2_grpc.PredictionServiceStub:
    """The zoo's PredictionService; fails at once, with the log, if the server died."""
    from tests.support.grpc_predict import live_stub

    return live_stub(zoo_server, zoo_channel)


#: Models of the watching server at start-up; each is owned by one test file.
WATCHING_MODELS = ("hot", "failing", "vanishing", "kept", "dropped", "blocking")

#: On the watching server's disk from the start, but not in its config file.
WATCHING_UNCONFIGURED = ("added", "extra")


@pytest.fixture(scope="session")
def watching_launch(
    xprocess: Any,
    model_server_binary: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[WatchedServer]:
    """The watching server, launched but not awaited: use ``watching_server``.

    Every model starts with version 1, ``y = 1 * x``, except ``blocking``, whose predict waits
    on a queue that nothing fills. :data:`WATCHING_UNCONFIGURED` models are on disk only.
    """
    from tests.support.savedmodels import (
        write_blocking_queue_model,
        write_elementwise_affine_model,
    )

    root = tmp_path_factory.mktemp("watching")
    for name in (*WATCHING_MODELS, *WATCHING_UNCONFIGURED):
        if name == "blocking":
            write_blocking_queue_model(root / name / "1")
        else:
            write_elementwise_affine_model(root / name / "1", 1.0, 0.0)
    entries = {name: ModelEntry(name, root / name) for name in WATCHING_MODELS}
    config = write_model_config(root / "models.config", entries.values())
    with running_model_server(
        xprocess,
        model_server_binary,
        "watching-server",
        config_file=config,
        extra_flags=WATCHING_FLAGS,
        ready=lambda url: True,  # awaited in watching_server
    ) as server:
        yield WatchedServer(server, RestProbe(server.rest_port), root, config, entries)


@pytest.fixture(scope="session")
def watching_server(watching_launch: WatchedServer) -> WatchedServer:
    """A server that polls its config file and base paths every second (CORS on), once every
    model of :data:`WATCHING_MODELS` is AVAILABLE."""
    expected = {name: frozenset({1}) for name in WATCHING_MODELS}

    def ready() -> bool:
        watching_launch.server.assert_alive()  # a dead server fails at once, with its log
        return watching_launch.rest.serves(expected)

    wait_until(ready, READY_TIMEOUT, "the watching server's models to be AVAILABLE")
    return watching_launch


@pytest.fixture
def watching(watching_server: WatchedServer) -> WatchedServer:
    """The watching server; fails at once, with the log, if it died."""
    watching_server.server.assert_alive()
    return watching_server
