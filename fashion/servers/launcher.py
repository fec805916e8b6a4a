"""Starting and stopping a chosen model server: its command line, its process, its ports.

The test fixtures, ``fashion demo``, ``fashion check`` and the benchmark start servers through
this module, so all run the same command line with the same flags, and a harness that works with
one server works with the others. Only ``tensorflow_model_server``'s own flags are passed; a
container gets them too, with host paths rewritten (:mod:`fashion.servers.containers`). Which
server runs is chosen before, by :mod:`fashion.servers.binary`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from fashion.servers.binary import ModelServerBinary, ServerStartError
from fashion.servers.containers import ContainerError, ContainerLaunch, Engine

__all__ = [
    "Launch",
    "ServerProcess",
    "free_port",
    "free_ports",
    "log_tail",
    "plan_launch",
    "port_accepts_connections",
    "server_args",
]


def free_ports(count: int, *, besides: Iterable[int] = ()) -> list[int]:
    """``count`` distinct TCP ports on 127.0.0.1 that were free a moment ago, none in ``besides``.

    Every probe stays bound until all are picked: a port released at once may be handed out
    again by the next bind to port 0, and a server given the same port for REST and gRPC skips
    REST (``server.cc``), which then answers in gRPC's HTTP/2 frames.
    """
    taken = set(besides)
    with contextlib.ExitStack() as stack:
        ports: list[int] = []
        while len(ports) < count:
            probe = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
            if port not in taken:
                taken.add(port)
                ports.append(port)
        return ports


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read, release)."""
    return free_ports(1)[0]


def port_accepts_connections(port: int, timeout: float = 1.0) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:``port`` right now."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


@dataclass
class Launch:
    """How to start one server: the command line, and what to clean up once it has stopped.

    Attributes:
        args: the full command line.
        container: the container's plan, for the ``docker`` kind.
        rest_port: its ``--rest_api_port`` (0: none, or a launch made from a bare command line).
        grpc_port: its ``--port`` (0 for a launch made from a bare command line).
    """

    args: list[str]
    container: ContainerLaunch | None = None
    rest_port: int = 0
    grpc_port: int = 0

    def cleanup(self) -> None:
        """Stop and remove the container (if any) once the process is gone."""
        if self.container is not None:
            self.container.cleanup()

    def container_logs(self) -> str:
        """``docker logs`` of the container, or "" for a process server."""
        if self.container is None:
            return ""
        try:
            return self.container.engine.logs(self.container.name)
        except ContainerError as exc:
            return f"(no container logs: {exc})"


def plan_launch(
    binary: ModelServerBinary,
    *,
    rest_port: int | None = None,
    grpc_port: int | None = None,
    model_name: str | None = None,
    base_path: str | Path | None = None,
    config_file: str | Path | None = None,
    extra: Sequence[str] = (),
) -> Launch:
    """The command line, in ``tensorflow_model_server``'s ``--name=value`` syntax.

    Give either ``model_name`` and ``base_path`` or ``config_file``. A port not given is a free
    one, picked here (the gRPC port is required by the real server: ``--port=0`` needs a socket
    path), so a caller that only needs two ports reads them from the launch. For a container,
    the same flags run behind its ``tensorflow_model_server`` entrypoint.
    """
    if (config_file is None) == (base_path is None):
        raise ValueError("give either base_path (with model_name) or config_file")
    given = [port for port in (rest_port, grpc_port) if port is not None]
    spare = iter(free_ports(2 - len(given), besides=given))
    rest_port = rest_port if rest_port is not None else next(spare)
    grpc_port = grpc_port if grpc_port is not None else next(spare)
    flags = [f"--port={grpc_port}", f"--rest_api_port={rest_port}"]
    if config_file is not None:
        flags.append(f"--model_config_file={Path(config_file).absolute()}")
    else:
        flags.append(f"--model_name={model_name or 'default'}")
        flags.append(f"--model_base_path={Path(base_path).absolute()}")  # type: ignore[arg-type]
    flags.extend(extra)
    if binary.kind == "docker":
        ports = [port for port in (grpc_port, rest_port) if port]
        container = ContainerLaunch.plan(Engine(binary.command[0]), binary.image, flags, ports)
        return Launch(container.args, container, rest_port, grpc_port)
    return Launch([*binary.command, *flags], None, rest_port, grpc_port)


def server_args(binary: ModelServerBinary, **options: object) -> list[str]:
    """The command line of :func:`plan_launch` (for a process server: nothing to clean up)."""
    return plan_launch(binary, **options).args  # type: ignore[arg-type]


def log_tail(path: str | Path, lines: int = 40) -> str:
    """The last ``lines`` lines of a log file, for error messages ("" if it does not exist)."""
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class ServerProcess:
    """A model server child process writing its log to a file; a context manager that stops it.

    The fixtures use pytest-xprocess instead (it adds leftover-process cleanup across runs);
    this class serves ``fashion demo`` and anyone scripting a server outside pytest.
    """

    def __init__(self, launch: Launch | Sequence[str], log_path: str | Path) -> None:
        self.launch = launch if isinstance(launch, Launch) else Launch(list(launch))
        self.args = self.launch.args
        self.log_path = Path(log_path)
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def pid(self) -> int | None:
        """The child's process id, once started."""
        return self._process.pid if self._process else None

    def start(self) -> None:
        """Start the server (unbuffered output, the environment inherited)."""
        self._log = open(self.log_path, "ab", buffering=0)  # noqa: SIM115 - closed in stop()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._process = subprocess.Popen(
            self.args, stdout=self._log, stderr=subprocess.STDOUT, env=env,
            start_new_session=True,
        )  # fmt: skip

    def check_alive(self) -> None:
        """Raise with the log's tail if the server has exited.

        Raises:
            ServerStartError: the process is not running.
        """
        if self._process is None:
            raise ServerStartError("server not started")
        code = self._process.poll()
        if code is not None:
            logs = self.launch.container_logs()
            raise ServerStartError(
                f"model server exited with status {code}; last log lines:\n"
                f"{log_tail(self.log_path)}" + (f"\ncontainer logs:\n{logs}" if logs else "")
            )

    def wait(self, timeout: float) -> int | None:
        """Wait up to ``timeout`` seconds for the server to exit; its exit status, or None."""
        if self._process is None:
            return None
        try:
            return self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout`` seconds; returns the exit status."""
        process, self._process = self._process, None
        try:
            if process is None:
                return None
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout)
            return process.returncode
        finally:
            self.launch.cleanup()
            if self._log is not None:
                self._log.close()
                self._log = None
