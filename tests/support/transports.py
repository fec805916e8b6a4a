"""The serving suite's two transports: a REST or a gRPC client for a spawned server, one interface.

TF Serving answers the same API over REST (``--rest_api_port``) and gRPC (``--port``) from one
process, so the suite runs each behaviour the two share over both, against the same server, and
asserts the same outcome, errors included: the gRPC client raises a failed RPC with the HTTP
status REST answers for its code and the same text (``fashion.clients.grpc``).

- :data:`TRANSPORTS`: the names the suite parametrizes by;
- :class:`ClientPool`: a client per transport, server and model, opened on first use and closed
  together (the suite keeps one pool per test module, so a gRPC channel connects once per module);
- :func:`failure`: the ``(status_code, error)`` a server's refusal gives, over either transport;
- :func:`transport_port`: the port a transport reaches the server on.

Importing this module imports neither TensorFlow nor grpcio: a gRPC client (which needs TF
Serving's protos, and so TensorFlow) is imported when the first one is opened, and a pytest run
of ``tests/suite`` alone loads the suite's conftest before the root one's ``pytest_configure``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, TypeAlias

import pytest

from fashion.clients import ServingClient, ServingError, ServingHTTPError, ServingRPCError
from fashion.testing.served import ServedModelServer
from tests.support import REQUEST_TIMEOUT

if TYPE_CHECKING:
    from fashion.clients.grpc import GrpcServingClient

__all__ = [
    "TRANSPORTS",
    "Client",
    "ClientPool",
    "Transport",
    "failure",
    "transport_port",
]

Transport: TypeAlias = Literal["rest", "grpc"]

#: The transports every shared behaviour runs over, in the order the test ids show them.
TRANSPORTS: tuple[Transport, ...] = ("rest", "grpc")

Client: TypeAlias = "ServingClient | GrpcServingClient"


def transport_port(server: ServedModelServer, transport: Transport) -> int:
    """The port ``transport`` reaches ``server`` on: ``--rest_api_port`` or ``--port``."""
    return server.rest_port if transport == "rest" else server.grpc_port


class ClientPool:
    """Clients by transport, server and model, opened on first use and closed together.

    The suite keeps one per test module: a gRPC channel connects once per module instead of once
    per test. A shared client carries nothing from one test to the next but connections and the
    gRPC client's cache of signatures (read to name a lone input; see its ``predict``).
    """

    def __init__(self) -> None:
        self._clients: dict[tuple[Transport, str, str], Client] = {}

    def client(self, transport: Transport, server: ServedModelServer, model_name: str) -> Client:
        """The client for ``model_name`` on ``server`` over ``transport``; one per triple."""
        address = server.url if transport == "rest" else server.grpc_target
        key = (transport, address, model_name)
        if key not in self._clients:
            self._clients[key] = _open(transport, address, model_name)
        return self._clients[key]

    def close(self) -> None:
        """Close every client (REST sessions, gRPC channels)."""
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()


def _open(transport: Transport, address: str, model_name: str) -> Client:
    if transport == "rest":
        return ServingClient(address, model_name, timeout=REQUEST_TIMEOUT)
    from fashion.clients.grpc import GrpcServingClient

    return GrpcServingClient(address, model_name, timeout=REQUEST_TIMEOUT)


def failure(call: Callable[[], object], *, code: str) -> tuple[int | None, str | None]:
    """The ``(status_code, error)`` of the server's refusal of ``call``, over either transport.

    The test fails unless the server answered with an error: REST's non-2xx status, or a failed
    RPC whose TF status code (gRPC sends it as is) is ``code``. A lost connection or a timeout
    is no answer and fails too.

    Args:
        call: the client call that must be refused.
        code: TF's status code name the gRPC answer must carry, e.g. ``"NOT_FOUND"``; REST's
            answer carries only the HTTP status it maps to.

    Returns:
        The HTTP status (the one REST answers for the gRPC code) and the server's text.
    """
    with pytest.raises(ServingError) as info:
        call()
    refusal = info.value
    if not isinstance(refusal, ServingHTTPError):
        assert isinstance(refusal, ServingRPCError), f"not an answer from the server: {refusal!r}"
        assert refusal.code == code, refusal
    return refusal.status_code, refusal.error
