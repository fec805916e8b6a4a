"""The columnar format (``inputs``): plain or named, no batching added (``util/json_tensor.cc``)."""

from __future__ import annotations

import pytest

from tests.support.rest_probe import RestProbe

pytestmark = pytest.mark.server


@pytest.mark.parametrize(
    ("body", "outputs"),
    [
        ({"inputs": [1.0, 2.0]}, [2.5, 3.0]),
        ({"inputs": {"x": [1.0, 2.0]}}, [2.5, 3.0]),
        ({"inputs": 1.0}, 2.5),
        ({"inputs": []}, []),
        ({"inputs": [[1.0, 2.0], [3.0, 4.0]]}, [[2.5, 3.0], [3.5, 4.0]]),
    ],
)
def test_worked_columnar_examples_of_half_plus_two(
    zoo: RestProbe, body: dict[str, object], outputs: object
) -> None:
    reply = zoo.predict("half", body)
    assert (reply.status, reply.json()) == (200, {"outputs": outputs})


def test_named_inputs_may_have_different_first_dimensions(zoo: RestProbe) -> None:
    reply = zoo.predict("two_tensors", {"inputs": {"a": [1.0], "b": [[1, 2], [3, 4]]}})
    assert (reply.status, reply.json()) == (
        200,
        {"outputs": {"a": [1.0], "b": [[1, 2], [3, 4]]}},
    )


def test_extra_named_inputs_are_silently_ignored(zoo: RestProbe) -> None:
    reply = zoo.predict("half", {"inputs": {"x": [1.0], "unused": "anything"}})
    assert (reply.status, reply.json()) == (200, {"outputs": [2.5]})


def test_a_missing_named_input_is_rejected(zoo: RestProbe) -> None:
    reply = zoo.predict("two_tensors", {"inputs": {"a": [1.0]}})
    assert (reply.status, reply.error) == (400, "Missing named input: b in 'inputs' object.")


def test_a_plain_value_for_several_inputs_is_rejected(zoo: RestProbe) -> None:
    reply = zoo.predict("two_tensors", {"inputs": [1.0]})
    assert (reply.status, reply.error) == (
        400,
        "inputs is a plain value/list, but expecting an object as multiple input tensors "
        "required as per tensorinfo_map",
    )


def test_a_b64_object_counts_as_the_plain_value_of_the_single_input(zoo: RestProbe) -> None:
    reply = zoo.predict("edge", {"signature_name": "strings", "inputs": {"b64": "aGk="}})
    assert (reply.status, reply.json()) == (
        200,
        {"outputs": {"text": "hi", "text_bytes": {"b64": "aGk="}}},
    )


@pytest.mark.parametrize(
    ("inputs", "error"),
    [
        (
            [[1.0], 2.0],
            "JSON Value: 2.0 found at incorrect level: 2 in the JSON DOM. Expected at level: 2",
        ),
        ([1.0, [2.0]], "Encountered list at unexpected level: 1 expected < 1"),
        (
            [[1.0, 2.0], [3.0]],
            "Encountered list at unexpected size: 1 at level: 1 expected size: 2",
        ),
        ([1.0, "x"], 'JSON Value: "x" Type: String is not of expected type: float'),
    ],
)
def test_element_errors_are_returned_unwrapped(
    zoo: RestProbe, inputs: list[object], error: str
) -> None:
    reply = zoo.predict("half", {"inputs": inputs})
    assert (reply.status, reply.error) == (400, error)
