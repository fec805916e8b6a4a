"""Classify/regress bodies become tf.train.Examples and results become JSON.

As ``util/json_tensor.cc`` does it (``FillClassifyRegressRequestFromJson``,
``MakeExampleFromJsonObject``, ``AddValueToFeature``, ``MakeJsonFromClassificationResult``,
``MakeJsonFromRegressionResult``), with the texts of ``json_tensor.cc`` and its test.
"""

from __future__ import annotations

import pytest
import tensorflow as tf
from tensorflow.core.example import example_pb2

from fashion.serving.codec.examples_request import read_examples_request
from fashion.serving.codec.examples_response import (
    encode_classify_response,
    encode_regress_response,
)
from tests.support.status_errors import invalid_argument, status_error


def invalid(body: str | bytes) -> str:
    """The message of the INVALID_ARGUMENT (HTTP 400) that reading ``body`` raises."""
    return invalid_argument(read_examples_request, body.encode() if isinstance(body, str) else body)


def features(body: str) -> list[dict[str, tuple[str | None, list]]]:
    """Each fed example as {name: (kind, values)}."""
    request = read_examples_request(body.encode())
    decoded = []
    for serialized in request.examples:
        example = example_pb2.Example.FromString(serialized)
        decoded.append(
            {
                name: (
                    feature.WhichOneof("kind"),
                    list(getattr(feature, feature.WhichOneof("kind")).value)
                    if feature.WhichOneof("kind")
                    else [],
                )
                for name, feature in example.features.feature.items()
            }
        )
    return decoded


def test_signature_name_is_read_and_defaults_to_serving_default() -> None:
    assert read_examples_request(b'{"examples": [{}]}').signature_key == "serving_default"
    named = read_examples_request(b'{"signature_name": "regress_x_to_y", "examples": [{}]}')
    assert named.signature_name == "regress_x_to_y"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(
            '{"signature_name": 1, "examples": [{}]}',
            'JSON Value: {\n    "signature_name": 1,\n    "examples": [{}]\n} not formatted '
            "correctly. 'signature_name' key must be a string value.",
            id="signature-name-must-be-a-string",
        ),
        pytest.param(
            '{"signature_name": "s"}',
            'JSON Value: {\n    "signature_name": "s"\n} When method is classify, key \'examples\' '
            "is expected and was not found",
            id="missing-examples-mentions-classify-even-for-regress",
        ),
        pytest.param(
            '{"examples": {}}',
            "JSON Value: {\n    \"examples\": {}\n} Expecting 'examples' value to be an list/array",
            id="examples-must-be-an-array",
        ),
        pytest.param(
            '{"examples": []}',
            "JSON Value: {\n    \"examples\": []\n} 'examples' value is an empty array",
            id="examples-must-not-be-empty",
        ),
        pytest.param(
            '{"context": "x", "examples": [{}]}',
            "Example must be JSON object but got JSON String",
            id="context-must-be-an-object",
        ),
        pytest.param(
            '{"examples": [{"x": 9223372036854775808}]}',
            "Feature: x has uint64_t element. Only int64_t is supported.",
            id="integers-beyond-int64-are-rejected",
        ),
        pytest.param(
            '{"examples": [{"x": {"b64": "a"}}]}',
            "Unable to base64 decode",
            id="undecodable-base64-feature",
        ),
    ],
)
def test_each_malformed_body_is_refused_with_tf_servings_text(body: str, message: str) -> None:
    """Each case fails one check of ``FillClassifyRegressRequestFromJson`` or
    ``MakeExampleFromJsonObject``, and its whole message is TF Serving's."""
    assert invalid(body) == message


def test_parse_errors_are_reported_as_for_predict() -> None:
    assert invalid(b"") == "JSON Parse error: The document is empty"
    assert invalid(b"[]") == "JSON Value: [] Is not object"


@pytest.mark.parametrize(
    ("item", "json_type"), [("[]", "Array"), ("1", "Number"), ('"x"', "String"), ("null", "Null")]
)
def test_each_example_must_be_an_object(item: str, json_type: str) -> None:
    message = invalid(f'{{"examples": [{{}}, {item}]}}')
    assert message == f"Example must be JSON object but got JSON {json_type}"


def test_values_become_features_of_the_matching_kind() -> None:
    body = (
        '{"examples": [{"s": "abc", "b": {"b64": "aGk="}, "f": 2.0, "e": 1e3, "i": 2,'
        ' "n": -5, "t": true, "l": [1, false], "fl": [1.5, NaN], "empty": []}]}'
    )
    (example,) = features(body)
    assert example["s"] == ("bytes_list", [b"abc"])
    assert example["b"] == ("bytes_list", [b"hi"])
    assert example["f"] == ("float_list", [2.0])
    assert example["e"] == ("float_list", [1000.0])
    assert example["i"] == ("int64_list", [2])
    assert example["n"] == ("int64_list", [-5])
    assert example["t"] == ("int64_list", [1])
    assert example["l"] == ("int64_list", [1, 0])
    assert example["fl"][0] == "float_list"
    assert example["fl"][1][0] == 1.5
    assert example["fl"][1][1] != example["fl"][1][1]  # NaN
    assert example["empty"] == (None, [])


@pytest.mark.parametrize(
    ("value", "json_type"), [("null", "Null"), ("[[1]]", "Array"), ('{"a": 1}', "Object")]
)
def test_unusable_feature_values_are_rejected(value: str, json_type: str) -> None:
    assert invalid(f'{{"examples": [{{"x": {value}}}]}}') == (
        f"Feature: x has element with unexpected JSON type: {json_type}"
    )


@pytest.mark.parametrize(
    ("values", "kind"), [("[10, 10.0]", "int64"), ('["a", 1]', "bytes"), ('[1.5, "a"]', "float")]
)
def test_mixed_kinds_in_one_feature_are_rejected(values: str, kind: str) -> None:
    assert invalid(f'{{"examples": [{{"x": {values}}}]}}') == (
        f"Unexpected element type in feature: x expecting type: {kind}"
    )


def test_context_is_merged_into_every_example_and_examples_win() -> None:
    body = '{"context": {"c": "ctx", "x": 1.0}, "examples": [{"x": 2.0}, {"y": 3}]}'
    first, second = features(body)
    assert first == {"c": ("bytes_list", [b"ctx"]), "x": ("float_list", [2.0])}
    assert second == {
        "c": ("bytes_list", [b"ctx"]),
        "x": ("float_list", [1.0]),
        "y": ("int64_list", [3]),
    }


def test_a_feature_named_in_invalid_utf8_keeps_its_bytes_beside_the_others() -> None:
    # TF Serving's C++ map takes the body's bytes as the key; ParseExample reads keys as bytes.
    body = b'{"examples": [{"\xff\xfe": 1, "x": 2.0, "\xff\xfe": 3}]}'
    (serialized,) = read_examples_request(body).examples
    assert serialized.count(b"\xff\xfe") == 1  # the later member of the same name won
    parsed = tf.io.parse_example(
        [serialized], {"x": tf.io.FixedLenFeature([1], tf.float32)}
    )  # the wire format TensorFlow's own parser reads
    assert parsed["x"].numpy().tolist() == [[2.0]]
    twin = example_pb2.Example()
    twin.features.feature["k"].int64_list.value.append(3)
    entry = twin.features.feature["k"].SerializeToString()
    assert entry in serialized  # the byte-named feature's value is the later one, 3


def test_other_top_level_keys_are_ignored() -> None:
    assert len(read_examples_request(b'{"examples": [{}, {}], "other": 1}').examples) == 2


def test_classify_response_layout() -> None:
    assert encode_classify_response([[(b"", 3.0)]]) == (b'{\n    "results": [[["", 3.0]]\n    ]\n}')


def test_classify_response_with_several_examples_and_classes() -> None:
    body = encode_classify_response([[("a", 0.25), ("b", 0.75)], [("a", 1.0), ("b", 0.0)]])
    assert body == (
        b'{\n    "results": [[["a", 0.25], ["b", 0.75]], [["a", 1.0], ["b", 0.0]]\n    ]\n}'
    )


def test_regress_response_layout() -> None:
    assert encode_regress_response([3.0, 3.5]) == b'{\n    "results": [3.0, 3.5]\n}'


def test_result_values_use_the_decimal_rules() -> None:
    assert encode_regress_response([float("nan"), 1 / 3]) == (
        b'{\n    "results": [NaN, 0.333333343]\n}'
    )


def test_empty_results_cannot_be_written() -> None:
    classify = status_error(encode_classify_response, [])
    assert classify.message == "Cannot convert empty ClassificationResults to JSON"
    regress = status_error(encode_regress_response, [])
    assert regress.message == "Cannot convert empty RegressionResults to JSON"
