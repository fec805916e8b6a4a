"""The model metadata API: resolution, the doubled ``signature_def`` key, the proto field names,
and the glued-together bytes of ``http_rest_api_handler.cc`` (``ProcessModelMetadataRequest``)."""

from __future__ import annotations

import pytest

from tests.support.rest_probe import RestProbe

pytestmark = pytest.mark.server

UNKNOWN_RANK = {"dim": [], "unknown_rank": True}


def _info(name: str, dtype: str, shape: dict[str, object]) -> dict[str, object]:
    return {"dtype": dtype, "tensor_shape": shape, "name": name}


def _dims(*sizes: int) -> dict[str, object]:
    return {"dim": [{"size": str(size), "name": ""} for size in sizes], "unknown_rank": False}


HALF_SIGNATURES = {
    "serving_default": {
        "inputs": {"x": _info("x:0", "DT_FLOAT", UNKNOWN_RANK)},
        "outputs": {"y": _info("y:0", "DT_FLOAT", UNKNOWN_RANK)},
        "method_name": "tensorflow/serving/predict",
        "defaults": {},
    }
}


def test_metadata_has_the_model_spec_and_the_doubled_signature_def_key(zoo: RestProbe) -> None:
    reply = zoo.metadata("half")
    assert (reply.status, reply.json()) == (
        200,
        {
            "model_spec": {"name": "half", "signature_name": "", "version": "1"},
            "metadata": {"signature_def": {"signature_def": HALF_SIGNATURES}},
        },
    )


def test_metadata_bytes_are_the_glued_protobuf_pieces(zoo: RestProbe) -> None:
    reply = zoo.metadata("half")
    assert reply.status == 200, reply
    assert reply.body.startswith(
        b'{\n"model_spec":{\n "name": "half",\n "signature_name": "",\n "version": "1"\n}\n,\n'
        b'"metadata": {"signature_def": {\n "signature_def": {\n  "serving_default": {\n'
    ), reply.body
    assert reply.body.endswith(b"\n }\n}\n}\n}\n"), reply.body


def test_known_dimensions_are_int64_strings_with_empty_names(zoo: RestProbe) -> None:
    reply = zoo.metadata("parser")
    assert reply.status == 200, reply
    signatures = reply.json()["metadata"]["signature_def"]["signature_def"]
    assert signatures["regress_x"] == {
        "inputs": {"inputs": _info("examples:0", "DT_STRING", _dims(-1))},
        "outputs": {"outputs": _info("half_plus_two:0", "DT_FLOAT", _dims(-1, 1))},
        "method_name": "tensorflow/serving/regress",
        "defaults": {},
    }
    assert sorted(signatures) == [
        "classify_doubled",
        "classify_flat",
        "classify_scores",
        "inputs_to_y",
        "predict_x",
        "regress_doubled",
        "regress_wide",
        "regress_x",
        "serving_default",
        "three_outputs",
        "two_inputs",
    ]


def test_a_signature_without_inputs_or_outputs_shows_empty_maps(zoo: RestProbe) -> None:
    signatures = zoo.metadata("edge").json()["metadata"]["signature_def"]["signature_def"]
    assert signatures["serving_default"]["inputs"] == {}
    assert signatures["no_outputs"]["outputs"] == {}


@pytest.mark.parametrize(
    ("version", "label", "resolved"),
    [
        (None, None, "3"),
        (1, None, "1"),
        (2, None, "2"),
        (None, "first", "1"),
        (None, "second", "2"),
    ],
)
def test_metadata_resolves_latest_version_or_label_and_never_shows_the_label(
    zoo: RestProbe, version: int | None, label: str | None, resolved: str
) -> None:
    reply = zoo.metadata("policy_all", version=version, label=label)
    assert reply.status == 200, reply
    assert reply.json()["model_spec"] == {
        "name": "policy_all",
        "signature_name": "",
        "version": resolved,
    }


@pytest.mark.parametrize(
    ("model", "version", "label", "status", "error"),
    [
        ("nope", None, None, 404, "Servable not found for request: Latest(nope)"),
        ("nope", 3, None, 404, "Servable not found for request: Specific(nope, 3)"),
        ("half", 3, None, 404, "Servable not found for request: Specific(half, 3)"),
        ("half", None, "nope", 400, "Unrecognized servable version label: nope"),
        ("nope", None, "stable", 400, "Unrecognized servable version label: stable"),
        ("half", None, "ghost", 404, "Servable not found for request: Specific(half, 7)"),
        (
            "policy_latest2",
            1,
            None,
            404,
            "Servable not found for request: Specific(policy_latest2, 1)",
        ),
    ],
)
def test_metadata_resolution_errors(
    zoo: RestProbe, model: str, version: int | None, label: str | None, status: int, error: str
) -> None:
    reply = zoo.metadata(model, version=version, label=label)
    assert (reply.status, reply.error) == (status, error)
