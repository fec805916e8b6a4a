"""Finding, starting and stopping a model server: the real binary, its Docker image, the stand-in.

The test fixtures, ``fashion demo``, ``fashion check`` and the benchmark start servers through
this module, so all run the same command line with the same flags, and a harness that works with
one server works with the others. Only ``tensorflow_model_server``'s own flags are passed; a
container gets them too, with host paths rewritten (:mod:`fashion.servers.containers`).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from fashion.servers.containers import ContainerError, ContainerLaunch, Engine, image_from_choice

__all__ = [
    "MODEL_SERVER_CHOICES",
    "MODEL_SERVER_ENV",
    "Launch",
    "ModelServerBinary",
    "ServerProcess",
    "ServerStartError",
    "free_port",
    "log_tail",
    "plan_launch",
    "port_accepts_connections",
    "resolve_model_server",
    "server_args",
]

#: Environment variable that chooses the server, with the values ``--model-server`` takes.
MODEL_SERVER_ENV = "FASHION_MODEL_SERVER"
REAL_BINARY_NAME = "tensorflow_model_server"
MODEL_SERVER_CHOICES = (
    "auto (default: tensorflow_model_server on PATH, else a Docker engine that has the "
    "tensorflow/serving image, else the stand-in), stand-in, docker[:IMAGE[:TAG]], or a path to "
    "a binary taking tensorflow_model_server's flags"
)


class ServerStartError(RuntimeError):
    """Raised when a model server cannot be found, started, or exits before it is ready."""


@dataclass(frozen=True)
class ModelServerBinary:
    """A runnable model server: how to invoke it, what it says it is, and why it was picked.

    Attributes:
        kind: ``real`` (a binary), ``docker`` (the real server in a container) or ``stand-in``.
        command: the binary's command (for ``docker``: the engine).
        version: what ``--version`` printed.
        image: the container image (``docker`` only).
        reason: why this server runs (the choice given, or what ``auto`` found).
    """

    kind: Literal["real", "stand-in", "docker"]
    command: tuple[str, ...]
    version: str
    image: str = ""
    reason: str = ""

    @property
    def is_real(self) -> bool:
        """Whether this is TF Serving's own server (binary or image), not the stand-in."""
        return self.kind != "stand-in"

    @property
    def description(self) -> str:
        """One line for logs and the pytest header: which server, its version, and why."""
        what = f"{self.command[0]} image {self.image}" if self.image else " ".join(self.command)
        why = f" [{self.reason}]" if self.reason else ""
        return f"{self.kind}: {what} ({self.version}){why}"


def _version_of(command: Sequence[str]) -> str:
    try:
        result = subprocess.run(
            [*command, "--version"], capture_output=True, text=True, timeout=120, check=False
        )
    except OSError as exc:
        raise ServerStartError(f"cannot run {' '.join(command)}: {exc}") from exc
    except subprocess.TimeoutExpired as exc:
        raise ServerStartError(f"{' '.join(command)} --version did not answer in 120 s") from exc
    lines = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    if result.returncode != 0 or not lines:
        raise ServerStartError(
            f"{' '.join(command)} --version failed (exit {result.returncode}): "
            f"{(result.stderr or result.stdout)[-500:]}"
        )
    return "; ".join(lines)


def _stand_in(reason: str) -> ModelServerBinary:
    command = (sys.executable, "-m", "fashion.serving")
    return ModelServerBinary("stand-in", command, _version_of(command), reason=reason)


def _container(image: str, engine: Engine, *, pull: bool, reason: str) -> ModelServerBinary:
    try:
        engine.remove_leftovers()
        engine.require_image(image, pull=pull)
        version = engine.version_of(image)
    except ContainerError as exc:
        raise ServerStartError(str(exc)) from exc
    return ModelServerBinary("docker", (engine.executable,), version, image=image, reason=reason)


def resolve_model_server(
    choice: str | None = None, *, container_engine: str | None = None, docker_pull: bool = False
) -> ModelServerBinary:
    """Decide which server runs.

    Args:
        choice: see :data:`MODEL_SERVER_CHOICES`. None reads ``$FASHION_MODEL_SERVER`` and
            defaults to ``auto``.
        container_engine: ``docker`` (default) or ``podman``; None reads
            ``$FASHION_CONTAINER_ENGINE``.
        docker_pull: allow pulling a missing image (never implicit).

    Raises:
        ServerStartError: the named binary does not exist or does not answer ``--version``, or
            the image is missing (the message names the ``pull`` command) or does not run.
    """
    choice = choice or os.environ.get(MODEL_SERVER_ENV) or "auto"
    engine = Engine.choose(container_engine)
    if choice == "auto":
        found = shutil.which(REAL_BINARY_NAME)
        if found:
            choice, reason = found, f"auto: {REAL_BINARY_NAME} is on PATH"
        elif engine.available() and engine.has_image(image_from_choice("docker") or ""):
            return _container(
                image_from_choice("docker") or "",
                engine,
                pull=False,
                reason=f"auto: no {REAL_BINARY_NAME} on PATH; {engine.executable} has the image",
            )
        else:
            return _stand_in(
                f"auto: no {REAL_BINARY_NAME} on PATH and no {engine.executable} engine with "
                "the tensorflow/serving image"
            )
    else:
        reason = f"chosen: {choice}"
    if choice == "stand-in":
        return _stand_in(reason)
    image = image_from_choice(choice)
    if image is not None:
        return _container(image, engine, pull=docker_pull, reason=reason)
    path = Path(choice).expanduser()
    resolved = shutil.which(str(path))
    if resolved is None:
        raise ServerStartError(f"model server {choice!r}: no such executable")
    command = (str(Path(resolved).absolute()),)
    return ModelServerBinary("real", command, _version_of(command), reason=reason)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read, release)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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
    """

    args: list[str]
    container: ContainerLaunch | None = None

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
    rest_port: int,
    grpc_port: int | None = None,
    model_name: str | None = None,
    base_path: str | Path | None = None,
    config_file: str | Path | None = None,
    extra: Sequence[str] = (),
) -> Launch:
    """The command line, in ``tensorflow_model_server``'s ``--name=value`` syntax.

    Give either ``model_name`` and ``base_path`` or ``config_file``. The gRPC port is required
    by the real server (``--port=0`` needs a socket path), so a free one is picked if not given.
    For a container, the same flags run behind its ``tensorflow_model_server`` entrypoint.
    """
    if (config_file is None) == (base_path is None):
        raise ValueError("give either base_path (with model_name) or config_file")
    grpc_port = grpc_port if grpc_port is not None else free_port()
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
        return Launch(container.args, container)
    return Launch([*binary.command, *flags])


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
