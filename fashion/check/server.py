"""The model server the checks talk to: one ``fashion check`` starts, or one already running.

A server ``fashion check`` starts gets a REST and a gRPC port (every TF Serving serves both),
the chosen binary's own flags (:mod:`fashion.servers.launcher`) and a model config file that
serves every version (``model_version_policy { all {} }``), with ``--max_num_load_retries=0``
so a failed load fails at once and ``--file_system_poll_wait_seconds=1`` so a hot-loaded
version is seen within a second. The versions are staged under a base path of its own
(symbolic links to the checked directories; a container gets copies, since links out of its
mounts would not resolve), so the checked directory is never written to; messages name the
checked directories, not the staged ones.

Whether each version then loads is :mod:`fashion.check.readiness`' job; this module gives it
what it reads: the status API's client, the process, and the log's failed-load lines.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from fashion.check.options import CheckInputError
from fashion.clients.rest import ServingClient
from fashion.servers.binary import ModelServerBinary
from fashion.servers.launcher import ServerProcess, plan_launch

if TYPE_CHECKING:
    from fashion.clients.grpc import GrpcServingClient

__all__ = [
    "CHECK_SERVER_FLAGS",
    "NO_GRPC_TARGET",
    "RunningServer",
    "ServedModel",
    "StartedGrpcServer",
    "StartedServer",
    "attach",
    "start_server",
]

#: The flags a server started by ``fashion check`` gets besides its ports and config file.
CHECK_SERVER_FLAGS = ("--max_num_load_retries=0", "--file_system_poll_wait_seconds=1")
_FAILED_LOAD = re.compile(r"Loading servable: \{name: (?P<name>.*?) version: (?P<version>\d+)\}")
_FAILED_START = "Failed to start server. Error:"


class StartedServer(Protocol):
    """A server a test fixture started with ``tensorflow_model_server``'s flags, as checks read it.

    :class:`fashion.testing.ServedModelServer` is one. Named by its shape, not imported: the
    checks run from the command line too, and know nothing of pytest's fixtures. It may also
    have a ``grpc_target`` (``host:port`` of its ``--port``, or ``unix:PATH``; see
    :class:`StartedGrpcServer`); without one, the gRPC rows are skipped, saying why.
    """

    @property
    def url(self) -> str:
        """Its REST API, ``http://host:port``."""
        ...

    @property
    def args(self) -> Sequence[str]:
        """Its command line (``--model_name=`` or ``--model_config_file=`` among the flags)."""
        ...

    @property
    def log_path(self) -> Path:
        """Its log file."""
        ...


class StartedGrpcServer(StartedServer, Protocol):
    """A :class:`StartedServer` whose gRPC API the checks can reach too."""

    @property
    def grpc_target(self) -> str | None:
        """Its gRPC API, ``host:port`` (TF Serving's ``--port``) or ``unix:PATH``; None: none."""
        ...


#: Why gRPC rows are skipped for a server that names no gRPC API.
NO_GRPC_TARGET = (
    "the server has no gRPC target, so nothing was asked over gRPC: give the fixture's server a "
    "grpc_target (host:port of its --port), or RunningServer(..., grpc_target=...), or check "
    "with transport='rest'"
)


@dataclass(frozen=True)
class RunningServer:
    """A model server someone else started and owns (a pytest fixture's, a deployment's).

    Attributes:
        url: its REST API, ``http://host:port``.
        model_name: the name the checked model is served under.
        log_path: its log file, if readable (for the failed-load lines).
        grpc_target: its gRPC API, ``host:port`` or ``unix:PATH``; None: the gRPC rows are
            skipped.
    """

    url: str
    model_name: str
    log_path: Path | None = None
    grpc_target: str | None = None

    @classmethod
    def of(
        cls, server: StartedServer, base_path: Path, model_name: str | None = None
    ) -> RunningServer:
        """The server a fixture started (:class:`StartedServer`), serving ``base_path``.

        The model name is ``model_name`` if given, else the server's ``--model_name``, else the
        name its ``--model_config_file`` gives ``base_path``.

        Raises:
            CheckInputError: the name cannot be told (say it with ``model_name``).
        """
        name = (
            model_name
            or _flag(server.args, "model_name")
            or _name_in_config(_flag(server.args, "model_config_file"), base_path)
        )
        if not name:
            raise CheckInputError(
                f"cannot tell which model of the server at {server.url} serves {base_path}; "
                "give its name (CheckOptions(model_name=...))"
            )
        return cls(server.url, name, server.log_path, getattr(server, "grpc_target", None))


@dataclass
class ServedModel:
    """The server side of a check: a REST client, the log, and (when owned) the process.

    Attributes:
        url: the REST API.
        model_name: the served model.
        description: which server this is, for the report.
        log_path: its log, when known.
        process: the server process, when ``fashion check`` started it.
        staged_base: the base path it serves, when ``fashion check`` staged it.
        copies: stage copies rather than symbolic links (container servers).
        grpc_target: the gRPC API, when known.
    """

    url: str
    model_name: str
    description: str
    log_path: Path | None = None
    process: ServerProcess | None = None
    staged_base: Path | None = None
    copies: bool = False
    grpc_target: str | None = None
    _paths: dict[str, str] = field(default_factory=dict, repr=False)

    def client(self, timeout: float) -> ServingClient:
        """A REST client for the model."""
        return ServingClient(self.url, self.model_name, timeout=timeout)

    def grpc_client(self, timeout: float) -> GrpcServingClient:
        """A gRPC client for the model (imports TensorFlow: call it once TensorFlow is in).

        Raises:
            CheckInputError: the server has no gRPC target.
        """
        if self.grpc_target is None:
            raise CheckInputError(NO_GRPC_TARGET)
        from fashion.clients.grpc import GrpcServingClient

        return GrpcServingClient(self.grpc_target, self.model_name, timeout=timeout)

    @property
    def pid(self) -> int | None:
        """The server's process id, when ``fashion check`` started it."""
        return self.process.pid if self.process else None

    def check_alive(self) -> None:
        """Raise if an owned server has exited.

        Raises:
            ServerStartError: with the log's tail.
        """
        if self.process is not None:
            self.process.check_alive()

    def log_text(self) -> str:
        """Everything the server logged so far ("" when unknown)."""
        if self.log_path is None:
            return ""
        try:
            return self.user_text(self.log_path.read_text(errors="replace"))
        except OSError:
            return ""

    def user_text(self, text: str) -> str:
        """``text`` with staged paths replaced by the checked directories they stand for."""
        for staged, real in sorted(self._paths.items(), key=lambda p: -len(p[0])):
            text = text.replace(staged, real)
        return text

    def failed_load_line(self, version: int) -> str:
        """The server's last ``Loading servable: {name: ... version: N} failed: ...`` line."""
        found = ""
        for line in self.log_text().splitlines():
            match = _FAILED_LOAD.search(line)
            if (
                match
                and " failed: " in line
                and int(match.group("version")) == version
                and match.group("name") == self.model_name
            ):
                found = line[match.start() :].strip()
        return found

    def start_failure_line(self) -> str:
        """The server's ``Failed to start server. Error: ...`` line, or ""."""
        lines = [line for line in self.log_text().splitlines() if _FAILED_START in line]
        return lines[-1].strip() if lines else ""

    def stage_version(self, version: int, directory: Path) -> None:
        """Make ``directory`` appear as ``version`` in the served base path, atomically.

        Raises:
            CheckInputError: the server was not started by ``fashion check``.
        """
        if self.staged_base is None:
            raise CheckInputError(
                "--new-version needs a server that fashion check starts (a running server's "
                "base path is not ours to write to)"
            )
        incoming = self.staged_base / f".incoming-{version}"
        if self.copies:
            shutil.copytree(directory, incoming, symlinks=False)
        else:
            incoming.symlink_to(directory.absolute(), target_is_directory=True)
        target = self.staged_base / str(version)
        os.replace(incoming, target)
        self._paths[str(target)] = str(directory.absolute())


def _flag(args: Sequence[str], name: str) -> str:
    prefix = f"--{name}="
    return next((arg[len(prefix) :] for arg in args if arg.startswith(prefix)), "")


def _name_in_config(config_file: str, base_path: Path) -> str:
    """The name of the model whose ``base_path`` is ``base_path`` in a model config file."""
    if not config_file:
        return ""
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    config = model_server_config_pb2.ModelServerConfig()
    try:
        text_format.Parse(Path(config_file).read_text(), config)
    except (OSError, text_format.ParseError):
        return ""
    wanted = base_path.expanduser().resolve()
    for model in config.model_config_list.config:
        if Path(model.base_path).resolve() == wanted:
            return model.name
    return ""


def _config_text(model_name: str, base: Path) -> str:
    quoted = model_name.replace("\\", "\\\\").replace('"', '\\"')
    return (
        "model_config_list {\n"
        "  config {\n"
        f'    name: "{quoted}"\n'
        f'    base_path: "{base}"\n'
        '    model_platform: "tensorflow"\n'
        "    model_version_policy { all {} }\n"
        "  }\n"
        "}\n"
    )


@contextmanager
def start_server(
    binary: ModelServerBinary,
    model_name: str,
    versions: Mapping[int, Path],
    work_dir: Path,
    extra_flags: Sequence[str] = (),
) -> Iterator[ServedModel]:
    """Stage the versions and start a server on them, with :data:`CHECK_SERVER_FLAGS` and
    ``extra_flags``; stop it when the block ends.

    Raises:
        ServerStartError: the server cannot be started.
    """
    base = work_dir / "models" / "model"
    base.mkdir(parents=True)
    copies = binary.kind == "docker"
    config = work_dir / "models.config"
    config.write_text(_config_text(model_name, base))
    launch = plan_launch(binary, config_file=config, extra=(*CHECK_SERVER_FLAGS, *extra_flags))
    served = ServedModel(
        url=f"http://127.0.0.1:{launch.rest_port}",
        model_name=model_name,
        description=binary.description,
        log_path=work_dir / "server.log",
        staged_base=base,
        copies=copies,
        grpc_target=f"127.0.0.1:{launch.grpc_port}",
    )
    for version, directory in sorted(versions.items()):
        served.stage_version(version, directory)
    process = ServerProcess(launch, served.log_path)
    served.process = process
    try:
        process.start()
        yield served
    finally:
        process.stop()


def attach(server: RunningServer) -> ServedModel:
    """The server side of a check against a server someone else runs."""
    return ServedModel(
        url=server.url.rstrip("/"),
        model_name=server.model_name,
        description=f"running server at {server.url}",
        log_path=server.log_path,
        grpc_target=server.grpc_target,
    )
