"""The gRPC client against a model server process: the same answers and errors as REST.

One server for the module serves ``half_plus_two`` (TF Serving's test model, built by
tests/support/example_models.py) on a TCP port and a UNIX socket; each test asks it the same
thing over both transports and compares. Read-only except the reload test, which keeps
``half_plus_two`` in the configuration it sends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fashion.client import ServingClient, ServingError
from fashion.grpc_client import GrpcServingClient, ServingRPCError
from fashion.harness import ServedModelServer, running_model_server
from tests.support.config_files import ModelEntry, model_config_text, write_model_config
from tests.support.example_models import write_half_plus_three_model, write_half_plus_two_model

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Base paths of half_plus_two (served from the start) and half_plus_three (not yet)."""
    root = tmp_path_factory.mktemp("grpc-models")
    write_half_plus_two_model(root / "half_plus_two" / "123")
    write_half_plus_three_model(root / "half_plus_three" / "123")
    return {"half_plus_two": root / "half_plus_two", "half_plus_three": root / "half_plus_three"}


@pytest.fixture(scope="module")
def server(
    xprocess: Any, model_server_binary: Any, models: dict[str, Path]
) -> Iterator[ServedModelServer]:
    config = models["half_plus_two"].parent / "models.config"
    write_model_config(config, [ModelEntry("half_plus_two", models["half_plus_two"])])
    socket = models["half_plus_two"].parent / "grpc.sock"
    with running_model_server(
        xprocess,
        model_server_binary,
        "grpc-client-server",
        config_file=config,
        model_name="half_plus_two",
        extra_flags=[f"--grpc_socket_path={socket}"],
    ) as served:
        yield served


@pytest.fixture
def rest(server: ServedModelServer) -> Iterator[ServingClient]:
    server.assert_alive()
    with server.client("half_plus_two") as client:
        yield client


@pytest.fixture
def grpc_client(server: ServedModelServer) -> Iterator[GrpcServingClient]:
    with GrpcServingClient(server.grpc_target, "half_plus_two") as client:
        yield client


@pytest.mark.parametrize(
    "instances",
    [[2.0], [2.0, 3.0, 4.0], [[2.0], [3.0]]],
    ids=["x=2", "batch-of-3", "batch-of-rows"],
)
def test_predict_over_grpc_equals_predict_over_rest(
    rest: ServingClient, grpc_client: GrpcServingClient, instances: list[Any]
) -> None:
    over_grpc = grpc_client.predict(instances)
    over_rest = rest.predict(instances)
    assert isinstance(over_grpc, np.ndarray)
    assert over_grpc.dtype == over_rest.dtype == np.float32
    np.testing.assert_array_equal(over_grpc, over_rest)
    np.testing.assert_array_equal(over_grpc, 0.5 * np.asarray(instances, np.float32) + 2)


def test_a_unix_socket_target_answers_as_the_tcp_port_does(
    models: dict[str, Path], server: ServedModelServer, grpc_client: GrpcServingClient
) -> None:
    socket = models["half_plus_two"].parent / "grpc.sock"
    with GrpcServingClient(f"unix:{socket}", "half_plus_two") as over_socket:
        assert over_socket.predict([2.0]).tolist() == [3.0]
        assert over_socket.status() == grpc_client.status()


def test_status_over_grpc_equals_status_over_rest(
    rest: ServingClient, grpc_client: GrpcServingClient
) -> None:
    assert grpc_client.status() == rest.status()
    assert grpc_client.status(123) == rest.status(123)
    assert [(s.version, s.state, s.error_code) for s in grpc_client.status()] == [
        (123, "AVAILABLE", "OK")
    ]


def test_metadata_over_grpc_equals_metadata_over_rest(
    rest: ServingClient, grpc_client: GrpcServingClient
) -> None:
    over_grpc = grpc_client.metadata()
    assert over_grpc == rest.metadata()
    assert over_grpc["model_spec"] == {
        "name": "half_plus_two", "signature_name": "", "version": "123"
    }  # fmt: skip
    signatures = over_grpc["metadata"]["signature_def"]["signature_def"]
    assert sorted(signatures) == [
        "classify_x2_to_y3", "classify_x_to_y", "regress_x2_to_y3", "regress_x_to_y",
        "regress_x_to_y2", "serving_default",
    ]  # fmt: skip
    assert grpc_client.metadata(version=123) == rest.metadata(version=123)


def _failure(call: Callable[[], Any]) -> ServingError:
    with pytest.raises(ServingError) as info:
        call()
    return info.value


@pytest.mark.parametrize(
    ("model", "call", "error"),
    [
        ("nope", lambda c: c.predict([2.0]), "Servable not found for request: Latest(nope)"),
        ("nope", lambda c: c.status(), "Could not find any versions of model nope"),
        (
            "half_plus_two",
            lambda c: c.predict([2.0], version=9),
            "Servable not found for request: Specific(half_plus_two, 9)",
        ),
        (
            "half_plus_two",
            lambda c: c.metadata(version=9),
            "Servable not found for request: Specific(half_plus_two, 9)",
        ),
        ("half_plus_two", lambda c: c.status(9), "Could not find version 9 of model half_plus_two"),
    ],
    ids=["predict-model", "status-model", "predict-version", "metadata-version", "status-version"],
)
def test_an_unknown_model_or_version_is_404_not_found_with_rests_text(
    server: ServedModelServer, model: str, call: Callable[[Any], Any], error: str
) -> None:
    target = server.grpc_target
    with server.client(model) as rest, GrpcServingClient(target, model) as grpc_client:
        over_rest, over_grpc = _failure(lambda: call(rest)), _failure(lambda: call(grpc_client))
    assert isinstance(over_grpc, ServingRPCError)
    assert over_grpc.code == "NOT_FOUND"
    assert (over_grpc.status_code, over_grpc.error) == (over_rest.status_code, over_rest.error)
    assert (over_grpc.status_code, over_grpc.error) == (404, error)


def test_an_unknown_label_is_400_invalid_argument_with_rests_text(
    rest: ServingClient, grpc_client: GrpcServingClient
) -> None:
    over_rest = _failure(lambda: rest.predict([2.0], label="nope"))
    over_grpc = _failure(lambda: grpc_client.predict([2.0], label="nope"))
    assert isinstance(over_grpc, ServingRPCError)
    assert over_grpc.code == "INVALID_ARGUMENT"
    assert (over_grpc.status_code, over_grpc.error) == (over_rest.status_code, over_rest.error)
    assert over_grpc.error == "Unrecognized servable version label: nope"


def test_a_message_over_1024_bytes_is_cut_over_grpc_and_whole_over_rest(
    server: ServedModelServer,
) -> None:
    model = "m" * 1100
    target = server.grpc_target
    with server.client(model) as rest, GrpcServingClient(target, model) as grpc_client:
        over_rest, over_grpc = _failure(rest.status), _failure(grpc_client.status)
    assert over_rest.error == f"Could not find any versions of model {model}"
    assert over_grpc.error == over_rest.error.encode()[:1024].decode() + "...TRUNCATED"
    assert over_grpc.status_code == over_rest.status_code == 404


def test_classify_regress_and_multi_inference_on_half_plus_two_give_three_for_two(
    grpc_client: GrpcServingClient,
) -> None:
    example = {"x": 2.0}
    assert grpc_client.classify([example], signature_name="classify_x_to_y") == [[("", 3.0)]]
    assert grpc_client.regress([example], signature_name="regress_x_to_y") == [3.0]
    assert grpc_client.multi_inference(
        [example], [("regress_x_to_y", "regress"), ("classify_x_to_y", "classify")]
    ) == [[3.0], [[("", 3.0)]]]


def test_reload_config_over_grpc_adds_a_model(
    server: ServedModelServer, models: dict[str, Path], grpc_client: GrpcServingClient
) -> None:
    if server.binary.kind == "docker":
        pytest.skip("the config names host paths; a container sees only its mounts, renamed")
    grpc_client.reload_config(
        model_config_text(ModelEntry(name, path) for name, path in models.items())
    )
    with GrpcServingClient(server.grpc_target, "half_plus_three") as added:
        assert added.wait_until_available(123, timeout=60).state == "AVAILABLE"
        assert added.predict([2.0]).tolist() == [4.0]
    assert grpc_client.predict([2.0]).tolist() == [3.0]  # still served
