"""The REST client's Example API (``:classify``, ``:regress``) against a scripted HTTP server
(``client``: ``conftest.py`` of this folder).

Its answers take the gRPC client's shapes, so the serving suite compares the transports call for
call: per example a list of ``(label, score)`` pairs, or one value; scores read back as the
float32 the server printed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pytest_httpserver import HTTPServer

from fashion.clients import ServingClient, ServingHTTPError, ServingProtocolError


def test_classify_posts_the_examples_and_returns_label_score_pairs_as_float32(
    client: ServingClient, httpserver: HTTPServer
) -> None:
    httpserver.expect_oneshot_request(
        "/v1/models/fashion model/versions/2:classify",
        method="POST",
        json={"examples": [{"x": [1.5, 2.0]}, {"x": 3}], "signature_name": "c"},
    ).respond_with_json({"results": [[["cat", 0.1], ["dog", 0.9]], [["cat", 1]]]})
    answer = client.classify([{"x": [1.5, 2.0]}, {"x": 3}], signature_name="c", version=2)
    assert answer == [[("cat", float(np.float32(0.1))), ("dog", float(np.float32(0.9)))], [
        ("cat", 1.0)
    ]]  # fmt: skip


def test_regress_posts_the_context_to_the_label_route_and_returns_one_value_each(
    client: ServingClient, httpserver: HTTPServer
) -> None:
    httpserver.expect_oneshot_request(
        "/v1/models/fashion model/labels/stable:regress",
        method="POST",
        json={"examples": [{"x": 1.0}, {"x": 2.0}], "context": {"bias": 0.5}},
    ).respond_with_json({"results": [2.7, 3]})
    answer = client.regress([{"x": 1.0}, {"x": 2.0}], context={"bias": 0.5}, label="stable")
    assert answer == [float(np.float32(2.7)), 3.0]


@pytest.mark.parametrize(
    ("method", "results", "message"),
    [
        ("classify", {"result": []}, "classify answer has no 'results' list"),
        ("classify", {"results": [["cat", 0.5]]}, "not label-score pairs"),
        ("classify", {"results": [[["cat", "high"]]]}, "not label-score pairs"),
        ("regress", {"results": "2.5"}, "regress answer has no 'results' list"),
        ("regress", {"results": [True]}, "regress results are not numbers"),
    ],
)
def test_results_that_are_not_the_promised_shape_are_a_protocol_error(
    client: ServingClient, httpserver: HTTPServer, method: str, results: Any, message: str
) -> None:
    httpserver.expect_oneshot_request(f"/v1/models/fashion model:{method}").respond_with_json(
        results
    )
    with pytest.raises(ServingProtocolError, match=message):
        getattr(client, method)([{"x": 1.0}])


def test_a_refusal_carries_the_status_and_the_servers_text(
    client: ServingClient, httpserver: HTTPServer
) -> None:
    text = "Expected classification signature method_name to be tensorflow/serving/classify."
    httpserver.expect_oneshot_request("/v1/models/fashion model:classify").respond_with_json(
        {"error": text}, status=400
    )
    with pytest.raises(ServingHTTPError) as info:
        client.classify([{"x": 1.0}])
    assert (info.value.status_code, info.value.error) == (400, text)
