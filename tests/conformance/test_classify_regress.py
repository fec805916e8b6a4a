"""Classify and regress, from tf.Example JSON to ``results``.

Requests are read by ``util/json_tensor.cc`` (``FillClassifyRegressRequestFromJson``,
``MakeExampleFromJsonObject``), signatures checked by ``servables/tensorflow/classifier.cc`` and
``regressor.cc``, results written by ``MakeJsonFromClassificationResult`` and
``MakeJsonFromRegressionResult``.

Model ``parser`` reads the serialised examples (input key ``inputs``) with a required float
feature ``x`` of shape [1]:

- ``serving_default``: classes ``["neg", "pos"]``, scores ``[x, 2x]``;
- ``classify_scores``: scores ``0.5 x + 2`` only; ``regress_x``: outputs ``0.5 x + 2``;
- ``three_outputs``, ``inputs_to_y``, ``predict_x``, ``two_inputs``: signatures that break one
  requirement each of classifier.cc's or regressor.cc's signature checks;
- ``regress_wide``, ``regress_doubled``, ``classify_flat``, ``classify_doubled``: outputs whose
  shapes fail the checks after the run (shapes [n, 2], [2n, 1], [n], [2n, 2]).
"""

from __future__ import annotations

import pytest

from tests.support.rest_probe import RestProbe

pytestmark = pytest.mark.server


def test_classify_returns_label_score_pairs_in_class_order(zoo: RestProbe) -> None:
    reply = zoo.call("parser", "classify", {"examples": [{"x": 1.0}, {"x": 2.5}]})
    assert (reply.status, reply.json()) == (
        200,
        {"results": [[["neg", 1.0], ["pos", 2.0]], [["neg", 2.5], ["pos", 5.0]]]},
    )


def test_classify_without_classes_gives_empty_labels_and_rapidjsons_layout(
    zoo: RestProbe,
) -> None:
    reply = zoo.call(
        "parser", "classify", {"signature_name": "classify_scores", "examples": [{"x": 2.0}]}
    )
    assert (reply.status, reply.body) == (200, b'{\n    "results": [[["", 3.0]]\n    ]\n}')


def test_regress_returns_one_number_per_example_in_rapidjsons_layout(zoo: RestProbe) -> None:
    reply = zoo.call(
        "parser", "regress", {"signature_name": "regress_x", "examples": [{"x": 2.0}, {"x": 3.0}]}
    )
    assert (reply.status, reply.body) == (200, b'{\n    "results": [3.0, 3.5]\n}')


def test_example_features_override_context_features(zoo: RestProbe) -> None:
    reply = zoo.call(
        "parser",
        "regress",
        {"signature_name": "regress_x", "context": {"x": 1.0}, "examples": [{}, {"x": 3.0}]},
    )
    assert (reply.status, reply.json()) == (200, {"results": [2.5, 3.5]})


def test_a_feature_given_as_a_one_element_list_is_the_same_feature(zoo: RestProbe) -> None:
    reply = zoo.call(
        "parser", "regress", {"signature_name": "regress_x", "examples": [{"x": [4.0]}]}
    )
    assert (reply.status, reply.json()) == (200, {"results": [4.0]})


def test_an_integer_feature_fails_inside_the_float_parser_with_a_400(zoo: RestProbe) -> None:
    reply = zoo.call("parser", "regress", {"signature_name": "regress_x", "examples": [{"x": 2}]})
    assert reply.status == 400, reply
    assert reply.error  # TensorFlow's own text: not part of TF Serving's contract


def test_a_missing_required_feature_is_a_400(zoo: RestProbe) -> None:
    reply = zoo.call("parser", "regress", {"signature_name": "regress_x", "examples": [{"y": 1.0}]})
    assert reply.status == 400, reply
    assert reply.error


def test_non_finite_scores_use_the_float_tokens(zoo: RestProbe) -> None:
    reply = zoo.call(
        "parser",
        "regress",
        b'{"signature_name": "regress_x", "examples": [{"x": Infinity}, {"x": NaN}]}',
    )
    assert (reply.status, reply.body) == (200, b'{\n    "results": [Infinity, NaN]\n}')


@pytest.mark.parametrize("verb", ["classify", "regress"])
@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            b"{}",
            "JSON Value: {} When method is classify, key 'examples' is expected and was not found",
        ),
        (
            b'{"examples": {}}',
            "JSON Value: {\n    \"examples\": {}\n} Expecting 'examples' value to be an list/array",
        ),
        (
            b'{"examples": []}',
            "JSON Value: {\n    \"examples\": []\n} 'examples' value is an empty array",
        ),
        (b'{"examples": [1]}', "Example must be JSON object but got JSON Number"),
        (b'{"examples": [[]]}', "Example must be JSON object but got JSON Array"),
        (
            b'{"context": "c", "examples": [{"x": 1.0}]}',
            "Example must be JSON object but got JSON String",
        ),
        (
            b'{"examples": [{"x": null}]}',
            "Feature: x has element with unexpected JSON type: Null",
        ),
        (
            b'{"examples": [{"x": [[1.0]]}]}',
            "Feature: x has element with unexpected JSON type: Array",
        ),
        (
            b'{"examples": [{"x": {"a": 1}}]}',
            "Feature: x has element with unexpected JSON type: Object",
        ),
        (
            b'{"examples": [{"x": [10, 10.0]}]}',
            "Unexpected element type in feature: x expecting type: int64",
        ),
        (
            b'{"examples": [{"x": [1.0, "a"]}]}',
            "Unexpected element type in feature: x expecting type: float",
        ),
        (
            b'{"examples": [{"x": ["a", true]}]}',
            "Unexpected element type in feature: x expecting type: bytes",
        ),
        (
            b'{"examples": [{"x": 18446744073709551615}]}',
            "Feature: x has uint64_t element. Only int64_t is supported.",
        ),
        (b'{"examples": [{"x": {"b64": "!!"}}]}', "Unable to base64 decode"),
        (
            b'{"signature_name": 5}',
            'JSON Value: {\n    "signature_name": 5\n} not '
            "formatted correctly. 'signature_name' key must be a string value.",
        ),
    ],
)
def test_body_errors_win_even_over_an_unknown_model(
    zoo: RestProbe, verb: str, body: bytes, error: str
) -> None:
    for model in ("parser", "nope"):
        reply = zoo.call(model, verb, body)
        assert (reply.status, reply.error) == (400, error), model


@pytest.mark.parametrize("verb", ["classify", "regress"])
def test_a_valid_body_for_an_unknown_model_is_servable_not_found(zoo: RestProbe, verb: str) -> None:
    reply = zoo.call("nope", verb, {"examples": [{"x": 1.0}]})
    assert (reply.status, reply.error) == (404, "Servable not found for request: Latest(nope)")


@pytest.mark.parametrize("verb", ["classify", "regress"])
def test_an_unknown_signature_is_no_signature_was_found(zoo: RestProbe, verb: str) -> None:
    reply = zoo.call("parser", verb, {"signature_name": "nope", "examples": [{"x": 1.0}]})
    assert (reply.status, reply.error) == (400, "No signature was found with the name: nope")


@pytest.mark.parametrize("verb", ["classify", "regress"])
def test_a_signature_with_two_inputs_expects_one_input_tensor(zoo: RestProbe, verb: str) -> None:
    reply = zoo.call("parser", verb, {"signature_name": "two_inputs", "examples": [{"x": 1.0}]})
    assert (reply.status, reply.error) == (400, "Expected one input Tensor.")


def test_classify_with_three_outputs_expects_one_or_two(zoo: RestProbe) -> None:
    body = {"signature_name": "three_outputs", "examples": [{"x": 1.0}]}
    reply = zoo.call("parser", "classify", body)
    assert (reply.status, reply.error) == (400, "Expected one or two output Tensors, found 3")


def test_regress_with_two_outputs_expects_one(zoo: RestProbe) -> None:
    reply = zoo.call("parser", "regress", {"examples": [{"x": 1.0}]})
    assert (reply.status, reply.error) == (400, "Expected one output Tensor.")


@pytest.mark.parametrize(
    ("model", "verb", "body", "prefix"),
    [
        (
            "half",
            "classify",
            {"examples": [{"x": 2.0}]},
            "No classification inputs found in SignatureDef: ",
        ),
        (
            "half",
            "regress",
            {"examples": [{"x": 2.0}]},
            "No regression inputs found in SignatureDef: ",
        ),
        (
            "parser",
            "classify",
            {"signature_name": "inputs_to_y", "examples": [{"x": 2.0}]},
            'Expected classification signature outputs to contain at least one of "classes" or '
            '"scores". Signature was: ',
        ),
        (
            "parser",
            "regress",
            {"signature_name": "inputs_to_y", "examples": [{"x": 2.0}]},
            "No regression outputs found in SignatureDef: ",
        ),
    ],
)
def test_signature_key_requirements_name_the_signature(
    zoo: RestProbe, model: str, verb: str, body: dict[str, object], prefix: str
) -> None:
    reply = zoo.call(model, verb, body)
    assert reply.status == 400, reply
    # The tail is the SignatureDef's protobuf debug text, whose exact spacing is protobuf's.
    assert reply.error.startswith(prefix), reply.error
    assert len(reply.error) > len(prefix)


@pytest.mark.parametrize(
    ("verb", "signature", "error"),
    [
        (
            "regress",
            "regress_wide",
            "Expected output Tensor shape to be either [batch_size] or [batch_size, 1] but got "
            "[1,2]",
        ),
        ("regress", "regress_doubled", "Input batch size did not match output batch size: 1 vs. 2"),
        (
            "classify",
            "classify_flat",
            "Expected Tensor shape: [batch_size num_classes] but got [1]",
        ),
        ("classify", "classify_doubled", "Expected scores output batch size of 1. Got: 2"),
    ],
)
def test_outputs_of_the_wrong_shape_are_rejected_after_the_run(
    zoo: RestProbe, verb: str, signature: str, error: str
) -> None:
    reply = zoo.call("parser", verb, {"signature_name": signature, "examples": [{"x": 1.0}]})
    assert (reply.status, reply.error) == (400, error)
