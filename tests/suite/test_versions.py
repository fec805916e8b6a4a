"""Version routing and hot loading: version 2 appears on disk while the server runs.

The tests of this module run in file order against one server: first with version 1 only, then
after version 2 has been exported beside it. Each runs over REST, then over gRPC (the
``transport`` fixture has function scope, so the two stay side by side in file order).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import psutil
import pytest

from fashion.clients import VersionStatus
from fashion.export import export_version
from fashion.preprocess import scale_images
from fashion.servers import wait_until
from fashion.testing.served import running_model_server
from tests.support import MODEL_NAME
from tests.support.transports import TRANSPORTS, failure, transport_port

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def base_path(tmp_path_factory: pytest.TempPathFactory, trained_tiny) -> Path:
    base = tmp_path_factory.mktemp("versions") / MODEL_NAME
    export_version(trained_tiny, base, 1)
    return base


@pytest.fixture(scope="module")
def server(xprocess, model_server_binary, base_path: Path):
    with running_model_server(
        xprocess, model_server_binary, "versions-server", model_name=MODEL_NAME,
        base_path=base_path, extra_flags=["--file_system_poll_wait_seconds=1"],
    ) as served:  # fmt: skip
        yield served


@pytest.fixture
def client(server, connect):
    """``fashion_model`` on this module's server, over the test's transport."""
    return connect(server, MODEL_NAME)


@pytest.fixture(scope="module")
def images(synthetic_dataset) -> np.ndarray:
    return scale_images(synthetic_dataset.x_test[:4])


def _serving_process(server, port: int) -> tuple[int, float]:
    """(pid, start time) of the process that listens on ``port`` of the server."""
    try:
        sockets = [(c.pid, c) for c in psutil.net_connections(kind="tcp")]
    except psutil.AccessDenied:  # macOS without root: only the server's own sockets are visible
        sockets = [(server.pid, c) for c in psutil.Process(server.pid).net_connections("tcp")]
    listeners = {
        pid
        for pid, connection in sockets
        if connection.status == psutil.CONN_LISTEN and connection.laddr.port == port
    }
    assert len(listeners) == 1, f"expected one process listening on port {port}"
    (pid,) = listeners
    return pid, psutil.Process(pid).create_time()


@pytest.fixture(scope="module")
def version_2_exported(server, base_path: Path, trained_tiny_v2) -> dict[str, tuple[int, float]]:
    """Export version 2 beside the running server's version 1 and wait until it serves it.

    Returns, by transport, the (pid, start time) of the process listening on its port from
    before the export.
    """
    before = {t: _serving_process(server, transport_port(server, t)) for t in TRANSPORTS}
    export_version(trained_tiny_v2, base_path, 2)
    with server.client(MODEL_NAME) as client:
        client.wait_until_available(2, timeout=60)
    return before


def test_before_version_2_the_default_route_answers_version_1(
    client,
    images: np.ndarray,
    trained_tiny,
) -> None:
    np.testing.assert_allclose(client.predict(images), np.asarray(trained_tiny(images)), atol=1e-6)


def test_before_version_2_its_route_answers_404(client, images: np.ndarray) -> None:
    assert failure(lambda: client.predict(images, version=2), code="NOT_FOUND") == (
        404,
        f"Servable not found for request: Specific({MODEL_NAME}, 2)",
    )


def test_version_2_is_hot_loaded_by_the_same_process(
    server, client, transport, version_2_exported: dict[str, tuple[int, float]]
) -> None:
    """The process listening on the transport's port after the hot load is the one from before
    it: same pid and same start time (a restarted server would differ in the start time at
    least); and it answers there that version 2 is AVAILABLE."""
    before = version_2_exported[transport]
    assert _serving_process(server, transport_port(server, transport)) == before
    if server.binary.kind != "docker":  # a container's port is held by the engine's proxy
        assert before[0] == server.pid
    assert client.status(2) == [VersionStatus(2, "AVAILABLE", "OK", "")]


def test_version_2_route_answers_version_2s_outputs(
    client,
    version_2_exported,
    images: np.ndarray,
    trained_tiny,
    trained_tiny_v2,
) -> None:
    served = client.predict(images, version=2)
    np.testing.assert_allclose(served, np.asarray(trained_tiny_v2(images)), atol=1e-6)
    assert not np.allclose(served, np.asarray(trained_tiny(images)), atol=1e-3)


def test_default_route_answers_the_latest_version(
    client,
    version_2_exported,
    images: np.ndarray,
    trained_tiny_v2,
) -> None:
    np.testing.assert_allclose(
        client.predict(images), np.asarray(trained_tiny_v2(images)), atol=1e-6
    )


def test_default_policy_unloads_version_1_once_version_2_serves(client, version_2_exported) -> None:
    def version_1_ended() -> bool:
        return any(e.version == 1 and e.state == "END" for e in client.status())

    wait_until(version_1_ended, 30, "version 1 to reach END")
    # The whole answer as both clients read it; REST's JSON of it, byte layout included, is
    # tests/conformance/test_hot_loading.py's.
    assert client.status() == [
        VersionStatus(version=2, state="AVAILABLE", error_code="OK", error_message=""),
        VersionStatus(version=1, state="END", error_code="OK", error_message=""),
    ]


def test_unloaded_version_1_answers_404_with_the_exact_text(
    client,
    version_2_exported,
    images: np.ndarray,
) -> None:
    wait_until(
        lambda: any(e.version == 1 and e.state == "END" for e in client.status()), 30, "v1 END"
    )
    assert failure(lambda: client.predict(images, version=1), code="NOT_FOUND") == (
        404,
        f"Servable not found for request: Specific({MODEL_NAME}, 1)",
    )


def test_version_3_answers_404_servable_not_found(client, version_2_exported, images) -> None:
    assert failure(lambda: client.predict(images, version=3), code="NOT_FOUND") == (
        404,
        f"Servable not found for request: Specific({MODEL_NAME}, 3)",
    )
