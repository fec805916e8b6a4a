"""A server that dies is noticed at once, and a fixture's server never outlives its session.

A model server killed mid-session (SIGKILL: no chance to clean up) must make the next check
fail within seconds, with the server's last log lines, instead of hanging a test until some
timeout. And a fixture that spawns a server must stop it even when its test fails: an inner
pytest session runs a test that fails on purpose, then its server's pid must be gone and
nothing may answer on its port any more (a worker left behind would).
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from fashion.clients import ServingConnectionError
from fashion.servers import (
    ModelServerBinary,
    ServerStartError,
    port_accepts_connections,
    wait_until,
)
from fashion.testing.served import ServedModelServer, running_model_server
from tests.support import MODEL_NAME, REQUEST_TIMEOUT

pytestmark = pytest.mark.server

#: How fast a dead server must be noticed.
NOTICE_SECONDS = 5.0


@pytest.fixture
def doomed_server(xprocess, model_server_binary, base_path: Path) -> Iterator[ServedModelServer]:
    # On exit the process is already gone: stopping it must not fail or hang either.
    with running_model_server(
        xprocess,
        model_server_binary,
        "reliability-doomed",
        model_name=MODEL_NAME,
        base_path=base_path,
    ) as served:
        yield served


def _alive_check_error(server: ServedModelServer) -> ServerStartError | None:
    try:
        server.assert_alive()
    except ServerStartError as exc:
        return exc
    return None


def test_a_killed_server_fails_the_next_checks_within_5_s_with_its_log_tail(
    doomed_server: ServedModelServer,
) -> None:
    with doomed_server.client(MODEL_NAME, timeout=REQUEST_TIMEOUT) as client:
        assert client.status()[0].state == "AVAILABLE"  # a pooled keep-alive connection now
        os.kill(doomed_server.pid, signal.SIGKILL)
        started = time.monotonic()
        error = wait_until(
            lambda: _alive_check_error(doomed_server), NOTICE_SECONDS, "assert_alive() to fail"
        )
        noticed = time.monotonic() - started
        with pytest.raises(ServingConnectionError):
            client.status()  # on the pooled connection the server had open
        failed_call = time.monotonic() - started - noticed
    with (
        doomed_server.client(MODEL_NAME, timeout=REQUEST_TIMEOUT) as fresh,
        pytest.raises(ServingConnectionError),
    ):
        fresh.status()
    print(f"death noticed after {noticed:.3f} s; the next call failed in {failed_call:.3f} s")

    assert noticed < NOTICE_SECONDS
    assert failed_call < NOTICE_SECONDS
    message = str(error)
    assert f"(pid {doomed_server.pid}) is not running; last log lines:" in message
    # Both servers log this line once the REST port is open (server.cc, Server::BuildAndStart).
    assert f"Exporting HTTP/REST API at:localhost:{doomed_server.rest_port}" in message


_INNER_TEST = """
import json
import os
from pathlib import Path

import psutil
import pytest

from fashion.testing.served import running_model_server
from fashion.servers import ModelServerBinary


@pytest.fixture
def server(xprocess):
    # The same context manager as every fixture of the suite: it is what is under test.
    spec = json.loads(os.environ["RELIABILITY_BINARY"])
    binary = ModelServerBinary(spec["kind"], tuple(spec["command"]), spec["version"])
    with running_model_server(
        xprocess, binary, "reliability-inner", model_name=os.environ["RELIABILITY_MODEL_NAME"],
        base_path=os.environ["RELIABILITY_BASE_PATH"],
    ) as served:
        yield served


def test_fails_on_purpose(server):
    process = psutil.Process(server.pid)
    Path(os.environ["RELIABILITY_PID_FILE"]).write_text(
        json.dumps(
            {"pid": server.pid, "create_time": process.create_time(), "port": server.rest_port}
        )
    )
    assert False, "failing on purpose"
"""


def _still_running(pid: int, create_time: float) -> bool:
    """Whether that very process (not a later one reusing the pid) runs and is not a zombie."""
    try:
        process = psutil.Process(pid)
        return process.create_time() == create_time and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.mark.slow  # a pytest session of its own
def test_a_fixture_stops_its_server_even_when_its_test_fails(
    tmp_path: Path, base_path: Path, model_server_binary: ModelServerBinary
) -> None:
    session_dir = tmp_path / "inner"
    session_dir.mkdir()
    (session_dir / "pytest.ini").write_text("[pytest]\n")  # this dir is the inner rootdir
    (session_dir / "test_inner.py").write_text(textwrap.dedent(_INNER_TEST))
    pid_file = tmp_path / "server.json"
    env = {
        **os.environ,
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",  # only xprocess (-p below): a faster start
        "RELIABILITY_BINARY": json.dumps(dataclasses.asdict(model_server_binary)),
        "RELIABILITY_MODEL_NAME": MODEL_NAME,
        "RELIABILITY_BASE_PATH": str(base_path),
        "RELIABILITY_PID_FILE": str(pid_file),
    }
    inner = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "xprocess", "test_inner.py"],
        cwd=session_dir, env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    output = inner.stdout + inner.stderr
    assert pid_file.exists(), f"the inner test never ran its server:\n{output}"
    server = json.loads(pid_file.read_text())
    try:
        assert inner.returncode == 1, output  # 1: tests ran and some failed
        assert "AssertionError: failing on purpose" in output
        assert not _still_running(server["pid"], server["create_time"]), (
            f"the inner session ended, its server (pid {server['pid']}) still runs"
        )
        assert not port_accepts_connections(server["port"], timeout=2.0), (
            f"the inner session ended, something still serves its REST port {server['port']}"
        )
    finally:
        if _still_running(server["pid"], server["create_time"]):
            os.kill(server["pid"], signal.SIGKILL)
