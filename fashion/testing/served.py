"""pytest glue: start a model server under pytest-xprocess and wait until it really serves.

The engine (which server, which flags) is :mod:`fashion.servers`; this module adds what a test
session needs on top: xprocess' bookkeeping (a stale server from a crashed run is killed and
never reused, children are terminated on interrupt), readiness polled through the REST API with a
deadline, and a server that dies early failing the fixture at once with the tail of its log.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fashion.clients.arguments import DEFAULT_TIMEOUT
from fashion.clients.errors import ServingError
from fashion.clients.rest import ServingClient
from fashion.servers.binary import ModelServerBinary, ServerStartError
from fashion.servers.launcher import Launch, log_tail, plan_launch

if TYPE_CHECKING:
    from fashion.clients.grpc import GrpcServingClient

__all__ = ["ServedModelServer", "running_model_server", "spawn_model_server"]

#: Seconds a server may take from spawn to "the awaited versions are AVAILABLE".
READY_TIMEOUT = 120.0


@dataclass
class ServedModelServer:
    """A running model server started by :func:`spawn_model_server`.

    Attributes:
        name: the xprocess name (its control directory and log are named after it).
        binary: which server it is.
        pid: the process id (for a container: its engine's ``run`` client).
        rest_port: the REST port on 127.0.0.1.
        grpc_port: the gRPC port on 127.0.0.1.
        log_path: the combined stdout/stderr log.
        args: the full command line.
    """

    name: str
    binary: ModelServerBinary
    pid: int
    rest_port: int
    grpc_port: int
    log_path: Path
    args: list[str]
    _xprocess: Any = field(repr=False)
    _launch: Launch = field(repr=False)

    @property
    def grpc_target(self) -> str:
        """Address of the gRPC API."""
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def url(self) -> str:
        """Base URL of the REST API."""
        return f"http://127.0.0.1:{self.rest_port}"

    def client(self, model_name: str, *, timeout: float = DEFAULT_TIMEOUT) -> ServingClient:
        """A REST client for one of this server's models, at :attr:`url`."""
        return ServingClient(self.url, model_name, timeout=timeout)

    def grpc_client(
        self, model_name: str, *, timeout: float = DEFAULT_TIMEOUT
    ) -> GrpcServingClient:
        """A gRPC client for one of this server's models, at :attr:`grpc_target`.

        Its module is imported here, not with this one: it imports TensorFlow, which the
        plugin (importing this module at every pytest start) must not cost a REST-only session.
        """
        from fashion.clients.grpc import GrpcServingClient

        return GrpcServingClient(self.grpc_target, model_name, timeout=timeout)

    def is_running(self) -> bool:
        """Whether the process is alive (a zombie counts as dead)."""
        return bool(self._xprocess.getinfo(self.name).isrunning())

    def assert_alive(self) -> None:
        """Fail with the log's tail if the server has died.

        Raises:
            ServerStartError: the process is gone.
        """
        if not self.is_running():
            logs = self._launch.container_logs()
            raise ServerStartError(
                f"model server {self.name} (pid {self.pid}) is not running; last log lines:\n"
                f"{self.log_tail()}" + (f"\ncontainer logs:\n{logs}" if logs else "")
            )

    def log_tail(self, lines: int = 40) -> str:
        """The last lines the server wrote."""
        return log_tail(self.log_path, lines)

    def log_text(self) -> str:
        """Everything the server wrote so far."""
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """SIGTERM the process tree, SIGKILL what is left after 10 s; remove a container."""
        try:
            self._xprocess.getinfo(self.name).terminate(timeout=10)
        finally:
            self._launch.cleanup()


def _xprocess_key(name: str) -> str:
    """The server's xprocess key, one per pytest-xdist worker.

    xprocess keeps its control files in the shared cache directory and ``restart=True`` kills
    whatever runs under the key, so two workers sharing a key would kill each other's servers;
    the same worker in the next run still reaps its stale one.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return f"{name}-{worker}" if worker else name


def _ready_when_available(model_name: str, versions: Sequence[int | None]) -> Callable[[str], bool]:
    def ready(url: str) -> bool:
        with ServingClient(url, model_name, timeout=2.0) as client:
            try:
                entries = client.status()
            except ServingError:
                return False
        available = {entry.version for entry in entries if entry.state == "AVAILABLE"}
        return all((version in available) if version else bool(available) for version in versions)

    return ready


def spawn_model_server(
    xprocess: Any,
    binary: ModelServerBinary,
    name: str,
    *,
    model_name: str | None = None,
    base_path: str | Path | None = None,
    config_file: str | Path | None = None,
    extra_flags: Sequence[str] = (),
    ready: Callable[[str], bool] | None = None,
    wait_for_versions: Sequence[int | None] = (None,),
    timeout: float = READY_TIMEOUT,
) -> ServedModelServer:
    """Start a server with ``tensorflow_model_server``'s flags and wait until it serves.

    Args:
        xprocess: pytest-xprocess' fixture.
        binary: from :func:`fashion.servers.binary.resolve_model_server`.
        name: unique per concurrently running server (xprocess' key).
        model_name: the model to wait for (and to serve, with ``base_path``).
        base_path: single-model mode's ``--model_base_path``.
        config_file: ``--model_config_file`` instead of ``base_path``.
        extra_flags: more ``--name=value`` flags.
        ready: readiness check given the base URL; by default, the status of ``model_name``
            shows every version in ``wait_for_versions`` AVAILABLE (None: any version).
        wait_for_versions: see ``ready``.
        timeout: seconds before giving up.

    Raises:
        ServerStartError: the process exited, or was not ready in time (with its log tail).
    """
    from xprocess import ProcessStarter

    name = _xprocess_key(name)
    launch = plan_launch(
        binary,
        model_name=model_name,
        base_path=base_path,
        config_file=config_file,
        extra=extra_flags,
    )
    args, rest_port, grpc_port = launch.args, launch.rest_port, launch.grpc_port
    if ready is None:
        if model_name is None:
            raise ValueError("give ready= when serving from a config file")
        ready = _ready_when_available(model_name, wait_for_versions)
    url = f"http://127.0.0.1:{rest_port}"
    command_line, ready_timeout = list(args), timeout
    deadline = time.monotonic() + timeout

    class Starter(ProcessStarter):  # xprocess' configuration is class attributes
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # noqa: RUF012 - xprocess reads it
        terminate_on_interrupt = True
        max_read_lines = 10_000
        args = command_line
        timeout = ready_timeout

        def startup_check(self) -> bool:
            if not self.process.getinfo(name).isrunning():
                logs = launch.container_logs()
                raise ServerStartError(
                    f"model server {name} exited during start-up; last log lines:\n"
                    f"{log_tail(self.process.getinfo(name).logpath)}"
                    + (f"\ncontainer logs:\n{logs}" if logs else "")
                )
            if time.monotonic() > deadline:
                raise ServerStartError(
                    f"model server {name} not ready after {timeout:g} s; last log lines:\n"
                    f"{log_tail(self.process.getinfo(name).logpath)}"
                )
            return ready(url)

    try:
        pid, log_path = xprocess.ensure(name, Starter, restart=True, persist_logs=False)
    except BaseException:
        try:
            xprocess.getinfo(name).terminate(timeout=10)
        finally:
            launch.cleanup()
        raise
    return ServedModelServer(
        name=name,
        binary=binary,
        pid=pid,
        rest_port=rest_port,
        grpc_port=grpc_port,
        log_path=Path(str(log_path)),
        args=args,
        _xprocess=xprocess,
        _launch=launch,
    )


@contextmanager
def running_model_server(
    xprocess: Any, binary: ModelServerBinary, name: str, **options: Any
) -> Iterator[ServedModelServer]:
    """:func:`spawn_model_server` as a context manager that always stops the server.

    Fixtures ``yield`` inside it, so teardown happens even when the test fails.
    """
    server = spawn_model_server(xprocess, binary, name, **options)
    try:
        yield server
    finally:
        server.stop()
