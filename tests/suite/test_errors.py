"""Errors: exact texts and statuses, always ``{"error": <string>}``, and serving goes on."""

from __future__ import annotations

import re

import numpy as np
import pytest
import requests

from fashion.preprocess import scale_images
from tests.support import MODEL_NAME, REQUEST_TIMEOUT

pytestmark = pytest.mark.server


def _post(server, path: str, body: bytes | str) -> requests.Response:
    return requests.post(f"{server.url}{path}", data=body, timeout=REQUEST_TIMEOUT)


def _error_of(response: requests.Response) -> str:
    body = response.json()
    assert list(body) == ["error"], body
    assert isinstance(body["error"], str)
    assert response.headers["Content-Type"] == "application/json"
    return body["error"]


@pytest.fixture
def one_image_body(synthetic_dataset) -> str:
    import json

    return json.dumps({"instances": scale_images(synthetic_dataset.x_test[:1]).tolist()})


def test_version_that_does_not_exist_is_404_servable_not_found(
    fashion_server, one_image_body: str
) -> None:
    response = _post(fashion_server, f"/v1/models/{MODEL_NAME}/versions/3:predict", one_image_body)
    assert response.status_code == 404
    assert _error_of(response) == f"Servable not found for request: Specific({MODEL_NAME}, 3)"


def test_unknown_model_is_404_servable_not_found_for_latest(
    fashion_server, one_image_body: str
) -> None:
    response = _post(fashion_server, "/v1/models/no_such_model:predict", one_image_body)
    assert response.status_code == 404
    assert _error_of(response) == "Servable not found for request: Latest(no_such_model)"


def test_status_of_unknown_model_is_404_could_not_find_any_versions(fashion_server) -> None:
    response = requests.get(
        f"{fashion_server.url}/v1/models/no_such_model", timeout=REQUEST_TIMEOUT
    )
    assert response.status_code == 404
    assert _error_of(response) == "Could not find any versions of model no_such_model"


def test_status_of_unknown_version_is_404_could_not_find_version(fashion_server) -> None:
    response = requests.get(
        f"{fashion_server.url}/v1/models/{MODEL_NAME}/versions/7", timeout=REQUEST_TIMEOUT
    )
    assert response.status_code == 404
    assert _error_of(response) == f"Could not find version 7 of model {MODEL_NAME}"


def test_malformed_json_is_400_parse_error_with_offset(fashion_server) -> None:
    response = _post(fashion_server, f"/v1/models/{MODEL_NAME}:predict", "instances = [1, 2]")
    assert response.status_code == 400
    assert _error_of(response) == "JSON Parse error: Invalid value. at offset: 0"


def test_empty_body_is_400_document_is_empty(fashion_server) -> None:
    response = _post(fashion_server, f"/v1/models/{MODEL_NAME}:predict", "")
    assert response.status_code == 400
    assert _error_of(response) == "JSON Parse error: The document is empty"


def test_wrong_image_shape_is_400(fashion_server) -> None:
    body = '{"instances": [[[0.5, 0.5], [0.5, 0.5]]]}'
    response = _post(fashion_server, f"/v1/models/{MODEL_NAME}:predict", body)
    assert response.status_code == 400
    # TensorFlow's own wording, which differs between the C++ runtime ("input must be
    # 4-dimensional[1,2,2]") and Python's feed check; both name the shape that was sent.
    assert re.search(r"1,\s*2,\s*2", _error_of(response)), _error_of(response)


def test_ragged_instances_are_400_with_the_element_that_differs(fashion_server) -> None:
    image = np.zeros((28, 28, 1)).tolist()
    body = {"instances": [image, image[:27]]}
    response = requests.post(
        f"{fashion_server.url}/v1/models/{MODEL_NAME}:predict", json=body, timeout=REQUEST_TIMEOUT
    )
    assert response.status_code == 400
    assert _error_of(response) == (
        "Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: "
        "Expecting tensor size: 784 but got: 756"
    )


def test_unknown_signature_is_400_not_found_in_signature_def(
    fashion_server, one_image_body: str
) -> None:
    body = one_image_body.replace('{"instances"', '{"signature_name": "nope", "instances"')
    response = _post(fashion_server, f"/v1/models/{MODEL_NAME}:predict", body)
    assert response.status_code == 400
    assert _error_of(response) == 'Serving signature name: "nope" not found in signature def'


def test_strings_for_a_float_input_are_400_type_error(fashion_server) -> None:
    response = _post(
        fashion_server, f"/v1/models/{MODEL_NAME}:predict", '{"instances": ["x", "y"]}'
    )
    assert response.status_code == 400
    assert _error_of(response) == (
        "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: "
        'JSON Value: "x" Type: String is not of expected type: float'
    )


def test_error_body_bytes_are_the_pretty_printed_object(fashion_server) -> None:
    response = _post(fashion_server, "/v1/models/x:predict", '{"instances": [1]}')
    assert response.status_code == 404
    assert response.content == (b'{\n    "error": "Servable not found for request: Latest(x)"\n}')


def test_server_keeps_serving_after_errors(fashion_client, synthetic_dataset) -> None:
    for body in ("", "{", "[]", '{"instances": []}', '{"instances": [[1], [[1]]]}'):
        response = requests.post(
            f"{fashion_client.base_url}/v1/models/{MODEL_NAME}:predict",
            data=body,
            timeout=REQUEST_TIMEOUT,
        )
        assert response.status_code == 400, (body, response.status_code, response.text)
        assert isinstance(_error_of(response), str), body
    images = scale_images(synthetic_dataset.x_test[:2])
    served = fashion_client.predict(images)
    assert served.shape == (2, 10)
    np.testing.assert_allclose(served.sum(axis=1), 1.0, rtol=1e-5)
