"""Internal code → HTTP status, and the exact bytes of the error body.

The mapping is ``model_servers/http_server.cc``'s ``ToHTTPStatusCode``; the body is written by
``util/json_tensor.cc``'s ``MakeJsonFromStatus``.

The error body is rapidjson's pretty writer: ``{``, newline, four spaces, ``"error": ``, the
JSON string, newline, ``}``, no trailing newline; ``"``, ``\\`` and control characters escaped,
``/`` and non-ASCII UTF-8 written as they are. Labels make good probes for escaping: the
URL's percent-decoded label is echoed in ``Unrecognized servable version label: {l}``.
"""

from __future__ import annotations

import time

import pytest

from tests.support.rest_probe import RestProbe, error_body
from tests.support.watched_server import WatchedServer

pytestmark = pytest.mark.server


def test_not_found_has_the_exact_error_body_bytes(zoo: RestProbe) -> None:
    reply = zoo.post("/v1/models/half/versions/3:predict", {"instances": [1.0]})
    assert reply.status == 404
    assert reply.body == error_body("Servable not found for request: Specific(half, 3)")


def test_quotes_in_a_message_are_escaped(zoo: RestProbe) -> None:
    reply = zoo.predict("half", {"signature_name": "nope", "instances": [1.0]})
    assert reply.status == 400
    assert reply.body == error_body('Serving signature name: \\"nope\\" not found in signature def')


def test_newlines_in_a_message_are_escaped(zoo: RestProbe) -> None:
    reply = zoo.predict("half", {"instances": []})
    assert reply.status == 400
    assert reply.body == error_body(
        "JSON Value: {\\n    \\\"instances\\\": []\\n} No values in 'instances' array"
    )


@pytest.mark.parametrize(
    ("encoded_label", "escaped"),
    [
        ("a%5Cb", "a\\\\b"),
        ("a%2Fb", "a/b"),
        ("tab%09here", "tab\\there"),
        ("bell%07", "bell\\u0007"),
        ("unit%1F", "unit\\u001F"),
        ("caf%C3%A9", "café"),
    ],
)
def test_backslashes_and_control_characters_are_escaped_json_style(
    zoo: RestProbe, encoded_label: str, escaped: str
) -> None:
    reply = zoo.post(f"/v1/models/half/labels/{encoded_label}:predict", {"instances": [1.0]})
    assert reply.status == 400
    assert reply.body == error_body(f"Unrecognized servable version label: {escaped}")


@pytest.mark.parametrize(
    ("target", "body", "status"),
    [
        ("/v1/models/half:predict", {"instances": [1.0]}, 200),  # OK
        ("/v1/models/half:predict", {"instances": "x"}, 400),  # INVALID_ARGUMENT
        ("/v1/models/half/labels/nope:predict", {"instances": [1.0]}, 400),  # INVALID_ARGUMENT
        ("/v1/models/nope:predict", {"instances": [1.0]}, 404),  # NOT_FOUND
        (  # UNIMPLEMENTED (columnar conversion to a dtype JSON cannot express)
            "/v1/models/edge:predict",
            {"signature_name": "half_input", "inputs": [1.0]},
            501,
        ),
    ],
)
def test_internal_codes_map_to_their_http_status(
    zoo: RestProbe, target: str, body: dict[str, object], status: int
) -> None:
    reply = zoo.post(target, body)
    assert reply.status == status, reply
    if status != 200:
        assert isinstance(reply.error, str)


def test_unimplemented_answers_501_with_the_conversion_message(zoo: RestProbe) -> None:
    reply = zoo.predict("edge", {"signature_name": "half_input", "inputs": [1.0]})
    assert (reply.status, reply.error) == (501, "Conversion of JSON Value: 1.0 to type: half")


def test_a_run_past_the_rest_deadline_is_deadline_exceeded_504(watching: WatchedServer) -> None:
    # ``blocking`` waits on an empty queue; the watching server's --rest_api_timeout_in_ms is 1 s.
    started = time.monotonic()
    reply = watching.rest.predict("blocking", {"instances": [1.0]})
    took = time.monotonic() - started
    assert reply.status == 504, reply
    assert reply.error  # TensorFlow's own deadline text
    assert 0.9 <= took < 10, took
