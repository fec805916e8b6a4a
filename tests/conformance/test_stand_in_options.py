"""The stand-in's own options (README, "Stand-in vs real server"): the request-body limit and the
REST bind address. The real binary has neither flag, so these tests always run the stand-in,
whichever server the suite was given."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests

from fashion.servers import resolve_model_server
from fashion.testing.served import ServedModelServer, running_model_server
from tests.support import REQUEST_TIMEOUT
from tests.support.savedmodels import write_elementwise_affine_model

pytestmark = pytest.mark.server

LIMIT = 4096


@pytest.fixture(scope="module")
def model_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("stand_in_options") / "m"
    write_elementwise_affine_model(base / "1", 0.5, 2.0)
    return base


@pytest.fixture(scope="module")
def limited(xprocess: Any, model_base: Path) -> Iterator[ServedModelServer]:
    with running_model_server(
        xprocess, resolve_model_server("stand-in"), "stand-in-limited", model_name="m",
        base_path=model_base, extra_flags=[f"--rest_api_max_body_bytes={LIMIT}"],
    ) as server:  # fmt: skip
        yield server


def _body_of_size(size: int) -> bytes:
    """A valid predict body of exactly ``size`` bytes (``size`` >= 20)."""
    head, tail = b'{"instances": [1.0', b"]}"
    filler = size - len(head) - len(tail)
    body = head + b",1" * (filler // 2) + b" " * (filler % 2) + tail
    assert len(body) == size
    return body


def _predict(server: ServedModelServer, body: bytes) -> requests.Response:
    return requests.post(f"{server.url}/v1/models/m:predict", data=body, timeout=REQUEST_TIMEOUT)


def test_a_body_at_the_limit_is_served(limited: ServedModelServer) -> None:
    response = _predict(limited, _body_of_size(LIMIT))
    assert response.status_code == 200, response.text
    assert response.json()["predictions"][:2] == [2.5, 2.5]


def test_a_body_over_the_limit_is_413_with_an_error_object_and_serving_goes_on(
    limited: ServedModelServer,
) -> None:
    response = _predict(limited, _body_of_size(LIMIT + 1))
    assert response.status_code == 413
    error = json.loads(response.content)
    assert list(error) == ["error"]
    assert str(LIMIT) in error["error"]
    assert _predict(limited, b'{"instances": [2.0]}').json() == {"predictions": [3.0]}


def test_the_limit_counts_the_bytes_received_not_the_gzip_body_inflated(
    limited: ServedModelServer,
) -> None:
    """Inflating is bounded by TF Serving's own 100 MiB gunzip limit, not by this flag."""
    import gzip

    inflated = _body_of_size(LIMIT * 4)
    packed = gzip.compress(inflated)
    assert len(packed) < LIMIT
    response = requests.post(
        f"{limited.url}/v1/models/m:predict", data=packed, timeout=REQUEST_TIMEOUT,
        headers={"Content-Encoding": "gzip"},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    assert len(response.json()["predictions"]) == inflated.count(b",") + 1


def _listening_addresses(pid: int, port: int) -> set[str]:
    return {
        connection.laddr.ip
        for connection in psutil.Process(pid).net_connections("tcp")
        if connection.status == psutil.CONN_LISTEN and connection.laddr.port == port
    }


def test_the_rest_port_is_bound_to_loopback_by_default(limited: ServedModelServer) -> None:
    assert _listening_addresses(limited.pid, limited.rest_port) == {"127.0.0.1"}


def test_rest_api_bind_address_chooses_the_interface(xprocess: Any, model_base: Path) -> None:
    with running_model_server(
        xprocess, resolve_model_server("stand-in"), "stand-in-all-interfaces", model_name="m",
        base_path=model_base, extra_flags=["--rest_api_bind_address=0.0.0.0"],
    ) as server:  # fmt: skip
        assert _listening_addresses(server.pid, server.rest_port) == {"0.0.0.0"}
        assert _predict(server, b'{"instances": [2.0]}').json() == {"predictions": [3.0]}
