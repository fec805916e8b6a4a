"""The suite's transports: a behaviour REST and gRPC share runs once over each, on one server.

A test asks for ``transport_client`` (the shared ``fashion_model`` server) or ``connect`` (any
server of its module) and runs twice, ``[rest]`` and ``[grpc]``; the same spawned server answers
both (REST on its REST port, gRPC on ``--port``), so no server is started for gRPC alone.
Behaviours only one transport has (REST's JSON formats and byte layouts, gRPC's
multi-inference, config reload and message truncation) keep their own tests, which say why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from fashion.testing.served import ServedModelServer
from tests.support import MODEL_NAME
from tests.support.transports import TRANSPORTS, Client, ClientPool, Transport


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> Transport:
    """Each test that uses it runs over REST, then over gRPC (function scope keeps file order)."""
    return request.param


@pytest.fixture(scope="module")
def client_pool() -> Iterator[ClientPool]:
    """The module's clients: one REST session and one gRPC channel per server and model."""
    pool = ClientPool()
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture
def connect(
    transport: Transport, client_pool: ClientPool
) -> Callable[[ServedModelServer, str], Client]:
    """``connect(server, model_name)``: that model's client over the test's transport.

    Fails at once, with the server's log, if the server has died.
    """

    def connect(server: ServedModelServer, model_name: str) -> Client:
        server.assert_alive()
        return client_pool.client(transport, server, model_name)

    return connect


@pytest.fixture
def transport_client(
    fashion_server: ServedModelServer, connect: Callable[[ServedModelServer, str], Client]
) -> Client:
    """``fashion_model`` on the shared server, over the test's transport."""
    return connect(fashion_server, MODEL_NAME)
