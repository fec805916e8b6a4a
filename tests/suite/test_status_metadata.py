"""Model status and metadata of the served fashion model."""

from __future__ import annotations

import pytest
import requests

from tests.support import MODEL_NAME, REQUEST_TIMEOUT

pytestmark = pytest.mark.server


def test_status_lists_version_1_available_with_ok_status(fashion_server) -> None:
    response = requests.get(f"{fashion_server.url}/v1/models/{MODEL_NAME}", timeout=REQUEST_TIMEOUT)
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


def test_status_of_one_version_has_the_same_entry(fashion_server) -> None:
    response = requests.get(
        f"{fashion_server.url}/v1/models/{MODEL_NAME}/versions/1", timeout=REQUEST_TIMEOUT
    )
    assert response.status_code == 200
    assert response.json()["model_version_status"] == [
        {"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
    ]


def _dims(*sizes: int) -> dict:
    return {"dim": [{"size": str(size), "name": ""} for size in sizes], "unknown_rank": False}


def test_metadata_describes_the_images_to_probabilities_signature(fashion_server) -> None:
    response = requests.get(
        f"{fashion_server.url}/v1/models/{MODEL_NAME}/metadata", timeout=REQUEST_TIMEOUT
    )
    assert response.status_code == 200
    body = response.json()
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


def test_metadata_of_version_1_names_version_1(fashion_server) -> None:
    response = requests.get(
        f"{fashion_server.url}/v1/models/{MODEL_NAME}/versions/1/metadata", timeout=REQUEST_TIMEOUT
    )
    assert response.status_code == 200
    assert response.json()["model_spec"]["version"] == "1"
