"""Which model server runs: the real binary, its Docker image, or the stand-in, and why.

One choice for every caller (the pytest plugin's ``--model-server``, ``fashion demo``,
``fashion check``, the benchmark), so the same word picks the same server everywhere and the
report header can say what was picked and why. Choosing runs the server's ``--version`` (or the
image's), so a server that cannot run fails here, before any test or command relies on it.
Starting the chosen server is :mod:`fashion.servers.launcher`'s job.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from fashion.servers.containers import (
    ContainerError,
    Engine,
    image_from_choice,
    version_failure,
    version_text,
)

__all__ = [
    "MODEL_SERVER_CHOICES",
    "MODEL_SERVER_ENV",
    "ModelServerBinary",
    "ServerStartError",
    "resolve_model_server",
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
    version = version_text(result)
    if version is None:
        raise ServerStartError(f"{' '.join(command)}: {version_failure(result)}")
    return version


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
