"""A model version's status as both clients report it, and the one loop that waits on it.

REST answers ``model_version_status`` as JSON, gRPC as ``GetModelStatusResponse``; both clients
turn an entry into a :class:`VersionStatus` with the state and error code as names, so the
waiting rules below are written once and the transports wait alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fashion.clients.errors import ServingConnectionError, ServingError, ServingTimeoutError
from fashion.servers.waiting import WaitTimeoutError, wait_until

__all__ = ["VersionStatus", "wait_until_version_available"]


@dataclass(frozen=True)
class VersionStatus:
    """One entry of ``model_version_status``."""

    version: int
    state: str
    error_code: str
    error_message: str


def wait_until_version_available(
    status: Callable[[int | None], list[VersionStatus]],
    model_name: str,
    version: int | None = None,
    *,
    timeout: float = 60.0,
    interval: float = 0.1,
) -> VersionStatus:
    """Poll ``status`` until ``version`` (or, if None, any version) is AVAILABLE.

    One loop for both transports, so REST and gRPC clients wait by the same rules: connection
    failures, timeouts and 404s (NOT_FOUND over gRPC) count as "not yet" (the server may still be
    starting); a version whose load ended in an error fails at once instead of waiting for the
    deadline.

    Args:
        status: a client's ``status`` method.
        model_name: for messages.
        version: the version to wait for; None for any.
        timeout: seconds before giving up.
        interval: seconds between polls.

    Raises:
        ServingTimeoutError: not AVAILABLE within ``timeout`` seconds; says what was seen.
        ServingError: the version's load failed, or the server answered something unusable.
    """
    last_seen: list[str] = ["no answer yet"]

    def available() -> VersionStatus | None:
        try:
            entries = status(version)
        except (ServingConnectionError, ServingTimeoutError) as exc:
            last_seen[0] = str(exc)
            return None
        except ServingError as exc:
            if exc.status_code != 404:
                raise
            last_seen[0] = str(exc)
            return None
        last_seen[0] = ", ".join(f"{e.version}:{e.state}" for e in entries)
        for entry in entries:
            if entry.state == "AVAILABLE":
                return entry
            if version is not None and entry.state == "END" and entry.error_code != "OK":
                raise ServingError(
                    f"model {model_name} version {entry.version} failed to load: "
                    f"{entry.error_code}: {entry.error_message}",
                    error=entry.error_message,
                )
        return None

    what = f"model {model_name}" + (f" version {version}" if version else "")
    try:
        return wait_until(available, timeout, f"{what} to be AVAILABLE", interval=interval)
    except WaitTimeoutError as exc:
        raise ServingTimeoutError(f"{exc}; last seen: {last_seen[0]}") from exc
