"""Finding, starting and stopping a model server: the real binary or the stand-in.

The test fixtures and ``fashion demo`` start servers through this module, so both run the same
command line with the same flags, and a harness that works with one server works with the other.
Only ``tensorflow_model_server``'s own flags are passed.
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

__all__ = [
    "MODEL_SERVER_ENV",
    "ModelServerBinary",
    "ServerProcess",
    "ServerStartError",
    "free_port",
    "log_tail",
    "port_accepts_connections",
    "resolve_model_server",
    "server_args",
]

#: Environment variable that chooses the server: ``auto``, ``stand-in`` or a binary's path.
MODEL_SERVER_ENV = "FASHION_MODEL_SERVER"
REAL_BINARY_NAME = "tensorflow_model_server"


class ServerStartError(RuntimeError):
    """Raised when a model server cannot be found, started, or exits before it is ready."""


@dataclass(frozen=True)
class ModelServerBinary:
    """A runnable model server: how to invoke it, and what it says it is."""

    kind: Literal["real", "stand-in"]
    command: tuple[str, ...]
    version: str

    @property
    def description(self) -> str:
        """One line for logs and the pytest header."""
        return f"{self.kind}: {' '.join(self.command)} ({self.version})"


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


def resolve_model_server(choice: str | None = None) -> ModelServerBinary:
    """Decide which server runs.

    Args:
        choice: ``auto`` (the real binary if on PATH, else the stand-in), ``stand-in``, or a path
            to a ``tensorflow_model_server``-compatible binary. None reads ``$FASHION_MODEL_SERVER``
            and defaults to ``auto``.

    Raises:
        ServerStartError: the named binary does not exist or does not answer ``--version``.
    """
    choice = choice or os.environ.get(MODEL_SERVER_ENV) or "auto"
    if choice == "auto":
        found = shutil.which(REAL_BINARY_NAME)
        choice = found if found else "stand-in"
    if choice == "stand-in":
        command = (sys.executable, "-m", "fashion.serving")
        return ModelServerBinary("stand-in", command, _version_of(command))
    path = Path(choice).expanduser()
    resolved = shutil.which(str(path))
    if resolved is None:
        raise ServerStartError(f"model server {choice!r}: no such executable")
    command = (str(Path(resolved).absolute()),)
    return ModelServerBinary("real", command, _version_of(command))


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


def server_args(
    binary: ModelServerBinary,
    *,
    rest_port: int,
    grpc_port: int | None = None,
    model_name: str | None = None,
    base_path: str | Path | None = None,
    config_file: str | Path | None = None,
    extra: Sequence[str] = (),
) -> list[str]:
    """The full command line, in ``tensorflow_model_server``'s ``--name=value`` syntax.

    Give either ``model_name`` and ``base_path`` or ``config_file``. The gRPC port is required
    by the real server (``--port=0`` needs a socket path), so a free one is picked if not given.
    """
    if (config_file is None) == (base_path is None):
        raise ValueError("give either base_path (with model_name) or config_file")
    args = [
        *binary.command,
        f"--port={grpc_port if grpc_port is not None else free_port()}",
        f"--rest_api_port={rest_port}",
    ]
    if config_file is not None:
        args.append(f"--model_config_file={Path(config_file).absolute()}")
    else:
        args.append(f"--model_name={model_name or 'default'}")
        args.append(f"--model_base_path={Path(base_path).absolute()}")  # type: ignore[arg-type]
    args.extend(extra)
    return args


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

    def __init__(self, args: Sequence[str], log_path: str | Path) -> None:
        self.args = list(args)
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
            raise ServerStartError(
                f"model server exited with status {code}; last log lines:\n"
                f"{log_tail(self.log_path)}"
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
            if self._log is not None:
                self._log.close()
                self._log = None
