"""Requests built from a signature alone, and the tf.Example features read from the graph; all
in-process (protos and the TF1 builder), no model server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tensorflow as tf
from tensorflow.core.protobuf import meta_graph_pb2, saved_model_pb2

from fashion.check import CheckOptions, parse_dim
from fashion.check.example_features import Feature, example_features
from fashion.check.request_builder import plan_signature
from tests.check.exports import write_multi_io_model
from tests.support.example_models import write_half_plus_two_model
from tests.support.savedmodels import save_session


def _meta_graph(path: Path) -> meta_graph_pb2.MetaGraphDef:
    saved_model = saved_model_pb2.SavedModel()
    saved_model.ParseFromString((path / "saved_model.pb").read_bytes())
    return saved_model.meta_graphs[0]


@pytest.fixture(scope="module")
def half_plus_two(tmp_path_factory: pytest.TempPathFactory) -> meta_graph_pb2.MetaGraphDef:
    return _meta_graph(write_half_plus_two_model(tmp_path_factory.mktemp("h") / "1"))


@pytest.fixture(scope="module")
def multi_io(tmp_path_factory: pytest.TempPathFactory) -> meta_graph_pb2.MetaGraphDef:
    return _meta_graph(write_multi_io_model(tmp_path_factory.mktemp("m") / "1"))


def _square_input_model(path: Path) -> meta_graph_pb2.MetaGraphDef:
    graph = tf.Graph()
    with graph.as_default():
        tokens = tf.compat.v1.placeholder(tf.int32, [None, None], name="tokens")
        total = tf.reduce_sum(tokens, axis=1, name="total")
        signature = tf.compat.v1.saved_model.predict_signature_def(
            {"tokens": tokens}, {"total": total}
        )
        with tf.compat.v1.Session(graph=graph) as session:
            save_session(path, graph, session, {"serving_default": signature})
    return _meta_graph(path)


def test_the_features_of_a_classify_signature_come_from_its_parse_example_node(
    half_plus_two: meta_graph_pb2.MetaGraphDef,
) -> None:
    signature = half_plus_two.signature_def["classify_x_to_y"]

    features = example_features(half_plus_two, signature.inputs["inputs"].name)

    assert features == [Feature("x", "float", "dense", (1,)), Feature("x2", "float", "dense", (1,))]


def test_classify_and_regress_requests_carry_one_example_per_batch_item(
    half_plus_two: meta_graph_pb2.MetaGraphDef,
) -> None:
    signature = half_plus_two.signature_def["regress_x_to_y"]

    plan = plan_signature("regress_x_to_y", signature, half_plus_two, CheckOptions(batch_size=3))

    assert [(r.api, r.check) for r in plan.requests] == [
        ("regress", "regress batch 1"),
        ("regress", "regress batch 3"),
    ]
    body = json.loads(plan.requests[1].body)
    assert body["signature_name"] == "regress_x_to_y"
    assert len(body["examples"]) == 3
    assert {key: len(value) for key, value in body["examples"][0].items()} == {"x": 1, "x2": 1}
    assert all(isinstance(value[0], float) for value in body["examples"][0].values())


def test_predict_requests_have_every_input_in_its_dtype_in_row_and_columnar_form(
    multi_io: meta_graph_pb2.MetaGraphDef,
) -> None:
    signature = multi_io.signature_def["serving_default"]

    plan = plan_signature("serving_default", signature, multi_io, CheckOptions())

    assert [r.check for r in plan.requests] == [
        "predict row batch 1",
        "predict columnar batch 1",
        "predict row batch 4",
        "predict columnar batch 4",
    ]
    row = json.loads(plan.requests[2].body)["instances"]
    assert len(row) == 4
    assert sorted(row[0]) == ["ids", "scale", "text"]
    assert [type(value) for value in row[0]["ids"]] == [int, int, int]
    assert isinstance(row[0]["text"], str)
    assert isinstance(row[0]["scale"][0], float)
    columns = json.loads(plan.requests[3].body)["inputs"]
    assert [len(columns[name]) for name in ("ids", "scale", "text")] == [4, 4, 4]
    # Row and columnar forms carry the same seeded values.
    assert [item["ids"] for item in row] == columns["ids"]


def test_unknown_dimensions_take_the_batch_size_or_the_dim_option(tmp_path: Path) -> None:
    meta_graph = _square_input_model(tmp_path / "1")
    signature = meta_graph.signature_def["serving_default"]

    default = plan_signature("serving_default", signature, meta_graph, CheckOptions())
    given = plan_signature(
        "serving_default",
        signature,
        meta_graph,
        CheckOptions(dims=(parse_dim("tokens=7"),)),
    )

    def shape(body: bytes) -> tuple[int, int]:
        tokens = json.loads(body)["inputs"]["tokens"]
        return len(tokens), len(tokens[0])

    assert shape(default.requests[3].body) == (4, 4)
    assert shape(given.requests[1].body) == (1, 7)
    assert shape(given.requests[3].body) == (4, 7)


def test_the_same_seed_builds_the_same_requests(multi_io: meta_graph_pb2.MetaGraphDef) -> None:
    signature = multi_io.signature_def["serving_default"]

    def bodies(seed: int) -> list[bytes]:
        plan = plan_signature("serving_default", signature, multi_io, CheckOptions(seed=seed))
        return [request.body for request in plan.requests]

    assert bodies(0) == bodies(0)
    assert bodies(0) != bodies(1)


def test_an_input_without_a_batch_dimension_gets_one_columnar_request_of_its_declared_shape(
    tmp_path: Path,
) -> None:
    graph = tf.Graph()
    with graph.as_default():
        weights = tf.compat.v1.placeholder(tf.float32, [3], name="weights")
        doubled = tf.identity(2.0 * weights, name="doubled")
        signature = tf.compat.v1.saved_model.predict_signature_def(
            {"weights": weights}, {"doubled": doubled}
        )
        with tf.compat.v1.Session(graph=graph) as session:
            save_session(tmp_path / "1", graph, session, {"serving_default": signature})
    meta_graph = _meta_graph(tmp_path / "1")

    plan = plan_signature(
        "serving_default", meta_graph.signature_def["serving_default"], meta_graph, CheckOptions()
    )

    assert [request.check for request in plan.requests] == ["predict columnar"]
    assert len(json.loads(plan.requests[0].body)["inputs"]["weights"]) == 3
    assert plan.skipped == [
        "an input has no batch dimension (its first dimension is not -1), so no row-format "
        "(instances) request was built; the columnar one sends the declared shapes"
    ]
