"""Output tensors become TF Serving's predict response bytes.

As ``util/json_tensor.cc`` writes them (``WriteDecimal``, ``AddSingleValueAndAdvance``,
``IsNamedTensorBytes``) with rapidjson's pretty writer; float cases from ``json_tensor_test.cc``
(``FromJsonSingleFloatTensorSixDigitPrecision``, ``FromJsonSingleFloatTensorNonFinite``).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from fashion.serving.codec.predict_response import encode_predict_response
from fashion.serving.status import Code, ServingStatusError


def row(tensor: np.ndarray, dtype: str = "float", name: str = "y") -> bytes:
    return encode_predict_response({name: tensor}, {name: dtype}, True)


def columnar(tensor: np.ndarray, dtype: str = "float", name: str = "y") -> bytes:
    return encode_predict_response({name: tensor}, {name: dtype}, False)


def invalid(outputs: dict[str, np.ndarray], dtypes: dict[str, str], row_format: bool) -> str:
    with pytest.raises(ServingStatusError) as caught:
        encode_predict_response(outputs, dtypes, row_format)
    assert caught.value.code == Code.INVALID_ARGUMENT
    return caught.value.message


def test_rank_one_row_output_is_one_line_closed_on_its_own_line() -> None:
    body = row(np.array([2.5, 3.0, 4.5], dtype=np.float32))
    assert body == b'{\n    "predictions": [2.5, 3.0, 4.5\n    ]\n}'


def test_rank_two_row_output_writes_each_item_as_a_single_line_array() -> None:
    body = row(np.array([[2.5, 3.0], [3.5, 4.0]], dtype=np.float32))
    assert body == b'{\n    "predictions": [[2.5, 3.0], [3.5, 4.0]\n    ]\n}'


def test_several_row_outputs_make_one_object_per_item() -> None:
    body = encode_predict_response(
        {"a": np.array([1.0, 2.0], dtype=np.float32), "b": np.array([[1, 2], [3, 4]])},
        {"a": "float", "b": "int64"},
        True,
    )
    assert body.decode() == (
        "{\n"
        '    "predictions": [\n'
        "        {\n"
        '            "a": 1.0,\n'
        '            "b": [1, 2]\n'
        "        },\n"
        "        {\n"
        '            "a": 2.0,\n'
        '            "b": [3, 4]\n'
        "        }\n"
        "    ]\n"
        "}"
    )


def test_columnar_output_is_expanded_one_value_per_line() -> None:
    body = columnar(np.array([2.5, 3.0], dtype=np.float32))
    assert body == b'{\n    "outputs": [\n        2.5,\n        3.0\n    ]\n}'


def test_columnar_nested_output_expands_every_level() -> None:
    body = columnar(np.array([[1.0], [2.0]], dtype=np.float32))
    assert body.decode() == (
        '{\n    "outputs": [\n        [\n            1.0\n        ],\n'
        "        [\n            2.0\n        ]\n    ]\n}"
    )


def test_columnar_scalar_and_empty_outputs() -> None:
    assert columnar(np.float32(2.5)) == b'{\n    "outputs": 2.5\n}'
    assert columnar(np.zeros((0,), dtype=np.float32)) == b'{\n    "outputs": []\n}'


def test_several_columnar_outputs_are_members_of_outputs() -> None:
    body = encode_predict_response(
        {"a": np.array([1.5], dtype=np.float32), "b": np.array(7, dtype=np.int32)},
        {"a": "float", "b": "int32"},
        False,
    )
    assert body.decode() == (
        '{\n    "outputs": {\n        "a": [\n            1.5\n        ],\n        "b": 7\n    }\n}'
    )


def test_zero_batch_row_output_is_an_empty_list() -> None:
    assert row(np.zeros((0, 3), dtype=np.float32)) == b'{\n    "predictions": []\n}'


def test_worked_example_outputs_of_half_plus_two() -> None:
    assert json.loads(row(np.array([2.5, 3.0], dtype=np.float32))) == {"predictions": [2.5, 3.0]}
    assert json.loads(columnar(np.array([2.5, 3.0], dtype=np.float32))) == {"outputs": [2.5, 3.0]}


def test_float_values_use_six_digits_unless_they_would_not_round_trip() -> None:
    values = np.array([[9000000, 999999, 0.5], [0.0003, 0.00003, 555557.5]], dtype=np.float32)
    assert row(values) == (
        b'{\n    "predictions": [[9e+06, 999999.0, 0.5], [0.0003, 3e-05, 555557.5]\n    ]\n}'
    )


def test_float32_values_print_as_write_decimal_prints_them() -> None:
    values = np.array([0.1, 2.5, 3.0, 1 / 3, -0.0], dtype=np.float32)
    assert row(values) == b'{\n    "predictions": [0.1, 2.5, 3.0, 0.333333343, -0.0\n    ]\n}'


def test_double_values_fall_back_to_seventeen_digits() -> None:
    body = row(np.array([0.1, 1 / 3, 3.0], dtype=np.float64), "double")
    assert body == b'{\n    "predictions": [0.1, 0.33333333333333331, 3.0\n    ]\n}'


def test_non_finite_values_are_bare_tokens() -> None:
    body = row(np.array([np.nan, np.inf, -np.inf], dtype=np.float32))
    assert body == b'{\n    "predictions": [NaN, Infinity, -Infinity\n    ]\n}'


def test_integer_and_boolean_outputs() -> None:
    assert row(np.array([-3, 200], dtype=np.int32), "int32") == (
        b'{\n    "predictions": [-3, 200\n    ]\n}'
    )
    assert row(np.array([2**64 - 1], dtype=np.uint64), "uint64") == (
        b'{\n    "predictions": [18446744073709551615\n    ]\n}'
    )
    assert row(np.array([True, False]), "bool") == b'{\n    "predictions": [true, false\n    ]\n}'


def test_string_outputs_are_written_raw_with_json_escapes() -> None:
    body = row(np.array([b'say "hi"\n', "é".encode(), b"\xff"], dtype=object), "string")
    assert body == b'{\n    "predictions": ["say \\"hi\\"\\n", "\xc3\xa9", "\xff"\n    ]\n}'


def test_string_outputs_named_bytes_are_base64_objects() -> None:
    body = row(np.array([b"a", b"b"], dtype=object), "string", name="out_bytes")
    assert body.decode() == (
        '{\n    "predictions": [{\n            "b64": "YQ=="\n        }, {\n'
        '            "b64": "Yg=="\n        }\n    ]\n}'
    )


def test_columnar_bytes_output_is_a_base64_object_value() -> None:
    body = columnar(np.array(b"hi", dtype=object), "string", name="image_bytes")
    assert body == b'{\n    "outputs": {\n        "b64": "aGk="\n    }\n}'


def test_no_outputs_cannot_be_written() -> None:
    assert invalid({}, {}, True) == "Cannot convert empty tensor map to JSON"


def test_scalar_output_has_no_shape_in_row_format() -> None:
    message = invalid({"y": np.float32(1.0)}, {"y": "float"}, True)
    assert message == "Tensor name: y has no shape information "


def test_outputs_must_share_the_batch_size_in_row_format() -> None:
    outputs = {"a": np.zeros(3, dtype=np.float32), "b": np.zeros(2, dtype=np.float32)}
    message = invalid(outputs, {"a": "float", "b": "float"}, True)
    assert message == "Tensor name: b has inconsistent batch size: 2 expecting: 3"


def test_outputs_without_a_json_form_fail_to_write() -> None:
    message = invalid({"y": np.zeros(2, dtype=np.float16)}, {"y": "half"}, False)
    assert message == "Failed to write JSON value for tensor type: half"


def test_a_large_float_output_round_trips_through_json() -> None:
    rng = np.random.default_rng(3)
    scores = rng.random((256, 10), dtype=np.float32)
    decoded = json.loads(row(scores))
    assert np.array_equal(np.array(decoded["predictions"], dtype=np.float32), scores)
