"""Errors: exact texts and statuses over REST and gRPC alike, ``{"error": <string>}`` bodies over
REST, and serving goes on.

A refusal over gRPC carries TF's status code, and the client gives the HTTP status REST answers
for it, so both transports must give the same ``(status_code, error)``. The errors of REST's
JSON (parsing, ragged and mistyped values) and its body layout have REST-only tests.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import requests

from fashion.export import INPUT_NAME
from fashion.preprocess import scale_images
from tests.support import MODEL_NAME, REQUEST_TIMEOUT
from tests.support.transports import failure

pytestmark = pytest.mark.server


def _post(server, path: str, body: bytes | str) -> requests.Response:
    return requests.post(f"{server.url}{path}", data=body, timeout=REQUEST_TIMEOUT)


def _error_of(response: requests.Response) -> str:
    body = response.json()
    assert list(body) == ["error"], body
    assert isinstance(body["error"], str)
    assert response.headers["Content-Type"] == "application/json"
    return body["error"]


#: One "image" of shape [2, 2]: the model takes [28, 28, 1].
WRONG_SHAPE_BODY = '{"instances": [[[0.5, 0.5], [0.5, 0.5]]]}'


@pytest.fixture
def one_image(synthetic_dataset) -> np.ndarray:
    return scale_images(synthetic_dataset.x_test[:1])


@pytest.fixture
def one_image_body(one_image: np.ndarray) -> str:
    return json.dumps({"instances": one_image.tolist()})


def test_version_that_does_not_exist_is_404_servable_not_found(
    transport_client, one_image: np.ndarray
) -> None:
    assert failure(lambda: transport_client.predict(one_image, version=3), code="NOT_FOUND") == (
        404,
        f"Servable not found for request: Specific({MODEL_NAME}, 3)",
    )


def test_metadata_of_a_version_that_does_not_exist_is_404_servable_not_found(
    transport_client,
) -> None:
    assert failure(lambda: transport_client.metadata(version=9), code="NOT_FOUND") == (
        404,
        f"Servable not found for request: Specific({MODEL_NAME}, 9)",
    )


def test_unknown_model_is_404_servable_not_found_for_latest(
    fashion_server, connect, one_image: np.ndarray
) -> None:
    client = connect(fashion_server, "no_such_model")
    assert failure(lambda: client.predict(one_image), code="NOT_FOUND") == (
        404,
        "Servable not found for request: Latest(no_such_model)",
    )


def test_status_of_unknown_model_is_404_could_not_find_any_versions(
    fashion_server, connect
) -> None:
    client = connect(fashion_server, "no_such_model")
    assert failure(client.status, code="NOT_FOUND") == (
        404,
        "Could not find any versions of model no_such_model",
    )


def test_status_of_unknown_version_is_404_could_not_find_version(transport_client) -> None:
    assert failure(lambda: transport_client.status(7), code="NOT_FOUND") == (
        404,
        f"Could not find version 7 of model {MODEL_NAME}",
    )


def test_wrong_image_shape_is_400(transport_client) -> None:
    status, error = failure(
        lambda: transport_client.predict(np.full((1, 2, 2), 0.5, np.float32)),
        code="INVALID_ARGUMENT",
    )
    assert status == 400
    # TensorFlow's own wording, which differs between the C++ runtime ("input must be
    # 4-dimensional[1,2,2]") and Python's feed check; both name the shape that was sent.
    assert re.search(r"1,\s*2,\s*2", error or ""), error


def test_an_input_the_signature_lacks_is_400_naming_the_missing_input(
    transport_client, transport, one_image: np.ndarray
) -> None:
    """One input under a name the signature does not have. REST's JSON decoding refuses it
    first, naming the missing input (``json_tensor.cc``); over gRPC the run's input mapping
    does (``predict_util.cc``), and the request's protobuf map must not answer an empty tensor
    for the missing alias."""
    inputs = {"nope": one_image}
    if transport == "rest":
        expected = r"Missing named input: (\w+) in 'inputs' object\."
        call = lambda: transport_client.predict(inputs, columnar=True)  # noqa: E731
    else:
        expected = (
            r"Signature input alias: (\w+)\(feed name: [^)]+\) not found in request and no "
            r"default value provided\. Inputs expected to be in the request \{nope\}, or "
            r"default input alias set: "
        )
        call = lambda: transport_client.predict(inputs)  # noqa: E731
    status, error = failure(call, code="INVALID_ARGUMENT")
    assert status == 400
    match = re.fullmatch(expected, error or "")
    assert match, error
    assert match[1] == INPUT_NAME, error


# REST only from here. The layout of an error body is REST's (gRPC sends a status and a text).
# A signature that does not exist is refused by REST's own look-up first, INVALID_ARGUMENT
# 'Serving signature name: "nope" not found in signature def' (http_rest_api_handler.cc), and
# over gRPC by predict_util.cc, FAILED_PRECONDITION 'Serving signature key "nope" not found.':
# the same 400, another text. Parse errors, ragged lists and strings for floats are errors of
# REST's JSON, which a gRPC TensorProto cannot express.


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", f"/v1/models/{MODEL_NAME}/versions/3:predict", "one image", 404),
        ("GET", f"/v1/models/{MODEL_NAME}/versions/9/metadata", None, 404),
        ("POST", "/v1/models/no_such_model:predict", "one image", 404),
        ("GET", "/v1/models/no_such_model", None, 404),
        ("GET", f"/v1/models/{MODEL_NAME}/versions/7", None, 404),
        ("POST", f"/v1/models/{MODEL_NAME}:predict", WRONG_SHAPE_BODY, 400),
    ],
    ids=[
        "predict-version",
        "metadata-version",
        "predict-model",
        "status-model",
        "status-version",
        "wrong-shape",
    ],
)
def test_the_shared_errors_over_rest_are_json_objects_with_only_the_error_text(
    fashion_server, one_image_body: str, method: str, path: str, body: str | None, status: int
) -> None:
    """The statuses and texts are the transport tests' above; this is the body they come in."""
    data = one_image_body if body == "one image" else body
    response = requests.request(
        method, f"{fashion_server.url}{path}", data=data, timeout=REQUEST_TIMEOUT
    )
    assert response.status_code == status
    assert _error_of(response)


def test_malformed_json_is_400_parse_error_with_offset(fashion_server) -> None:
    response = _post(fashion_server, f"/v1/models/{MODEL_NAME}:predict", "instances = [1, 2]")
    assert response.status_code == 400
    assert _error_of(response) == "JSON Parse error: Invalid value. at offset: 0"


def test_empty_body_is_400_document_is_empty(fashion_server) -> None:
    response = _post(fashion_server, f"/v1/models/{MODEL_NAME}:predict", "")
    assert response.status_code == 400
    assert _error_of(response) == "JSON Parse error: The document is empty"


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
