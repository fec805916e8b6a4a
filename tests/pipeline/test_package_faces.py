"""The packages' faces: what importing them costs, and the gRPC client handed out lazily.

The CLI's argument checks, the pytest plugin (loaded at every pytest start) and ``fashion check``
import the REST client, the server launcher and the served-server handle; TensorFlow and grpcio
must come only with the gRPC client, or every one of them pays seconds for nothing. The import
linter reads a lazy import like any other, so this is asserted here, in a fresh interpreter.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

import fashion.clients

_HEAVY = ("grpc", "keras", "tensorflow", "tensorflow_serving")


@pytest.mark.parametrize(
    "modules",
    [
        "fashion.clients, fashion.clients.rest",
        "fashion.servers",
        "fashion.testing",
        "fashion.cli",
        "fashion.check",
    ],
)
def test_importing_imports_neither_tensorflow_nor_grpcio(modules: str) -> None:
    code = f"import sys, {modules}; print(sorted(m for m in {_HEAVY!r} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]", result.stderr


def test_the_grpc_client_is_handed_out_on_first_access() -> None:
    from fashion.clients.grpc import GrpcServingClient

    assert fashion.clients.GrpcServingClient is GrpcServingClient
    assert "GrpcServingClient" in fashion.clients.__all__


def test_a_name_the_package_does_not_have_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'ServingClientt'"):
        _ = fashion.clients.ServingClientt  # type: ignore[attr-defined]


def test_every_public_name_resolves_including_each_error_errors_py_exports() -> None:
    # A static __all__ (what ruff and IDEs read) repeats errors.py's list: this keeps them equal.
    import fashion.clients.errors

    assert set(fashion.clients.errors.__all__) <= set(fashion.clients.__all__)
    for name in fashion.clients.errors.__all__:
        assert getattr(fashion.clients, name) is getattr(fashion.clients.errors, name)
    for name in fashion.clients.__all__:
        assert hasattr(fashion.clients, name), name
