"""The checks both clients and the CLI make on their arguments before anything is sent.

A bad URL, target, timeout or version is the caller's mistake: it is refused with a
``ValueError`` when the client is made or the call is made, never turned into a request the server
answers in its own words. Here, not in the clients, so that the CLI can check a gRPC target
without importing TensorFlow (the gRPC messages live in its package).
"""

from __future__ import annotations

import math
from urllib.parse import urlsplit

__all__ = [
    "DEFAULT_TIMEOUT",
    "check_base_url",
    "check_grpc_target",
    "check_timeout",
    "check_version_choice",
]

#: Seconds any single request may take before it is abandoned.
DEFAULT_TIMEOUT = 30.0


def check_base_url(url: str) -> None:
    """Raise ValueError unless ``url`` looks like ``http(s)://host[:port][/prefix]``."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError as exc:
        raise ValueError(f"not a server URL: {url!r} ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not a server URL: {url!r} (expected http://host:port)")
    if parts.query or parts.fragment:
        raise ValueError(f"not a server URL: {url!r} (no query or fragment expected)")


def check_grpc_target(target: str) -> None:
    """Raise ValueError unless ``target`` is ``host:port`` (``[v6]:port``) or ``unix:/path``."""
    expected = "expected host:port or unix:/path"
    if not isinstance(target, str) or not target:
        raise ValueError(f"not a gRPC target: {target!r} ({expected})")
    if target.startswith("unix:"):
        if not target.removeprefix("unix:").strip("/"):
            raise ValueError(f"not a gRPC target: {target!r} (the socket path is empty)")
        return
    if "://" in target:
        raise ValueError(f"not a gRPC target: {target!r} ({expected}, not a URL)")
    try:
        parts = urlsplit(f"//{target}")
        port = parts.port  # raises ValueError for a port that is not a number in range
    except ValueError as exc:
        raise ValueError(f"not a gRPC target: {target!r} ({exc})") from None
    if not parts.hostname or port is None or port == 0 or parts.path or parts.username:
        raise ValueError(f"not a gRPC target: {target!r} ({expected})")
    if parts.query or parts.fragment:
        raise ValueError(f"not a gRPC target: {target!r} ({expected})")


def check_timeout(seconds: float) -> None:
    """Raise ValueError unless ``seconds`` is a positive, finite number."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise ValueError(f"the timeout must be a number of seconds, got {seconds!r}")
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"the timeout must be a positive number of seconds, got {seconds!r}")


def check_version_choice(version: int | None, label: str | None) -> None:
    """Raise ValueError for a version and a label together, or a version that is not an int."""
    if version is not None and label is not None:
        raise ValueError("give a version or a label, not both")
    # Any integer goes to the server, which answers 0 or -1 with its own errors; 1.7 or "2"
    # would be a caller's mistake that int() would quietly turn into another version.
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise ValueError(f"a version is an integer, got {version!r}")
