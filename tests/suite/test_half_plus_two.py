"""TF Serving's ``half_plus_two`` over both transports: predict, classify, regress, metadata; and
what only gRPC has: multi-inference, a UNIX socket, message truncation, config reload.

One server for the module serves ``half_plus_two`` (TF Serving's test model, built by
tests/support/example_models.py) on its REST port, its gRPC port and a UNIX socket. The tests of
shared behaviours run over REST and over gRPC and assert the same outcome. Read-only except the
reload test, the last, which keeps ``half_plus_two`` in the configuration it sends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fashion.clients.grpc import GrpcServingClient
from fashion.testing.served import ServedModelServer, running_model_server
from tests.support.config_files import ModelEntry, model_config_text, write_model_config
from tests.support.example_models import write_half_plus_three_model, write_half_plus_two_model
from tests.support.sockets import short_socket_path
from tests.support.transports import Client, ClientPool, failure

pytestmark = pytest.mark.server

MODEL = "half_plus_two"
CLASSIFY = "tensorflow/serving/classify"
REGRESS = "tensorflow/serving/regress"
UNKNOWN_RANK = {"dim": [], "unknown_rank": True}
ROWS_OF_ONE = {
    "dim": [{"size": "-1", "name": ""}, {"size": "1", "name": ""}],
    "unknown_rank": False,
}


def _info(name: str, dtype: str, shape: dict[str, Any]) -> dict[str, Any]:
    return {"dtype": dtype, "tensor_shape": shape, "name": name}


def _signature(inputs: dict[str, Any], outputs: dict[str, Any], method: str) -> dict[str, Any]:
    return {"inputs": inputs, "outputs": outputs, "method_name": method, "defaults": {}}


EXAMPLES = {"inputs": _info("tf_example:0", "DT_STRING", UNKNOWN_RANK)}
X2 = {"inputs": _info("x2:0", "DT_FLOAT", ROWS_OF_ONE)}

#: The signatures write_half_plus_two_model writes, as both transports describe them.
SIGNATURES = {
    "serving_default": _signature(
        {"x": _info("x:0", "DT_FLOAT", ROWS_OF_ONE)},
        {"y": _info("y:0", "DT_FLOAT", ROWS_OF_ONE)},
        "tensorflow/serving/predict",
    ),
    "regress_x_to_y": _signature(
        EXAMPLES, {"outputs": _info("y:0", "DT_FLOAT", ROWS_OF_ONE)}, REGRESS
    ),
    "regress_x_to_y2": _signature(
        EXAMPLES, {"outputs": _info("y2:0", "DT_FLOAT", ROWS_OF_ONE)}, REGRESS
    ),
    "regress_x2_to_y3": _signature(
        X2, {"outputs": _info("y3:0", "DT_FLOAT", ROWS_OF_ONE)}, REGRESS
    ),
    "classify_x_to_y": _signature(
        EXAMPLES, {"scores": _info("y:0", "DT_FLOAT", ROWS_OF_ONE)}, CLASSIFY
    ),
    "classify_x2_to_y3": _signature(
        X2, {"scores": _info("y3:0", "DT_FLOAT", ROWS_OF_ONE)}, CLASSIFY
    ),
}


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Base paths of half_plus_two (served from the start) and half_plus_three (not yet)."""
    root = tmp_path_factory.mktemp("grpc-models")
    write_half_plus_two_model(root / "half_plus_two" / "123")
    write_half_plus_three_model(root / "half_plus_three" / "123")
    return {"half_plus_two": root / "half_plus_two", "half_plus_three": root / "half_plus_three"}


@pytest.fixture(scope="module")
def grpc_socket() -> Iterator[Path]:
    with short_socket_path() as path:
        yield path


@pytest.fixture(scope="module")
def server(
    xprocess: Any, model_server_binary: Any, models: dict[str, Path], grpc_socket: Path
) -> Iterator[ServedModelServer]:
    config = models["half_plus_two"].parent / "models.config"
    write_model_config(config, [ModelEntry("half_plus_two", models["half_plus_two"])])
    with running_model_server(
        xprocess,
        model_server_binary,
        "grpc-client-server",
        config_file=config,
        model_name="half_plus_two",
        extra_flags=[f"--grpc_socket_path={grpc_socket}"],
    ) as served:
        yield served


@pytest.fixture
def client(
    server: ServedModelServer, connect: Callable[[ServedModelServer, str], Client]
) -> Client:
    """``half_plus_two`` over the test's transport."""
    return connect(server, MODEL)


@pytest.fixture
def grpc_client(server: ServedModelServer, client_pool: ClientPool) -> GrpcServingClient:
    """``half_plus_two`` over gRPC (the module's channel), for what only gRPC has."""
    server.assert_alive()
    over_grpc = client_pool.client("grpc", server, MODEL)
    assert isinstance(over_grpc, GrpcServingClient)
    return over_grpc


@pytest.mark.parametrize(
    "instances",
    [[2.0], [2.0, 3.0, 4.0], [[2.0], [3.0]]],
    ids=["x=2", "batch-of-3", "batch-of-rows"],
)
def test_predict_gives_half_plus_two_of_every_value(client: Client, instances: list[Any]) -> None:
    served = client.predict(instances)
    assert isinstance(served, np.ndarray)
    assert served.dtype == np.float32
    np.testing.assert_array_equal(served, 0.5 * np.asarray(instances, np.float32) + 2)


def test_metadata_describes_the_six_signatures_of_the_model(client: Client) -> None:
    expected = {
        "model_spec": {"name": MODEL, "signature_name": "", "version": "123"},
        "metadata": {"signature_def": {"signature_def": SIGNATURES}},
    }
    assert client.metadata() == expected
    assert client.metadata(version=123) == expected


def test_classify_and_regress_give_half_plus_two_or_three_of_each_example(client: Client) -> None:
    examples = [{"x": 2.0}, {"x": 0.2}]
    # 2.1 as a float32, as it comes over both transports.
    two_point_one = float(np.float32(2.1))
    assert client.classify(examples, signature_name="classify_x_to_y") == [
        [("", 3.0)],
        [("", two_point_one)],
    ]
    assert client.regress(examples, signature_name="regress_x_to_y") == [3.0, two_point_one]
    assert client.regress(examples, signature_name="regress_x_to_y2", version=123) == [
        4.0,
        float(np.float32(3.1)),
    ]


@pytest.mark.parametrize("method", ["classify", "regress"])
def test_classify_or_regress_with_an_unknown_signature_is_400_no_signature_found(
    client: Client, method: str
) -> None:
    call = getattr(client, method)
    assert failure(lambda: call([{"x": 2.0}], signature_name="nope"), code="INVALID_ARGUMENT") == (
        400,
        "No signature was found with the name: nope",
    )


# gRPC only from here: REST has no MultiInference, no UNIX socket, no config reload, and sends
# a message whole where gRPC cuts it at 1024 bytes (grpc_status_util.cc).


def test_multi_inference_runs_regress_and_classify_in_one_request(
    grpc_client: GrpcServingClient,
) -> None:
    example = {"x": 2.0}
    assert grpc_client.multi_inference(
        [example], [("regress_x_to_y", "regress"), ("classify_x_to_y", "classify")]
    ) == [[3.0], [[("", 3.0)]]]


def test_a_unix_socket_target_answers_as_the_tcp_port_does(
    grpc_socket: Path, server: ServedModelServer, grpc_client: GrpcServingClient
) -> None:
    with GrpcServingClient(f"unix:{grpc_socket}", "half_plus_two") as over_socket:
        assert over_socket.predict([2.0]).tolist() == [3.0]
        assert over_socket.status() == grpc_client.status()


def test_a_message_over_1024_bytes_is_cut_over_grpc_and_whole_over_rest(
    server: ServedModelServer,
) -> None:
    model = "m" * 1100
    target = server.grpc_target
    with server.client(model) as rest, GrpcServingClient(target, model) as over_grpc:
        rest_error = failure(rest.status, code="NOT_FOUND")
        grpc_error = failure(over_grpc.status, code="NOT_FOUND")
    assert rest_error == (404, f"Could not find any versions of model {model}")
    assert grpc_error == (404, rest_error[1].encode()[:1024].decode() + "...TRUNCATED")


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
