"""Predict bodies become input tensors: which JSON values each dtype accepts, and the type errors.

As ``util/json_tensor.cc`` converts leaves (``AddValueToTensor``), with the cases of its test
``json_tensor_test.cc``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from fashion.serving.status import Code
from tests.support.predict_decoding import decode, error, invalid, only


@pytest.mark.parametrize(
    ("body", "inputs", "message"),
    [
        pytest.param(
            '{ "instances": ["x", "y"] }',
            None,
            "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: "
            'JSON Value: "x" Type: String is not of expected type: float',
            id="string-for-a-float-input-is-a-type-error",
        ),
        pytest.param(
            '{"inputs": [1e2]}',
            {"x": "int64"},
            "JSON Value: 100.0 Type: Number is not of expected type: int64",
            id="type-error-reprints-the-value-as-rapidjson-does",
        ),
        pytest.param(
            '{"inputs": [{"b64": "aGk="}]}',
            None,
            'JSON Value: {\n    "b64": "aGk="\n} Type: Object is not of expected type: float',
            id="object-for-a-numeric-input-is-a-type-error",
        ),
        pytest.param(
            '{"instances": [1.0, 2.0, true]}',
            None,
            "Failed to process element: 2 of 'instances' list. Error: INVALID_ARGUMENT: "
            "JSON Value: true Type: True is not of expected type: float",
            id="boolean-hidden-among-floats-is-still-rejected",
        ),
        pytest.param(
            json.dumps({"instances": [[0.5] * 8 for _ in range(64)]}).replace("0.5", "true", 1),
            None,
            "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: "
            "JSON Value: true Type: True is not of expected type: float",
            id="boolean-deep-inside-a-large-float-request-is-still-rejected",
        ),
    ],
)
def test_each_type_error_prints_the_value_and_its_json_type(
    body: str, inputs: dict[str, str] | None, message: str
) -> None:
    """``AddValueToTensor`` refuses a leaf it cannot convert, printing it as rapidjson writes it;
    in row format wrapped with the instance's index (``inputs`` None: half_plus_two's)."""
    assert invalid(body, inputs) == message


@pytest.mark.parametrize(
    ("leaf", "json_type", "dtype"),
    [
        ("true", "True", "float"),
        ("false", "False", "double"),
        ("null", "Null", "float"),
        ('"1.5"', "String", "float"),
        ("1.0", "Number", "int32"),
        ("2147483648", "Number", "int32"),
        ("9223372036854775808", "Number", "int64"),
        ("-1", "Number", "uint32"),
        ("4294967296", "Number", "uint32"),
        ("-1", "Number", "uint64"),
        ("1", "Number", "bool"),
        ("0", "Number", "bool"),
        ("1", "Number", "string"),
    ],
)
def test_leaf_of_the_wrong_json_type_is_rejected(leaf: str, json_type: str, dtype: str) -> None:
    assert invalid(f'{{"inputs": [{leaf}]}}', {"x": dtype}) == (
        f"JSON Value: {leaf} Type: {json_type} is not of expected type: {dtype}"
    )


def test_integers_are_accepted_for_float_inputs() -> None:
    tensor = only(decode('{"instances": [1, 2, 5]}'))
    assert tensor.dtype == np.float32
    assert tensor.tolist() == [1.0, 2.0, 5.0]


def test_float_precision_loss_is_silently_accepted() -> None:
    assert only(decode('{"inputs": [1435774380]}')).tolist() == [1435774336.0]


def test_float_out_of_range_becomes_infinity_and_tiny_becomes_zero() -> None:
    tensor = only(decode('{"inputs": [1e39, -1e39, 1e-50, -1e-50]}'))
    assert tensor.tolist() == [float("inf"), float("-inf"), 0.0, -0.0]
    assert np.signbit(tensor[3])


def test_nan_and_infinity_tokens_feed_float_inputs() -> None:
    tensor = only(decode('{"instances": [NaN, Infinity, -Infinity, -Inf]}'))
    assert np.isnan(tensor[0])
    assert tensor[1:].tolist() == [float("inf"), float("-inf"), float("-inf")]


@pytest.mark.parametrize(
    ("dtype", "values", "numpy_type"),
    [
        ("double", "[0.1, 2]", np.float64),
        ("int32", "[-2147483648, 2147483647]", np.int32),
        ("int64", "[-9223372036854775808, 9223372036854775807]", np.int64),
        ("uint32", "[0, 4294967295]", np.uint32),
        ("uint64", "[0, 18446744073709551615]", np.uint64),
        ("bool", "[true, false]", np.bool_),
    ],
)
def test_each_dtype_accepts_its_json_values(dtype: str, values: str, numpy_type: type) -> None:
    tensor = only(decode(f'{{"inputs": {values}}}', {"x": dtype}))
    assert tensor.dtype == numpy_type
    assert tensor.tolist() == json.loads(values)


def test_narrow_integer_types_take_any_int32_without_range_check() -> None:
    tensor = only(decode('{"inputs": [1, 300, -1]}', {"x": "uint8"}))
    assert tensor.dtype == np.uint8
    assert tensor.tolist() == [1, 44, 255]  # C++ int32 -> uint8 conversion


def test_strings_become_bytes_and_b64_objects_are_decoded() -> None:
    tensor = only(decode('{"instances": [{"b64": "aGk="}, "é"]}', {"s": "string"}))
    assert tensor.dtype == object
    assert tensor.tolist() == [b"hi", "é".encode()]


def test_single_b64_object_is_the_value_of_a_single_input() -> None:
    tensor = only(decode('{"inputs": {"b64": "aGk="}}', {"s": "string"}))
    assert tensor.shape == ()
    assert tensor.item() == b"hi"


def test_base64_follows_absl_leniency() -> None:
    body = '{"inputs": [{"b64": "aGk"}, {"b64": " aG\\nk= "}, {"b64": "aGk."}]}'
    assert only(decode(body, {"s": "string"})).tolist() == [b"hi", b"hi", b"hi"]


@pytest.mark.parametrize("encoded", ["a", "aGk==", "aG=k", "a*Gk", "aGk=x"])
def test_undecodable_base64_is_rejected(encoded: str) -> None:
    message = invalid(f'{{"inputs": [{{"b64": "{encoded}"}}]}}', {"s": "string"})
    assert message == "Unable to base64 decode"


def test_other_objects_for_string_inputs_are_not_base64() -> None:
    assert invalid('{"inputs": [{"b65": "aGk="}]}', {"s": "string"}) == (
        'JSON Value: {\n    "b65": "aGk="\n} not formatted correctly for base64 data'
    )


def test_unsupported_dtype_is_unimplemented_in_columnar_format() -> None:
    caught = error('{"inputs": [1, 2]}', {"x": "half"})
    assert caught.code == Code.UNIMPLEMENTED
    assert caught.http_status == 501
    assert caught.message == "Conversion of JSON Value: 1 to type: half"


def test_unsupported_dtype_is_a_wrapped_400_in_row_format() -> None:
    assert invalid('{"instances": [1, 2]}', {"x": "bfloat16"}) == (
        "Failed to process element: 0 of 'instances' list. Error: UNIMPLEMENTED: Conversion of "
        "JSON Value: 1 to type: bfloat16"
    )
