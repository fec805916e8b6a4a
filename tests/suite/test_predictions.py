"""Predictions served for the fashion model equal the model's own, over REST and gRPC alike.

The request formats only REST has (row, columnar and named JSON bodies) have REST-only tests
at the end.
"""

from __future__ import annotations

import numpy as np
import pytest
import requests

from fashion.data import CLASS_NAMES
from fashion.preprocess import scale_images
from tests.support import MODEL_NAME, REQUEST_TIMEOUT

pytestmark = pytest.mark.server


def test_three_test_images_are_predicted_as_their_true_labels(
    transport_client,
    synthetic_dataset,
) -> None:
    served = transport_client.predict(scale_images(synthetic_dataset.x_test[:3]))
    predicted = [CLASS_NAMES[index] for index in served.argmax(axis=1)]
    assert predicted == [CLASS_NAMES[label] for label in synthetic_dataset.y_test[:3]]


def test_served_outputs_equal_in_process_outputs(
    transport_client,
    trained_tiny,
    synthetic_dataset,
) -> None:
    images = scale_images(synthetic_dataset.x_test[:8])
    served = transport_client.predict(images)
    assert served.dtype == np.float32
    np.testing.assert_allclose(served, np.asarray(trained_tiny(images)), rtol=1e-6, atol=1e-7)


def test_every_row_is_a_probability_distribution(transport_client, synthetic_dataset) -> None:
    served = transport_client.predict(scale_images(synthetic_dataset.x_test[:5]))
    assert served.shape == (5, 10)
    assert (served >= 0).all()
    assert (served <= 1).all()
    np.testing.assert_allclose(served.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("batch", [1, 256])
def test_batch_sizes_1_and_256_give_one_row_per_image(
    transport_client,
    trained_tiny,
    synthetic_dataset,
    batch: int,
) -> None:
    images = scale_images(synthetic_dataset.x_test[:batch])
    served = transport_client.predict(images)
    assert served.shape == (batch, 10)
    np.testing.assert_allclose(served, np.asarray(trained_tiny(images)), rtol=1e-6, atol=1e-7)
    accuracy = (served.argmax(axis=1) == synthetic_dataset.y_test[:batch]).mean()
    assert accuracy > 0.9


def test_explicit_signature_name_gives_the_same_answer(
    transport_client,
    synthetic_dataset,
) -> None:
    images = scale_images(synthetic_dataset.x_test[:3])
    np.testing.assert_array_equal(
        transport_client.predict(images, signature_name="serving_default"),
        transport_client.predict(images),
    )


def test_version_1_route_answers_like_the_default_route(
    transport_client,
    synthetic_dataset,
) -> None:
    images = scale_images(synthetic_dataset.x_test[:3])
    np.testing.assert_array_equal(
        transport_client.predict(images, version=1), transport_client.predict(images)
    )


# REST only from here: the columnar (``inputs``) and named-instance bodies and the answer's
# JSON layout are REST's JSON formats (``api_rest.md``); a gRPC PredictRequest has named
# TensorProtos and nothing else.


def test_columnar_request_answers_outputs_equal_to_row_predictions(
    fashion_client,
    synthetic_dataset,
) -> None:
    images = scale_images(synthetic_dataset.x_test[:4])
    row = fashion_client.predict(images)
    columnar = fashion_client.predict(images, columnar=True)
    named = fashion_client.predict({"images": images}, columnar=True)
    np.testing.assert_array_equal(columnar, row)
    np.testing.assert_array_equal(named, row)


def test_named_instances_are_accepted_for_the_single_input(
    fashion_client,
    synthetic_dataset,
) -> None:
    images = scale_images(synthetic_dataset.x_test[:2])
    answer = fashion_client.predict_json(
        {"instances": [{"images": image.tolist()} for image in images]}
    )
    np.testing.assert_array_equal(
        np.asarray(answer["predictions"], np.float32), fashion_client.predict(images)
    )


def test_predict_answer_is_json_with_predictions_only(fashion_server, synthetic_dataset) -> None:
    images = scale_images(synthetic_dataset.x_test[:2])
    response = requests.post(
        f"{fashion_server.url}/v1/models/{MODEL_NAME}:predict",
        json={"instances": images.tolist()},
        timeout=REQUEST_TIMEOUT,
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert list(body) == ["predictions"]
    assert len(body["predictions"]) == 2
