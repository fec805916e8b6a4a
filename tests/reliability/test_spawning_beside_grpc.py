"""Servers spawned while gRPC traffic runs in the test process start, every time.

pytest-xprocess forks each server with a ``preexec_fn``; with grpcio 1.80 or later, gRPC's fork
handler then restarts a poller in the child before its exec, on an epoll fd that ``close_fds``
has closed, and the child aborts (grpc/grpc#43055): a shared server died at start-up now and
then, under xdist, once the suite's gRPC clients were busy. The fashion plugin turns gRPC's fork
handlers off before grpc is imported. This test runs the same spawning, in a fresh interpreter,
with and without that setting, and counts the children that never reached their exec.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from fashion.testing.plugin import FORK_SUPPORT_ENV

pytestmark = pytest.mark.slow

_SPAWNS = 150
_PROGRAM = textwrap.dedent(
    """
    import os, subprocess, sys, threading
    from concurrent import futures
    import grpc
    from grpc_health.v1 import health, health_pb2, health_pb2_grpc

    server = grpc.server(futures.ThreadPoolExecutor(2))
    health_pb2_grpc.add_HealthServicer_to_server(health.HealthServicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    stub = health_pb2_grpc.HealthStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
    busy = threading.Event()
    busy.set()

    def traffic():
        while busy.is_set():
            stub.Check(health_pb2.HealthCheckRequest())

    threading.Thread(target=traffic, daemon=True).start()
    failed = 0
    for _ in range(int(sys.argv[1])):
        child = subprocess.Popen(
            ["/bin/true"], preexec_fn=os.setpgrp, close_fds=True, stderr=subprocess.DEVNULL
        )
        failed += child.wait() != 0
    busy.clear()
    print(failed)
    """
)


def _spawn(fork_support: str | None) -> subprocess.CompletedProcess[str]:
    """Run the program in a fresh interpreter, with ``GRPC_ENABLE_FORK_SUPPORT`` as given."""
    env = {key: value for key, value in os.environ.items() if key != FORK_SUPPORT_ENV}
    if fork_support is not None:
        env[FORK_SUPPORT_ENV] = fork_support
    return subprocess.run(
        [sys.executable, "-c", _PROGRAM, str(_SPAWNS)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def test_the_plugin_turns_grpcs_fork_handlers_off() -> None:
    assert os.environ[FORK_SUPPORT_ENV] == "false"


def test_with_grpcs_fork_handlers_off_no_spawned_child_aborts() -> None:
    result = _spawn("false")
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout.split()[-1]) == 0


def test_with_grpcs_fork_handlers_on_spawned_children_can_abort() -> None:
    """The other side, so the test above proves the setting and not a lucky run. With the
    handlers on, a child aborts before its exec, or (seen with grpcio 1.85 on Python 3.10) the
    spawning process itself aborts in a fork handler. grpcio before 1.80, or a fixed one, has no
    such failure: then this documents that the setting is moot."""
    import grpc

    result = _spawn(None)
    parent_aborted = result.returncode == -signal.SIGABRT
    if not parent_aborted:
        assert result.returncode == 0, result.stderr[-2000:]
        failed = int(result.stdout.split()[-1])
        if failed == 0:
            pytest.xfail(f"grpcio {grpc.__version__} did not abort a child in {_SPAWNS} spawns")
        assert failed > 0
