"""Model status and metadata of the served fashion model, over REST and gRPC alike.

The status JSON's layout (int64 versions as strings, the nested ``status``) is REST's own and
has a REST-only test at the end; gRPC answers a ``GetModelStatusResponse`` message.
"""

from __future__ import annotations

import pytest
import requests

from fashion.clients import VersionStatus
from tests.support import MODEL_NAME, REQUEST_TIMEOUT

pytestmark = pytest.mark.server

VERSION_1_AVAILABLE = VersionStatus(version=1, state="AVAILABLE", error_code="OK", error_message="")


def test_status_lists_version_1_available_with_ok_status(transport_client) -> None:
    assert transport_client.status() == [VERSION_1_AVAILABLE]


def test_status_of_one_version_has_the_same_entry(transport_client) -> None:
    assert transport_client.status(1) == [VERSION_1_AVAILABLE]


def _dims(*sizes: int) -> dict:
    return {"dim": [{"size": str(size), "name": ""} for size in sizes], "unknown_rank": False}


def test_metadata_describes_the_images_to_probabilities_signature(transport_client) -> None:
    body = transport_client.metadata()
    assert body["model_spec"] == {"name": MODEL_NAME, "signature_name": "", "version": "1"}
    signature = body["metadata"]["signature_def"]["signature_def"]["serving_default"]
    assert signature["method_name"] == "tensorflow/serving/predict"
    (input_name,) = signature["inputs"]
    (output_name,) = signature["outputs"]
    assert input_name == "images"
    assert output_name == "probabilities"
    assert signature["inputs"]["images"]["dtype"] == "DT_FLOAT"
    assert signature["inputs"]["images"]["tensor_shape"] == _dims(-1, 28, 28, 1)
    assert signature["outputs"]["probabilities"]["dtype"] == "DT_FLOAT"
    assert signature["outputs"]["probabilities"]["tensor_shape"] == _dims(-1, 10)


def test_metadata_of_version_1_names_version_1(transport_client) -> None:
    assert transport_client.metadata(version=1)["model_spec"]["version"] == "1"


def test_the_served_server_hands_out_a_client_for_each_transport(fashion_server) -> None:
    with (
        fashion_server.client(MODEL_NAME, timeout=REQUEST_TIMEOUT) as rest,
        fashion_server.grpc_client(MODEL_NAME, timeout=REQUEST_TIMEOUT) as over_grpc,
    ):
        assert (over_grpc.target, over_grpc.model_name) == (fashion_server.grpc_target, MODEL_NAME)
        assert over_grpc.timeout == rest.timeout == REQUEST_TIMEOUT
        assert over_grpc.status() == rest.status() == [VERSION_1_AVAILABLE]


# REST only: the JSON the status routes answer, byte layout aside (tests/conformance has that).


@pytest.mark.parametrize("route", ["", "/versions/1"], ids=["model", "version-1"])
def test_status_over_rest_is_the_model_version_status_json(fashion_server, route: str) -> None:
    response = requests.get(
        f"{fashion_server.url}/v1/models/{MODEL_NAME}{route}", timeout=REQUEST_TIMEOUT
    )
    assert response.status_code == 200
    assert response.json() == {
        "model_version_status": [
            {
                "version": "1",
                "state": "AVAILABLE",
                "status": {"error_code": "OK", "error_message": ""},
            }
        ]
    }
