"""Predict bodies become input tensors: the order of TF Serving's checks, the request's structure
(``instances`` or ``inputs``), and its worked examples.

Texts and order as in ``util/json_tensor.cc`` (``FillPredictRequestFromJson``) and
``model_servers/http_rest_api_handler.cc`` (``ProcessPredictRequest``); examples from
``json_tensor_test.cc`` and ``http_rest_api_handler_test.cc``. Value conversion is in
test_predict_request_values.py.
"""

from __future__ import annotations

import json

import numpy as np
import orjson
import pytest

from fashion.serving.codec.predict_request import read_predict_request
from tests.support.predict_decoding import decode, invalid, only
from tests.support.status_errors import status_error

# --- steps 2-4: before the model is resolved ------------------------------------------------


def test_empty_body_fails_before_any_model_lookup() -> None:
    message = status_error(read_predict_request, b"").message
    assert message == "JSON Parse error: The document is empty"


def test_top_level_array_is_not_an_object() -> None:
    assert status_error(read_predict_request, b"[]").message == "JSON Value: [] Is not object"


def test_signature_name_must_be_a_string() -> None:
    assert status_error(read_predict_request, b'{"signature_name": 100}').message == (
        "JSON Value: {\n    \"signature_name\": 100\n} not formatted correctly. 'signature_name' "
        "key must be a string value."
    )


def test_empty_or_absent_signature_name_means_serving_default() -> None:
    assert read_predict_request(b'{"signature_name": ""}').signature_key == "serving_default"
    assert read_predict_request(b"{}").signature_name == ""
    assert read_predict_request(b'{"signature_name": "sig"}').signature_key == "sig"


def test_duplicate_signature_name_uses_the_first() -> None:
    body = b'{"signature_name": "first", "signature_name": "second"}'
    assert read_predict_request(body).signature_name == "first"


# --- steps 7-8: request structure -------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "inputs", "message"),
    [
        pytest.param(
            '{"instances": [1.0]}',
            {},
            "Failed to get input map for signature: DEFAULT",
            id="signature-without-inputs-names-default-when-no-signature-was-given",
        ),
        pytest.param(
            '{"signature_name": "sig", "instances": [1.0]}',
            {},
            "Failed to get input map for signature: sig",
            id="signature-without-inputs-names-the-requested-signature",
        ),
        pytest.param(
            '{"instances": [1.0], "inputs": [1.0]}',
            None,
            'JSON Value: {\n    "instances": [1.0],\n    "inputs": [1.0]\n} Not formatted '
            "correctly expecting only one of 'inputs' or 'instances' keys to exist ",
            id="instances-and-inputs-together-are-rejected-with-trailing-space",
        ),
        pytest.param(
            '{"other": 1}',
            None,
            "Missing 'inputs' or 'instances' key",
            id="missing-instances-and-inputs",
        ),
        pytest.param(
            '{"instances": 5}',
            None,
            "JSON Value: {\n    \"instances\": 5\n} Expecting 'instances' to be an list/array",
            id="instances-must-be-an-array",
        ),
        pytest.param(
            '{"instances": []}',
            None,
            "JSON Value: {\n    \"instances\": []\n} No values in 'instances' array",
            id="empty-instances-are-rejected",
        ),
        pytest.param(
            '{"instances": [1.0]}',
            {"a": "float", "b": "float"},
            "instances is a plain list, but expecting list of objects as multiple input tensors "
            "required as per tensorinfo_map",
            id="plain-instances-need-a-single-input-signature",
        ),
        pytest.param(
            '{"instances": [{"x": 1.0}, [2.0]]}',
            None,
            "Expecting object but got list at item 1 of input list",
            id="object-instances-require-objects-throughout",
        ),
        pytest.param(
            '{"instances": [1.0, {"x": 2.0}]}',
            None,
            "Expecting value/list but got object at item 1 of input list",
            id="plain-instances-reject-later-objects",
        ),
        pytest.param(
            '{"instances": [{"x": 1.0, "age": 3}]}',
            None,
            "Failed to process element: 0 key: age of 'instances' list. Error: INVALID_ARGUMENT: "
            "JSON object: does not have named input: age",
            id="unknown-key-in-an-instance-object",
        ),
        pytest.param(
            '{"instances": [{"b": 1.0, "a": 2.0}, {"a": 1.0}]}',
            {"b": "float", "a": "float"},
            "Failed to process element: 1 of 'instances' list. JSON object: "
            '{\n    "a": 1.0\n} keys must be equal to: a,b',
            id="instance-object-keys-must-equal-the-input-names",
        ),
        pytest.param(
            '{"instances": [{"zzz": 1.0}]}',
            {"a": "float", "b": "float"},
            "Failed to process element: 0 key: zzz of 'instances' list. Error: INVALID_ARGUMENT: "
            "JSON object: does not have named input: zzz",
            id="unknown-key-is-reported-before-a-missing-one",
        ),
        pytest.param(
            '{"instances": [[1.0, 2.0], [3.0]]}',
            None,
            "Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: Expecting "
            "tensor size: 2 but got: 1",
            id="instances-with-different-element-counts",
        ),
        pytest.param(
            '{"instances": [1, [1]]}',
            None,
            "Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: Expecting "
            "shape [] but got: [1]",
            id="scalar-then-list-instances-differ-in-shape",
        ),
        pytest.param(
            '{"instances": [[[1, 2], [3, 4]], [[1, 2, 3, 4]]]}',
            None,
            "Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: Expecting "
            "shape [2,2] but got: [1,4]",
            id="instances-with-same-size-but-different-shape",
        ),
        pytest.param(
            '{"instances": [{"x": [1.0, 2.0]}, {"x": [3.0]}]}',
            None,
            "Failed to process element: 1 key: x of 'instances' list. Error: INVALID_ARGUMENT: "
            "Expecting tensor size: 2 but got: 1",
            id="named-instance-errors-name-the-key",
        ),
        pytest.param(
            '{"instances": [[[1, 2], [3]]]}',
            None,
            "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: "
            "Encountered list at unexpected size: 1 at level: 1 expected size: 2",
            id="ragged-element-fails-inside-the-element",
        ),
        pytest.param(
            '{"inputs": [[1, 2], 3]}',
            None,
            "JSON Value: 3 found at incorrect level: 2 in the JSON DOM. Expected at level: 2",
            id="scalar-above-the-leaf-level-reports-the-odd-level-numbers",
        ),
        pytest.param(
            '{"inputs": [1, [2]]}',
            None,
            "Encountered list at unexpected level: 1 expected < 1",
            id="list-below-the-leaf-level",
        ),
        pytest.param(
            '{"inputs": [1.0]}',
            {"a": "float", "b": "float"},
            "inputs is a plain value/list, but expecting an object as multiple input tensors "
            "required as per tensorinfo_map",
            id="columnar-plain-value-needs-a-single-input-signature",
        ),
        pytest.param(
            '{"inputs": {"c": [1.0]}}',
            {"b": "float", "a": "float", "c": "float"},
            "Missing named input: b in 'inputs' object.",
            id="columnar-missing-input-is-checked-in-signature-order",
        ),
        pytest.param(
            '{"inputs": {"x": ["s"]}}',
            None,
            'JSON Value: "s" Type: String is not of expected type: float',
            id="columnar-element-errors-are-not-wrapped",
        ),
    ],
)
def test_each_malformed_request_structure_is_refused_with_tf_servings_text(
    body: str, inputs: dict[str, str] | None, message: str
) -> None:
    """Each case fails one check of ``FillPredictRequestFromJson`` and its whole message is
    TF Serving's (``inputs`` None: half_plus_two's one float input ``x``)."""
    assert invalid(body, inputs) == message


# --- worked examples and formats ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "shape", "values", "row_format"),
    [
        ('{"instances": [1.0, 2.0, 5.0]}', (3,), [1.0, 2.0, 5.0], True),
        ('{"instances": [[1.0, 2.0], [3.0, 4.0]]}', (2, 2), [[1.0, 2.0], [3.0, 4.0]], True),
        ('{"instances": [{"x": 1.0}, {"x": 2.0}]}', (2,), [1.0, 2.0], True),
        ('{"inputs": [1.0, 2.0]}', (2,), [1.0, 2.0], False),
        ('{"inputs": {"x": [1.0, 2.0]}}', (2,), [1.0, 2.0], False),
        ('{"inputs": 1.0}', (), 1.0, False),
        ('{"inputs": []}', (0,), [], False),
    ],
)
def test_worked_examples_of_half_plus_two(
    body: str, shape: tuple[int, ...], values: object, row_format: bool
) -> None:
    decoded = decode(body)
    assert decoded.row_format is row_format
    assert list(decoded.tensors) == ["x"]
    assert decoded.tensors["x"].dtype == np.float32
    assert decoded.tensors["x"].shape == shape
    assert decoded.tensors["x"].tolist() == values


def test_element_shape_is_not_checked_against_the_signature() -> None:
    assert only(decode('{"instances": [[1.0, 2.0], [3.0, 4.0]]}')).shape == (2, 2)


def test_named_instances_batch_every_input() -> None:
    body = '{"instances": [{"a": [1, 2], "b": "x"}, {"b": "y", "a": [3, 4]}]}'
    tensors = decode(body, {"a": "int64", "b": "string"}).tensors
    assert tensors["a"].tolist() == [[1, 2], [3, 4]]
    assert tensors["b"].tolist() == [b"x", b"y"]


def test_columnar_inputs_may_differ_in_first_dimension_and_ignore_extra_keys() -> None:
    body = '{"inputs": {"a": [1.0], "b": [[1, 2], [3, 4]], "extra": "ignored"}}'
    tensors = decode(body, {"a": "float", "b": "int32"}).tensors
    assert tensors["a"].shape == (1,)
    assert tensors["b"].shape == (2, 2)


def test_duplicate_instances_key_uses_the_first_occurrence() -> None:
    assert only(decode('{"instances": [1.0], "instances": [2.0, 3.0]}')).tolist() == [1.0]


def test_duplicate_name_in_the_inputs_object_uses_the_first_occurrence() -> None:
    assert only(decode('{"inputs": {"x": [1.0], "x": [2.0, 3.0]}}')).tolist() == [1.0]


def test_input_named_twice_in_one_instance_adds_its_values_twice() -> None:
    # json_tensor.cc appends both values to the request tensor, whose shape says [2];
    # TensorFlow's Tensor::FromProto then keeps the first two values.
    body = '{"instances": [{"x": 1.0, "x": 5.0}, {"x": 2.0}]}'
    assert only(decode(body)).tolist() == [1.0, 5.0]


def test_trailing_data_after_the_body_is_ignored() -> None:
    assert only(decode('{"instances": [1.0]} this is ignored')).tolist() == [1.0]


def test_a_large_row_request_decodes_exactly_like_numpy() -> None:
    rng = np.random.default_rng(7)
    images = rng.random((256, 28, 28, 1), dtype=np.float32)
    body = orjson.dumps({"instances": images.tolist()})
    tensor = only(decode(body))
    assert tensor.dtype == np.float32
    assert tensor.shape == (256, 28, 28, 1)
    assert np.array_equal(tensor, images)


def test_a_large_named_row_request_decodes_every_instance() -> None:
    rng = np.random.default_rng(8)
    images = rng.random((16, 4, 4), dtype=np.float32)
    body = orjson.dumps({"instances": [{"x": image.tolist()} for image in images]})
    assert np.array_equal(only(decode(body)), images)


def test_large_integer_request_with_one_float_is_rejected_at_that_value() -> None:
    values = list(range(1000))
    body = json.dumps({"inputs": values}).replace("999", "999.5")
    assert invalid(body, {"x": "int64"}) == (
        "JSON Value: 999.5 Type: Number is not of expected type: int64"
    )


def test_boolean_cannot_hide_behind_an_escaped_key() -> None:
    body = '{"instances": [1.0, false], "x\\u0074": 1}'
    assert invalid(body) == (
        "Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: JSON Value: "
        "false Type: False is not of expected type: float"
    )


def test_zero_with_a_huge_exponent_is_too_big_for_rapidjson() -> None:
    assert invalid('{"instances": [0.0, 0E+400]}') == (
        "JSON Parse error: Number too big to be stored in double. at offset: 20"
    )


def test_duplicate_key_inside_instance_objects_of_a_large_request() -> None:
    body = (
        '{"instances": ['
        + ", ".join(['{"x": [1.0, 2.0]}'] * 50)
        + ', {"x": [3.0, 4.0], "x": [5.0, 6.0]}]}'
    )
    tensor = only(decode(body))
    assert tensor.shape == (51, 2)
    assert tensor[-1].tolist() == [3.0, 4.0]


def test_a_dense_body_with_a_number_rapidjson_finds_too_big_fails_as_rapidjson_does() -> None:
    """orjson reads 400 nines scaled by 1e-300 as 1e100; rapidjson stops in the integer part."""
    body = b'{"instances": [[1.0, ' + b"9" * 400 + b"e-300]]}"
    assert status_error(read_predict_request, body).message == (
        "JSON Parse error: Number too big to be stored in double. at offset: 21"
    )
