"""Model directories and the shared "fault server" for the disk-fault reliability tests.

One server serves several models from one config file, each with its own base path, so every
fault test damages its own model while ``steady`` - never touched - shows that the rest of the
server is unaffected. Damaged versions are assembled under a non-numeric name and renamed into
place: the server then sees the damaged content at once, never a directory still being filled,
which keeps the outcome (and so the expected error) deterministic.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import requests

from fashion.clients import ServingClient, VersionStatus
from fashion.servers import wait_until
from fashion.testing.served import ServedModelServer
from tests.support import QUICK_REQUEST_TIMEOUT

__all__ = ["FAULT_MODELS", "FaultServer", "install_version"]

#: The fault server's models and the versions each has on disk at start-up.
FAULT_MODELS: dict[str, tuple[int, ...]] = {
    "steady": (1,),
    "half_variables_only": (1,),
    "half_truncated_pb": (1,),
    "corrupt": (1,),
    "deleted": (1, 2),
    "emptied": (1,),
}


def install_version(
    source: Path, base: Path, version: int, damage: Callable[[Path], None] | None = None
) -> Path:
    """Copy a version directory to ``base/version``, optionally damaged, in one rename.

    Args:
        source: a complete exported version directory.
        base: the model's base path.
        version: the version number to appear as.
        damage: applied to the copy before it is renamed into place.

    Returns:
        The version directory.
    """
    staging = base / f".staging-{version}-{uuid.uuid4().hex[:8]}"
    shutil.copytree(source, staging)
    if damage is not None:
        damage(staging)
    final = base / str(version)
    staging.rename(final)
    return final


@dataclass(frozen=True)
class FaultServer:
    """The shared server of the disk-fault tests.

    Attributes:
        served: the running server.
        base_paths: each model's base path, by model name.
    """

    served: ServedModelServer
    base_paths: Mapping[str, Path]

    def answer(self, model: str, body: bytes) -> tuple[int, bytes]:
        """POST ``body`` to ``model``'s default predict route; the status and the body."""
        response = requests.post(
            f"{self.served.url}/v1/models/{model}:predict",
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=QUICK_REQUEST_TIMEOUT,
        )
        return response.status_code, response.content

    def status(self, model: str) -> list[VersionStatus]:
        """``model``'s version status entries, highest version first."""
        with ServingClient(self.served.url, model, timeout=QUICK_REQUEST_TIMEOUT) as client:
            return client.status()

    def state_of(self, model: str, version: int) -> VersionStatus | None:
        """One version's status entry, or None if the server has never tracked it."""
        return next((e for e in self.status(model) if e.version == version), None)

    def wait_for_state(
        self, model: str, version: int, state: str, timeout: float = 15.0
    ) -> VersionStatus:
        """Poll until ``model``'s ``version`` is in ``state``; return its entry.

        Raises:
            WaitTimeoutError: not within ``timeout`` seconds.
        """

        def reached() -> VersionStatus | None:
            entry = self.state_of(model, version)
            return entry if entry is not None and entry.state == state else None

        what = f"{model} version {version} to be {state}"
        return wait_until(reached, timeout, what, interval=0.1)
