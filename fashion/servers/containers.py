"""The real model server from its Docker image: ``--model-server docker[:IMAGE[:TAG]]``.

Most people who run TensorFlow Serving run the ``tensorflow/serving`` image. A container gets
exactly the flags the binary would get, with ``tensorflow_model_server`` as its entrypoint and an
init process (``--init``) so that SIGTERM reaches the server (the image's own entrypoint script
ignores it, TF Serving's ``tools/docker/Dockerfile``). Each host path a flag names is
bind-mounted read-only at a container path and the flag rewritten, a model config file is
rewritten to the container's base paths, and the ports are published on 127.0.0.1 with the same
numbers, so the flags keep their values. A version exported on the host appears in the container
through the mount, so hot loading works as with the binary.

Containers carry a name and labels; one left over by a run that crashed (its owner process is
gone) is removed at the next start, and stopping is ``stop`` with a grace period, then
``rm -f``. Images are never pulled unless asked. Podman takes the same commands
(``--container-engine podman``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "CONTAINER_ENGINE_ENV",
    "DEFAULT_IMAGE",
    "ContainerError",
    "ContainerLaunch",
    "Engine",
    "image_from_choice",
]

CONTAINER_ENGINE_ENV = "FASHION_CONTAINER_ENGINE"
DEFAULT_IMAGE = "tensorflow/serving:latest"
_LABEL = "fashion.model-server"
_OWNER_LABEL = "fashion.owner-pid"
_MOUNT_ROOT = "/fashion"
_STOP_GRACE_SECONDS = 5
_COMMAND_TIMEOUT = 120.0

# Flags whose value is a host file, and those whose value is a host directory tree.
_FILE_FLAGS = (
    "model_config_file",
    "monitoring_config_file",
    "batching_parameters_file",
    "ssl_config_file",
    "platform_config_file",
    "tensorflow_session_config_file",
    "thread_pool_factory_config_file",
)
_DIRECTORY_FLAGS = ("model_base_path",)


def version_text(result: subprocess.CompletedProcess[str]) -> str | None:
    """What ``tensorflow_model_server --version`` printed, on one line; None if it failed."""
    lines = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    return "; ".join(lines) if result.returncode == 0 and lines else None


def version_failure(result: subprocess.CompletedProcess[str]) -> str:
    """Why ``--version`` gave no :func:`version_text`: its exit status and the end of its output."""
    return (
        f"tensorflow_model_server --version failed (exit {result.returncode}): "
        f"{(result.stderr or result.stdout)[-500:]}"
    )


class ContainerError(RuntimeError):
    """Raised when the container engine cannot run the model server's image."""


def image_from_choice(choice: str) -> str | None:
    """The image a ``--model-server`` value names: ``docker`` or ``docker:IMAGE[:TAG]``.

    Returns:
        The image with a tag (``latest`` when none is given), or None when ``choice`` does not
        name a container.
    """
    if choice == "docker":
        return DEFAULT_IMAGE
    if not choice.startswith("docker:"):
        return None
    image = choice.removeprefix("docker:")
    if not image:
        return DEFAULT_IMAGE
    last = image.rsplit("/", 1)[-1]
    return image if ":" in last or "@" in last else f"{image}:latest"


@dataclass(frozen=True)
class Engine:
    """A container engine's command line (``docker`` or ``podman``)."""

    executable: str

    @classmethod
    def choose(cls, name: str | None = None) -> Engine:
        """``name``, else ``$FASHION_CONTAINER_ENGINE``, else ``docker``."""
        return cls(name or os.environ.get(CONTAINER_ENGINE_ENV) or "docker")

    def _run(
        self, *args: str, timeout: float = _COMMAND_TIMEOUT
    ) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                [self.executable, *args],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except OSError as exc:
            raise ContainerError(f"cannot run {self.executable}: {exc}") from exc
        except subprocess.TimeoutExpired as exc:
            raise ContainerError(
                f"{self.executable} {' '.join(args)} did not answer in {timeout:g} s"
            ) from exc

    def available(self) -> bool:
        """Whether the engine's command exists and its daemon answers."""
        if shutil.which(self.executable) is None:
            return False
        try:
            return self._run("version", timeout=20).returncode == 0
        except ContainerError:
            return False

    def has_image(self, image: str) -> bool:
        """Whether ``image`` is already on this machine (nothing is pulled)."""
        return self._run("image", "inspect", image).returncode == 0

    def pull(self, image: str) -> None:
        """Pull ``image`` (only when the user allowed it).

        Raises:
            ContainerError: the pull failed.
        """
        result = self._run("pull", image, timeout=1800)
        if result.returncode != 0:
            raise ContainerError(f"{self.executable} pull {image} failed: {result.stderr[-500:]}")

    def require_image(self, image: str, *, pull: bool) -> None:
        """Make sure ``image`` is present: pull it if allowed, else say how.

        Raises:
            ContainerError: the image is missing and pulling was not allowed.
        """
        if self.has_image(image):
            return
        if not pull:
            raise ContainerError(
                f"image {image} is not on this machine; run `{self.executable} pull {image}` "
                "first, or pass --docker-pull to let the suite pull it"
            )
        self.pull(image)

    def version_of(self, image: str) -> str:
        """What the image's ``tensorflow_model_server --version`` prints, on one line.

        Raises:
            ContainerError: the container did not answer.
        """
        result = self._run(
            "run", "--rm", "--entrypoint", "tensorflow_model_server", image, "--version"
        )
        version = version_text(result)
        if version is None:
            raise ContainerError(f"{image}: {version_failure(result)}")
        return version

    def remove_leftovers(self) -> list[str]:
        """Remove this suite's containers whose owner process is gone; their names.

        A crashed run cannot stop its containers; the next start finds them by label.
        """
        import psutil

        result = self._run(
            "ps",
            "-a",
            "--filter",
            f"label={_LABEL}",
            "--format",
            '{{.Names}} {{.Label "' + _OWNER_LABEL + '"}}',
        )
        removed = []
        for line in result.stdout.splitlines():
            name, _, owner = line.strip().partition(" ")
            if not name:
                continue
            if owner.isdigit() and psutil.pid_exists(int(owner)):
                continue
            self._run("rm", "-f", name)
            removed.append(name)
        return removed

    def logs(self, name: str) -> str:
        """Everything the container wrote (stdout and stderr)."""
        result = self._run("logs", name)
        return (result.stdout + result.stderr).strip()

    def stop(self, name: str) -> None:
        """``stop`` with a grace period, then ``rm -f``: no container outlives its run."""
        self._run("stop", "-t", str(_STOP_GRACE_SECONDS), name, timeout=_STOP_GRACE_SECONDS + 60)
        self._run("rm", "-f", name)


@dataclass
class ContainerLaunch:
    """The ``run`` command of one model server container, and what to clean up after it.

    Attributes:
        engine: the engine that runs it.
        name: the container's name.
        args: the full ``docker run ...`` command line.
        workdir: where rewritten config files live (removed by :meth:`cleanup`).
    """

    engine: Engine
    name: str
    args: list[str]
    workdir: Path
    _mounts: dict[str, str] = field(default_factory=dict, repr=False)
    _writable: set[str] = field(default_factory=set, repr=False)

    @classmethod
    def plan(
        cls, engine: Engine, image: str, flags: Sequence[str], ports: Sequence[int]
    ) -> ContainerLaunch:
        """Build the command for ``tensorflow_model_server`` ``flags`` in a container.

        Args:
            engine: docker or podman.
            image: the image, with its tag.
            flags: the binary's flags (``--name=value``), host paths included.
            ports: host ports to publish on 127.0.0.1 under the same numbers.
        """
        name = f"fashion-model-server-{uuid.uuid4().hex[:12]}"
        workdir = Path(tempfile.mkdtemp(prefix="fashion-container-"))
        launch = cls(engine, name, [], workdir)
        container_flags = [launch._rewrite(flag) for flag in flags]
        mounts = [
            arg
            for host, container in launch._mounts.items()
            for arg in ("-v", f"{host}:{container}" + ("" if host in launch._writable else ":ro"))
        ]
        published = [arg for port in ports for arg in ("-p", f"127.0.0.1:{port}:{port}")]
        launch.args = [
            engine.executable,
            "run",
            "--init",
            "--name",
            name,
            "--label",
            f"{_LABEL}=1",
            "--label",
            f"{_OWNER_LABEL}={os.getpid()}",
            *published,
            *mounts,
            "--entrypoint",
            "tensorflow_model_server",
            image,
            *container_flags,
        ]
        return launch

    def _mount(self, host_dir: Path) -> str:
        """The container path of a host directory, mounting it on first use."""
        key = str(host_dir.resolve())
        if key not in self._mounts:
            self._mounts[key] = f"{_MOUNT_ROOT}/{len(self._mounts)}"
        return self._mounts[key]

    def _container_path(self, host_path: Path) -> str:
        return f"{self._mount(host_path.parent)}/{host_path.name}"

    def _rewrite(self, flag: str) -> str:
        name, sep, value = flag.removeprefix("--").partition("=")
        if not sep or not value:
            return flag
        if name in _DIRECTORY_FLAGS:
            return f"--{name}={self._mount(Path(value))}"
        if name == "model_config_file":
            return f"--{name}={self._rewritten_config(Path(value))}"
        if name in _FILE_FLAGS:
            return f"--{name}={self._container_path(Path(value))}"
        if name == "grpc_socket_path":  # the server creates the socket: a writable mount
            socket = Path(value)
            self._writable.add(str(socket.parent.resolve()))
            return f"--{name}={self._container_path(socket)}"
        return flag

    def _rewritten_config(self, host_config: Path) -> str:
        """A copy of the model config file with every ``base_path`` a container path."""
        from google.protobuf import text_format
        from tensorflow_serving.config import model_server_config_pb2

        config = model_server_config_pb2.ModelServerConfig()
        try:
            text_format.Parse(host_config.read_text(), config)
        except (OSError, text_format.ParseError):
            # Unreadable or invalid: hand it over as it is; the server reports it.
            return self._container_path(host_config)
        for model in config.model_config_list.config:
            if model.base_path:
                model.base_path = self._mount(Path(model.base_path))
        copy = self.workdir / host_config.name
        copy.write_text(text_format.MessageToString(config))
        return self._container_path(copy)

    def cleanup(self) -> None:
        """Stop and remove the container, and the rewritten files."""
        try:
            self.engine.stop(self.name)
        finally:
            shutil.rmtree(self.workdir, ignore_errors=True)
