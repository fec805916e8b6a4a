"""The row format (``instances``), its two element styles and batching (``util/json_tensor.cc``).

``half``: one float input ``x``, ``y = 0.5 x + 2``. ``two_tensors``: float ``a`` and int32 ``b``,
echoed. ``identity``: ``y = x``. All placeholders have unknown rank, so any element shape runs.
"""

from __future__ import annotations

import pytest

from tests.support.rest_probe import RestProbe

pytestmark = pytest.mark.server


@pytest.mark.parametrize(
    ("body", "predictions"),
    [
        ({"instances": [1.0, 2.0, 5.0]}, [2.5, 3.0, 4.5]),
        ({"instances": [1, 2, 5]}, [2.5, 3.0, 4.5]),
        ({"instances": [[1.0, 2.0], [3.0, 4.0]]}, [[2.5, 3.0], [3.5, 4.0]]),
        ({"instances": [{"x": 1.0}, {"x": 2.0}]}, [2.5, 3.0]),
        ({"instances": [{"x": [1.0, 2.0]}, {"x": [3.0, 4.0]}]}, [[2.5, 3.0], [3.5, 4.0]]),
    ],
)
def test_worked_row_examples_of_half_plus_two(
    zoo: RestProbe, body: dict[str, object], predictions: list[object]
) -> None:
    reply = zoo.predict("half", body)
    assert (reply.status, reply.json()) == (200, {"predictions": predictions})


def test_named_instances_feed_several_inputs(zoo: RestProbe) -> None:
    reply = zoo.predict(
        "two_tensors",
        {"instances": [{"a": 1.0, "b": [1, 2]}, {"b": [3, 4], "a": 2.0}]},
    )
    assert (reply.status, reply.json()) == (
        200,
        {"predictions": [{"a": 1.0, "b": [1, 2]}, {"a": 2.0, "b": [3, 4]}]},
    )


def test_instances_and_inputs_together_are_rejected(zoo: RestProbe) -> None:
    reply = zoo.predict("half", {"instances": [1.0], "inputs": [1.0]})
    assert (reply.status, reply.error) == (
        400,
        'JSON Value: {\n    "instances": [1.0],\n    "inputs": [1.0]\n} Not formatted correctly '
        "expecting only one of 'inputs' or 'instances' keys to exist ",
    )


def test_neither_instances_nor_inputs_is_rejected(zoo: RestProbe) -> None:
    reply = zoo.predict("half", {"signature_name": "serving_default"})
    assert (reply.status, reply.error) == (400, "Missing 'inputs' or 'instances' key")


def test_instances_that_is_not_a_list_is_rejected(zoo: RestProbe) -> None:
    reply = zoo.predict("half", {"instances": 5})
    assert (reply.status, reply.error) == (
        400,
        "JSON Value: {\n    \"instances\": 5\n} Expecting 'instances' to be an list/array",
    )


def test_empty_instances_are_rejected(zoo: RestProbe) -> None:
    reply = zoo.predict("half", {"instances": []})
    assert (reply.status, reply.error) == (
        400,
        "JSON Value: {\n    \"instances\": []\n} No values in 'instances' array",
    )


def test_a_plain_list_for_several_inputs_is_rejected(zoo: RestProbe) -> None:
    reply = zoo.predict("two_tensors", {"instances": [1.0, 2.0]})
    assert (reply.status, reply.error) == (
        400,
        "instances is a plain list, but expecting list of objects as multiple input tensors "
        "required as per tensorinfo_map",
    )


def test_an_object_after_plain_values_is_rejected(zoo: RestProbe) -> None:
    reply = zoo.predict("half", {"instances": [1.0, {"x": 1.0}]})
    assert (reply.status, reply.error) == (
        400,
        "Expecting value/list but got object at item 1 of input list",
    )


def test_a_list_after_objects_is_rejected(zoo: RestProbe) -> None:
    reply = zoo.predict("half", {"instances": [{"x": 1.0}, {"x": 2.0}, [3.0]]})
    assert (reply.status, reply.error) == (
        400,
        "Expecting object but got list at item 2 of input list",
    )


def test_an_unknown_key_in_an_object_is_reported_with_the_embedded_status(
    zoo: RestProbe,
) -> None:
    reply = zoo.predict("half", {"instances": [{"x": 1.0}, {"y": 1.0}]})
    assert (reply.status, reply.error) == (
        400,
        "Failed to process element: 1 key: y of 'instances' list. Error: INVALID_ARGUMENT: "
        "JSON object: does not have named input: y",
    )


def test_objects_must_have_exactly_the_input_names(zoo: RestProbe) -> None:
    reply = zoo.predict("two_tensors", {"instances": [{"a": 1.0}]})
    assert (reply.status, reply.error) == (
        400,
        "Failed to process element: 0 of 'instances' list. JSON object: "
        '{\n    "a": 1.0\n} keys must be equal to: a,b',
    )


def test_an_unknown_key_is_reported_before_a_missing_one(zoo: RestProbe) -> None:
    reply = zoo.predict("two_tensors", {"instances": [{"a": 1.0, "c": 1}]})
    assert (reply.status, reply.error) == (
        400,
        "Failed to process element: 0 key: c of 'instances' list. Error: INVALID_ARGUMENT: "
        "JSON object: does not have named input: c",
    )


def test_elements_with_different_sizes_are_rejected(zoo: RestProbe) -> None:
    reply = zoo.predict("half", {"instances": [[1.0, 2.0], [3.0]]})
    assert (reply.status, reply.error) == (
        400,
        "Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: "
        "Expecting tensor size: 2 but got: 1",
    )


def test_elements_with_the_same_size_but_another_shape_are_rejected(zoo: RestProbe) -> None:
    reply = zoo.predict("half", {"instances": [[1.0, 2.0], [[3.0], [4.0]]]})
    assert (reply.status, reply.error) == (
        400,
        "Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: "
        "Expecting shape [2] but got: [2,1]",
    )


def test_a_scalar_then_a_list_is_a_shape_error(zoo: RestProbe) -> None:
    reply = zoo.predict("half", {"instances": [1, [1]]})
    assert (reply.status, reply.error) == (
        400,
        "Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: "
        "Expecting shape [] but got: [1]",
    )


def test_named_elements_with_different_sizes_name_the_key(zoo: RestProbe) -> None:
    reply = zoo.predict("half", {"instances": [{"x": [1.0, 2.0]}, {"x": [3.0]}]})
    assert (reply.status, reply.error) == (
        400,
        "Failed to process element: 1 key: x of 'instances' list. Error: INVALID_ARGUMENT: "
        "Expecting tensor size: 2 but got: 1",
    )


def test_ragged_data_inside_an_element_is_wrapped(zoo: RestProbe) -> None:
    reply = zoo.predict("half", {"instances": [[1.0, [2.0]]]})
    assert (reply.status, reply.error) == (
        400,
        "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: "
        "Encountered list at unexpected level: 1 expected < 1",
    )


def test_the_element_shape_is_not_checked_against_the_signature(zoo: RestProbe) -> None:
    reply = zoo.predict("identity", {"instances": [[[1.0]], [[2.0]]]})
    assert (reply.status, reply.json()) == (200, {"predictions": [[[1.0]], [[2.0]]]})


def test_b64_strings_and_plain_strings_mix_in_a_plain_list(zoo: RestProbe) -> None:
    reply = zoo.predict(
        "edge", {"signature_name": "strings", "instances": [{"b64": "aGk="}, "plain"]}
    )
    assert (reply.status, reply.json()) == (
        200,
        {
            "predictions": [
                {"text": "hi", "text_bytes": {"b64": "aGk="}},
                {"text": "plain", "text_bytes": {"b64": "cGxhaW4="}},
            ]
        },
    )


def test_a_conversion_the_codec_cannot_do_is_wrapped_into_a_400_in_row_format(
    zoo: RestProbe,
) -> None:
    reply = zoo.predict("edge", {"signature_name": "half_input", "instances": [1.0]})
    assert (reply.status, reply.error) == (
        400,
        "Failed to process element: 0 of 'instances' list. Error: UNIMPLEMENTED: "
        "Conversion of JSON Value: 1.0 to type: half",
    )
