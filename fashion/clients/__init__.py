"""Clients for TensorFlow Serving's two APIs, with one surface and one exception family.

- :class:`ServingClient` (:mod:`fashion.clients.rest`): the REST API, on ``requests``;
- :class:`GrpcServingClient` (:mod:`fashion.clients.grpc`): the gRPC API, on TF Serving's stubs;
- :class:`ServingError` and its subclasses (:mod:`fashion.clients.errors`): what either raises;
- :class:`VersionStatus` (:mod:`fashion.clients.version_status`): a version's state, as both
  report it.

Importing this package imports neither TensorFlow nor grpcio, so a REST-only caller (the CLI's
argument checks, the pytest plugin) stays cheap: ``GrpcServingClient``, whose messages live in
TensorFlow's package, is imported on first access.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fashion.clients.arguments import DEFAULT_TIMEOUT
from fashion.clients.errors import (
    ServingConnectionError,
    ServingError,
    ServingHTTPError,
    ServingProtocolError,
    ServingRPCError,
    ServingTimeoutError,
)
from fashion.clients.rest import ServingClient
from fashion.clients.version_status import VersionStatus

if TYPE_CHECKING:
    from fashion.clients.grpc import GrpcServingClient

__all__ = [
    "DEFAULT_TIMEOUT",
    "GrpcServingClient",
    "ServingClient",
    "ServingConnectionError",
    "ServingError",
    "ServingHTTPError",
    "ServingProtocolError",
    "ServingRPCError",
    "ServingTimeoutError",
    "VersionStatus",
]


def __getattr__(name: str) -> Any:
    """``GrpcServingClient`` on first access: importing it imports TensorFlow."""
    if name == "GrpcServingClient":
        from fashion.clients.grpc import GrpcServingClient

        return GrpcServingClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
