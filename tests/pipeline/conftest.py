"""The scripted gRPC server of the gRPC client's tests (``tests.support.scripted_grpc``).

Imported inside the fixtures: the module imports TensorFlow, which the other pipeline tests'
collection need not wait for.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.support.scripted_grpc import ScriptedServing


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
