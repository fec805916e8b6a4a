"""Which predict error wins, and how the body's JSON is parsed.

The order is ``http_rest_api_handler.cc``'s (``ProcessPredictRequest``) and
``util/json_tensor.cc``'s (``FillPredictRequestFromJson``); the reader is rapidjson's, with the
cases of ``json_tensor_test.cc``.

Model ``half`` (``y = 0.5 x + 2``, one float input ``x``) unless stated otherwise.
"""

from __future__ import annotations

import re

import pytest

from tests.support.rest_probe import RestProbe

pytestmark = pytest.mark.server


def test_an_empty_body_is_the_document_is_empty_without_offset(zoo: RestProbe) -> None:
    reply = zoo.predict("half", b"")
    assert (reply.status, reply.error) == (400, "JSON Parse error: The document is empty")


def test_a_body_that_is_not_json_is_invalid_value_at_offset_0(zoo: RestProbe) -> None:
    reply = zoo.predict("half", b"instances = [1, 2]")
    assert (reply.status, reply.error) == (400, "JSON Parse error: Invalid value. at offset: 0")


def test_a_whitespace_only_body_is_the_document_is_empty_with_its_offset(
    zoo: RestProbe,
) -> None:
    reply = zoo.predict("half", b"   ")
    assert (reply.status, reply.error) == (
        400,
        "JSON Parse error: The document is empty. at offset: 3",
    )


def test_a_trailing_comma_is_an_invalid_value_where_the_bracket_is(zoo: RestProbe) -> None:
    body = b'{"instances": [1.0,]}'
    reply = zoo.predict("half", body)
    assert (reply.status, reply.error) == (
        400,
        f"JSON Parse error: Invalid value. at offset: {body.index(b']')}",
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"instances": [1.0 2.0]}', "Missing a comma or ']' after an array element."),
        (b'{"instances": [1.0]', "Missing a comma or '}' after an object member."),
        (b'{"instances": [1.0] "x": 1}', "Missing a comma or '}' after an object member."),
        (b"{1: [1.0]}", "Missing a name for object member."),
        (b'{"instances" [1.0]}', "Missing a colon after a name of object member."),
        (b'{"instances": [1.0], "s": "abc', "Missing a closing quotation mark in string."),
        (b'{"instances": [1.0], "s": "\\q"}', "Invalid escape character in string."),
        (b'{"instances": [1e400]}', "Number too big to be stored in double."),
        (b'{"instances": [1.]}', "Miss fraction part in number."),
        (b'{"instances": [1e]}', "Miss exponent in number."),
        (b"{'instances': [1.0]}", "Missing a name for object member."),
        (b'{"instances": [1.0]} // comment', None),
    ],
)
def test_parse_errors_name_rapidjsons_reason_and_an_offset(
    zoo: RestProbe, body: bytes, reason: str | None
) -> None:
    reply = zoo.predict("half", body)
    if reason is None:  # anything after the first complete value is ignored (2.18+)
        assert (reply.status, reply.json()) == (200, {"predictions": [2.5]})
        return
    assert reply.status == 400, reply
    assert re.fullmatch(rf"JSON Parse error: {re.escape(reason)} at offset: \d+", reply.error)


def test_parse_errors_win_over_an_unknown_model(zoo: RestProbe) -> None:
    reply = zoo.predict("nope", b"")
    assert (reply.status, reply.error) == (400, "JSON Parse error: The document is empty")


@pytest.mark.parametrize(
    ("body", "debug"),
    [(b"[]", "[]"), (b'"text"', '"text"'), (b"5", "5"), (b"null", "null")],
)
def test_a_top_level_that_is_not_an_object_is_rejected_even_for_an_unknown_model(
    zoo: RestProbe, body: bytes, debug: str
) -> None:
    for model in ("half", "nope"):
        reply = zoo.predict(model, body)
        assert (reply.status, reply.error) == (400, f"JSON Value: {debug} Is not object")


def test_a_signature_name_that_is_not_a_string_is_rejected_before_model_lookup(
    zoo: RestProbe,
) -> None:
    for model in ("half", "nope"):
        reply = zoo.predict(model, b'{"signature_name": 100}')
        assert (reply.status, reply.error) == (
            400,
            'JSON Value: {\n    "signature_name": 100\n} not formatted correctly. '
            "'signature_name' key must be a string value.",
        )


def test_a_valid_body_for_an_unknown_model_is_404(zoo: RestProbe) -> None:
    reply = zoo.predict("nope", {"instances": [1.0]})
    assert (reply.status, reply.error) == (404, "Servable not found for request: Latest(nope)")


def test_an_unknown_label_is_400_even_for_an_unknown_model(zoo: RestProbe) -> None:
    reply = zoo.predict("nope", {"instances": [1.0]}, label="stable")
    assert (reply.status, reply.error) == (400, "Unrecognized servable version label: stable")


def test_an_unknown_signature_wins_over_a_bad_instances_value(zoo: RestProbe) -> None:
    reply = zoo.predict("half", {"signature_name": "nope", "instances": "bad"})
    assert (reply.status, reply.error) == (
        400,
        'Serving signature name: "nope" not found in signature def',
    )


def test_a_signature_without_inputs_fails_to_get_the_input_map(zoo: RestProbe) -> None:
    reply = zoo.predict("edge", {"instances": [1.0]})
    assert (reply.status, reply.error) == (400, "Failed to get input map for signature: DEFAULT")
    named = zoo.predict("edge", {"signature_name": "serving_default", "instances": [1.0]})
    assert (named.status, named.error) == (
        400,
        "Failed to get input map for signature: serving_default",
    )


def test_an_empty_signature_name_behaves_as_absent(zoo: RestProbe) -> None:
    reply = zoo.predict("half", {"signature_name": "", "instances": [1.0]})
    assert (reply.status, reply.json()) == (200, {"predictions": [2.5]})


def test_nan_and_infinity_tokens_are_accepted_as_numbers(zoo: RestProbe) -> None:
    reply = zoo.predict("identity", b'{"instances": [NaN, Infinity, -Infinity, Inf, -Inf]}')
    assert reply.status == 200, reply
    assert reply.body == (
        b'{\n    "predictions": [NaN, Infinity, -Infinity, Infinity, -Infinity\n    ]\n}'
    )


def test_duplicate_keys_use_the_first_occurrence(zoo: RestProbe) -> None:
    reply = zoo.predict("half", b'{"instances": [1.0], "instances": [2.0]}')
    assert (reply.status, reply.json()) == (200, {"predictions": [2.5]})


def test_unknown_top_level_keys_are_ignored(zoo: RestProbe) -> None:
    reply = zoo.predict("half", {"instances": [1.0], "output_filter": ["nothing"], "x": 1})
    assert (reply.status, reply.json()) == (200, {"predictions": [2.5]})


def test_deep_nesting_in_an_ignored_key_is_parsed_without_a_depth_limit(zoo: RestProbe) -> None:
    """json_tensor_test.cc, DeeplyNestedWellFormed (500 000 nested arrays, 2.18+)."""
    depth = 500_000
    body = b'{"instances":[1.0], "nested":' + b"[" * depth + b"]" * depth + b"}"
    reply = zoo.predict("half", body)
    assert (reply.status, reply.json()) == (200, {"predictions": [2.5]})


def test_a_deeply_nested_signature_name_is_parsed_then_refused_as_not_a_string(
    zoo: RestProbe,
) -> None:
    """json_tensor_test.cc, DeeplyNestedMalformed: parsed, then 'key must be a string value'."""
    depth = 500_000
    body = b'{"signature_name":' + b"[" * depth + b"]" * depth + b"}"
    reply = zoo.predict("half", body)
    assert reply.status == 400, reply
    assert "'signature_name' key must be a string value." in reply.error


@pytest.mark.parametrize(
    ("number", "offset"),
    [(b"9" * 400, 15), (b"-" + b"9" * 5000, 15), (b"1" * 400 + b".0", 15)],
    ids=["400-digits", "5000-digits-negative", "400-digits-with-fraction"],
)
def test_an_integer_part_too_long_for_a_double_is_number_too_big_not_a_crash(
    zoo: RestProbe, number: bytes, offset: int
) -> None:
    """rapidjson gives up in the integer part once it reaches DBL_MAX / 10."""
    reply = zoo.predict("half", b'{"instances": [' + number + b"]}")
    assert (reply.status, reply.error) == (
        400,
        f"JSON Parse error: Number too big to be stored in double. at offset: {offset}",
    )
    assert zoo.predict("half", b'{"instances": [1.0]}').status == 200
