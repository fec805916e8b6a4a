"""The clients' scripted servers: pytest-httpserver's for the REST client (``client``), and
the scripted gRPC server of the gRPC client's tests (``tests.support.scripted_grpc``), whose
test files define their own gRPC ``client``.

``tests.support.scripted_grpc`` is imported inside the fixtures: the module imports TensorFlow,
which the other pipeline tests' collection need not wait for.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from pytest_httpserver import HTTPServer

from fashion.clients import ServingClient

if TYPE_CHECKING:
    from tests.support.scripted_grpc import ScriptedServing

#: The model the REST ``client`` asks for: the space shows how its URLs are quoted.
REST_MODEL = "fashion model"


@pytest.fixture
def client(httpserver: HTTPServer) -> Iterator[ServingClient]:
    """The REST client of :data:`REST_MODEL` on the test's scripted HTTP server (2 s timeout)."""
    with ServingClient(httpserver.url_for("/"), REST_MODEL, timeout=2.0) as instance:
        yield instance


@pytest.fixture(scope="module")
def scripted_server() -> Iterator[tuple[ScriptedServing, int]]:
    """One in-process gRPC server for the test module, and its port."""
    from tests.support.scripted_grpc import ScriptedServing, serving

    script = ScriptedServing()
    with serving(script) as port:
        yield script, port


@pytest.fixture
def script(scripted_server: tuple[ScriptedServing, int]) -> ScriptedServing:
    """The scripted server, emptied for this test."""
    scripted_server[0].answers.clear()
    scripted_server[0].received.clear()
    return scripted_server[0]
