"""The exact bytes of predict responses: rapidjson's pretty writer, 4-space indent, single-line
arrays inside each batch item, columnar output fully expanded (``util/json_tensor.cc``).

The classify/regress layouts are in test_classify_regress.py, the error body in
test_status_mapping_and_error_body.py.
"""

from __future__ import annotations

import pytest

from tests.support.rest_probe import RestProbe

pytestmark = pytest.mark.server


def test_rows_of_scalars_stay_on_one_line_and_the_bracket_closes_below(zoo: RestProbe) -> None:
    reply = zoo.predict("half", {"instances": [1.0, 2.0, 5.0]})
    assert (reply.status, reply.body) == (
        200,
        b'{\n    "predictions": [2.5, 3.0, 4.5\n    ]\n}',
    )


def test_rows_of_lists_are_single_line_arrays(zoo: RestProbe) -> None:
    reply = zoo.predict("half", {"instances": [[1.0, 2.0], [3.0, 4.0]]})
    assert (reply.status, reply.body) == (
        200,
        b'{\n    "predictions": [[2.5, 3.0], [3.5, 4.0]\n    ]\n}',
    )


def test_rows_of_several_outputs_are_objects_with_single_line_arrays(zoo: RestProbe) -> None:
    reply = zoo.predict(
        "two_tensors", {"instances": [{"a": 1.0, "b": [1, 2]}, {"a": 2.0, "b": [3, 4]}]}
    )
    assert reply.status == 200, reply

    def layout(first: str, second: str) -> bytes:
        def item(a: str, b: str) -> str:
            members = {"a": f'"a": {a}', "b": f'"b": {b}'}
            return (
                "        {\n"
                f"            {members[first]},\n"
                f"            {members[second]}\n"
                "        }"
            )

        return (
            '{\n    "predictions": [\n'
            + item("1.0", "[1, 2]")
            + ",\n"
            + item("2.0", "[3, 4]")
            + "\n    ]\n}"
        ).encode()

    # Member order follows the protobuf map's iteration order, which is unspecified.
    assert reply.body in {layout("a", "b"), layout("b", "a")}, reply.body


def test_columnar_output_is_fully_expanded_one_value_per_line(zoo: RestProbe) -> None:
    reply = zoo.predict("half", {"inputs": [1.0, 2.0]})
    assert (reply.status, reply.body) == (
        200,
        b'{\n    "outputs": [\n        2.5,\n        3.0\n    ]\n}',
    )


def test_columnar_nested_lists_are_expanded_at_every_level(zoo: RestProbe) -> None:
    reply = zoo.predict("half", {"inputs": [[1.0], [2.0]]})
    assert (reply.status, reply.body) == (
        200,
        b'{\n    "outputs": [\n        [\n            2.5\n        ],\n'
        b"        [\n            3.0\n        ]\n    ]\n}",
    )


def test_a_columnar_scalar_is_written_after_the_key(zoo: RestProbe) -> None:
    reply = zoo.predict("half", {"inputs": 1.0})
    assert (reply.status, reply.body) == (200, b'{\n    "outputs": 2.5\n}')


def test_an_empty_columnar_output_is_an_empty_array(zoo: RestProbe) -> None:
    reply = zoo.predict("half", {"inputs": []})
    assert (reply.status, reply.body) == (200, b'{\n    "outputs": []\n}')


def test_an_empty_prediction_list_closes_on_the_same_line(zoo: RestProbe) -> None:
    reply = zoo.predict("edge", {"signature_name": "empty_output", "instances": [1.0]})
    assert (reply.status, reply.body) == (200, b'{\n    "predictions": []\n}')
