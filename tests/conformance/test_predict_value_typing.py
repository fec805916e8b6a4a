"""Which JSON leaves each dtype accepts, base64 objects, and the typing errors.

As ``util/json_tensor.cc``'s ``AddValueToTensor`` converts them, with the cases of
``json_tensor_test.cc``.

Model ``dtypes`` has one input per dtype (``f`` float, ``d`` double, ``i32``, ``i64``, ``u32``,
``u64``, ``b`` bool, ``s`` string), each echoed under its own name, plus ``s_bytes`` (the string
again, written as base64 because of the ``_bytes`` suffix). Columnar requests must name every
input; element errors then come back unwrapped.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.rest_probe import RestProbe

pytestmark = pytest.mark.server

VALID = {
    "f": [1.5],
    "d": [2.5],
    "i32": [3],
    "i64": [4],
    "u32": [5],
    "u64": [6],
    "b": [True],
    "s": ["seven"],
}


def _columnar(**overrides: Any) -> dict[str, Any]:
    return {"inputs": {**VALID, **overrides}}


def test_every_dtype_round_trips_through_the_columnar_format(zoo: RestProbe) -> None:
    reply = zoo.predict(
        "dtypes",
        _columnar(
            f=[1, -2.5],
            d=[0.1, 7],
            i32=[-2147483648, 2147483647],
            i64=[-9223372036854775808, 9223372036854775807],
            u32=[0, 4294967295],
            u64=[0, 18446744073709551615],
            b=[True, False],
            s=["plain", "ünïcode"],
        ),
    )
    assert (reply.status, reply.json()) == (
        200,
        {
            "outputs": {
                "f": [1.0, -2.5],
                "d": [0.1, 7.0],
                "i32": [-2147483648, 2147483647],
                "i64": [-9223372036854775808, 9223372036854775807],
                "u32": [0, 4294967295],
                "u64": [0, 18446744073709551615],
                "b": [True, False],
                "s": ["plain", "ünïcode"],
                "s_bytes": [
                    {"b64": "cGxhaW4="},
                    {"b64": "w7xuw69jb2Rl"},
                ],
            }
        },
    )


def test_a_b64_object_feeds_the_decoded_bytes_of_a_string_input(zoo: RestProbe) -> None:
    reply = zoo.predict("dtypes", _columnar(s=[{"b64": "AAE="}]))
    assert reply.status == 200, reply
    outputs = reply.json()["outputs"]
    assert (outputs["s"], outputs["s_bytes"]) == (["\x00\x01"], [{"b64": "AAE="}])


@pytest.mark.parametrize(
    ("name", "value", "error"),
    [
        ("i32", 1.0, "JSON Value: 1.0 Type: Number is not of expected type: int32"),
        ("i32", 2147483648, "JSON Value: 2147483648 Type: Number is not of expected type: int32"),
        (
            "i64",
            9223372036854775808,
            "JSON Value: 9223372036854775808 Type: Number is not of expected type: int64",
        ),
        ("i64", 1e3, "JSON Value: 1000.0 Type: Number is not of expected type: int64"),
        ("u32", -1, "JSON Value: -1 Type: Number is not of expected type: uint32"),
        ("u32", 4294967296, "JSON Value: 4294967296 Type: Number is not of expected type: uint32"),
        ("u64", -1, "JSON Value: -1 Type: Number is not of expected type: uint64"),
        ("u64", 0.0, "JSON Value: 0.0 Type: Number is not of expected type: uint64"),
        ("b", 1, "JSON Value: 1 Type: Number is not of expected type: bool"),
        ("b", "true", 'JSON Value: "true" Type: String is not of expected type: bool'),
        ("f", "1", 'JSON Value: "1" Type: String is not of expected type: float'),
        ("f", None, "JSON Value: null Type: Null is not of expected type: float"),
        ("f", True, "JSON Value: true Type: True is not of expected type: float"),
        ("d", False, "JSON Value: false Type: False is not of expected type: double"),
        ("s", 1, "JSON Value: 1 Type: Number is not of expected type: string"),
        (
            "f",
            {"b64": "AAAA"},
            'JSON Value: {\n    "b64": "AAAA"\n} Type: Object is not of expected type: float',
        ),
        (
            "s",
            {"a": "x"},
            'JSON Value: {\n    "a": "x"\n} not formatted correctly for base64 data',
        ),
        (
            "s",
            {"b64": 1},
            'JSON Value: {\n    "b64": 1\n} not formatted correctly for base64 data',
        ),
        ("s", {"b64": "!!not base64!!"}, "Unable to base64 decode"),
    ],
)
def test_a_leaf_of_the_wrong_json_type_is_rejected_with_the_typing_error(
    zoo: RestProbe, name: str, value: object, error: str
) -> None:
    reply = zoo.predict("dtypes", _columnar(**{name: [value]}))
    assert (reply.status, reply.error) == (400, error)


def test_the_row_format_wraps_the_typing_error_with_element_and_key(zoo: RestProbe) -> None:
    reply = zoo.predict("half", {"instances": ["x", "y"]})
    assert (reply.status, reply.error) == (
        400,
        "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: "
        'JSON Value: "x" Type: String is not of expected type: float',
    )
    row = {**{key: values[0] for key, values in VALID.items()}, "i32": 1.0}
    named = zoo.predict("dtypes", {"instances": [row]})
    assert (named.status, named.error) == (
        400,
        "Failed to process element: 0 key: i32 of 'instances' list. Error: INVALID_ARGUMENT: "
        "JSON Value: 1.0 Type: Number is not of expected type: int32",
    )


def test_integers_are_accepted_for_float_inputs_with_precision_loss(zoo: RestProbe) -> None:
    reply = zoo.predict("identity", {"inputs": [1435774380]})
    # float32 1435774336, printed with 9 digits because 6 do not round-trip (WriteDecimal)
    assert (reply.status, reply.body) == (
        200,
        b'{\n    "outputs": [\n        1.43577434e+09\n    ]\n}',
    )


def test_out_of_range_floats_become_infinity_and_tiny_ones_zero(zoo: RestProbe) -> None:
    reply = zoo.predict("identity", {"inputs": [1e39, -1e39, 1e-50, -1e-50]})
    assert reply.status == 200, reply
    assert reply.body == (
        b'{\n    "outputs": [\n        Infinity,\n        -Infinity,\n        0.0,\n'
        b"        -0.0\n    ]\n}"
    )
