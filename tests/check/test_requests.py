"""Requests built from a signature alone, for REST and gRPC, and the tf.Example features read
from the graph; all in-process (protos and the TF1 builder), no model server."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.protobuf import meta_graph_pb2, saved_model_pb2

from fashion.check import CheckOptions, parse_dim
from fashion.check.example_features import Feature, example_features
from fashion.check.request_builder import plan_signature
from tests.check.exports import write_grpc_only_model, write_multi_io_model
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


def test_grpc_requests_send_what_the_columnar_and_examples_bodies_carry(
    multi_io: meta_graph_pb2.MetaGraphDef, half_plus_two: meta_graph_pb2.MetaGraphDef
) -> None:
    predict = plan_signature(
        "serving_default", multi_io.signature_def["serving_default"], multi_io, CheckOptions()
    )
    regress = plan_signature(
        "regress_x_to_y", half_plus_two.signature_def["regress_x_to_y"], half_plus_two,
        CheckOptions(),
    )  # fmt: skip

    assert [(r.check, r.transport) for r in predict.grpc_requests] == [
        ("predict grpc batch 1", "grpc"),
        ("predict grpc batch 4", "grpc"),
    ]
    columnar = [r.body for r in predict.requests if "columnar" in r.check]
    assert [r.body for r in predict.grpc_requests] == columnar
    assert {r.transport for r in predict.requests} == {"rest"}
    assert [r.check for r in regress.grpc_requests] == [
        "regress grpc batch 1",
        "regress grpc batch 4",
    ]
    assert [r.body for r in regress.grpc_requests] == [r.body for r in regress.requests]


def test_inputs_json_cannot_carry_get_grpc_requests_of_their_own_dtypes(tmp_path: Path) -> None:
    meta_graph = _meta_graph(write_grpc_only_model(tmp_path / "1"))
    signature = meta_graph.signature_def["serving_default"]

    plan = plan_signature("serving_default", signature, meta_graph, CheckOptions(batch_size=3))
    rest_only = plan_signature(
        "serving_default", signature, meta_graph, CheckOptions(transport="rest")
    )
    constant = plan_signature(
        "constant", meta_graph.signature_def["constant"], meta_graph, CheckOptions()
    )

    assert plan.requests == []
    assert [r.check for r in plan.grpc_requests] == ["predict grpc batch 1", "predict grpc batch 3"]
    tensors = plan.grpc_requests[1].tensors
    assert tensors is not None
    assert {alias: (str(t.dtype), t.shape) for alias, t in tensors.items()} == {
        "b": ("bfloat16", (3, 2)),
        "c": ("complex64", (3,)),
        "h": ("float16", (3, 2)),
        "u": ("uint16", (3, 2)),
    }
    assert np.all(tensors["c"].imag != 0)
    assert rest_only.grpc_requests == []
    assert rest_only.skipped == [
        "inputs 'b' (bfloat16), 'c' (complex64), 'h' (half) and 'u' (uint16): TF Serving's JSON "
        "API cannot carry these dtypes (gRPC can: check with --transport both or grpc)"
    ]
    assert [(r.check, r.tensors) for r in constant.grpc_requests] == [("predict grpc", {})]


def test_an_input_no_request_can_carry_is_skipped_over_both_apis() -> None:
    signature = meta_graph_pb2.SignatureDef(method_name="tensorflow/serving/predict")
    signature.inputs["q"].CopyFrom(
        meta_graph_pb2.TensorInfo(name="q:0", dtype=tf.qint8.as_datatype_enum)
    )

    plan = plan_signature("quantized", signature, meta_graph_pb2.MetaGraphDef(), CheckOptions())

    assert (plan.requests, plan.grpc_requests) == ([], [])
    reason = (
        "input 'q' is qint8: neither TF Serving's JSON API nor this check's gRPC requests carry "
        "these dtypes; give the inputs numeric, bool or string dtypes"
    )
    assert plan.skipped == plan.grpc_skipped == [reason]


def _parsing_predict_model(path: Path) -> Path:
    """A predict signature as TFX and Estimator exports write it: ``examples`` (serialised
    tf.Examples with a float ``x`` [2] and an int64 ``k``) and a plain string ``note``."""
    graph = tf.Graph()
    with graph.as_default():
        examples = tf.compat.v1.placeholder(tf.string, [None], name="examples")
        note = tf.compat.v1.placeholder(tf.string, [None], name="note")
        parsed = tf.io.parse_example(
            examples,
            {"x": tf.io.FixedLenFeature([2], tf.float32), "k": tf.io.FixedLenFeature([], tf.int64)},
        )
        score = tf.identity(
            tf.reduce_sum(parsed["x"], axis=1) + tf.cast(parsed["k"], tf.float32), name="score"
        )
        length = tf.strings.length(note, name="length")
        signature = tf.compat.v1.saved_model.predict_signature_def(
            {"examples": examples, "note": note}, {"score": score, "length": length}
        )
        with tf.compat.v1.Session(graph=graph) as session:
            return save_session(path, graph, session, {"serving_default": signature})


def test_a_predict_input_the_graph_parses_as_examples_gets_serialised_examples(
    tmp_path: Path,
) -> None:
    from tensorflow.core.example import example_pb2

    from fashion.check.reference import Reference

    version = _parsing_predict_model(tmp_path / "1")
    meta_graph = _meta_graph(version)
    plan = plan_signature(
        "serving_default", meta_graph.signature_def["serving_default"], meta_graph, CheckOptions()
    )
    inputs = json.loads(plan.requests[-1].body)["inputs"]
    assert all(isinstance(word, str) for word in inputs["note"])
    examples = [
        example_pb2.Example.FromString(base64.b64decode(v["b64"])) for v in inputs["examples"]
    ]
    assert len(examples) == 4
    assert {key: len(f.float_list.value) + len(f.int64_list.value)
            for key, f in examples[0].features.feature.items()} == {"x": 2, "k": 1}  # fmt: skip
    with Reference.load(str(version)) as reference:
        answers = [reference.answer(r.api, r.body) for r in plan.requests]
    assert [answer.error for answer in answers] == [None] * len(plan.requests)


def _image_models(tmp_path: Path) -> dict[str, Path]:
    """Two inputs that carry encoded images: ``jpeg`` (a TF1 graph's DecodeJpeg on a scalar
    string) and ``images`` (a TF2 export that decodes a batch with ``tf.map_fn``, so its
    DecodeImage sits in a while loop's body inside the function library)."""
    graph = tf.Graph()
    with graph.as_default():
        jpeg = tf.compat.v1.placeholder(tf.string, [], name="jpeg")
        pixels = tf.io.decode_jpeg(jpeg, channels=3)
        mean = tf.reduce_mean(tf.cast(pixels, tf.float32), name="mean")
        signature = tf.compat.v1.saved_model.predict_signature_def({"jpeg": jpeg}, {"mean": mean})
        with tf.compat.v1.Session(graph=graph) as session:
            tf1 = save_session(
                tmp_path / "tf1" / "1", graph, session, {"serving_default": signature}
            )

    class Images(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="images")])
        def serve(self, images: tf.Tensor) -> dict[str, tf.Tensor]:
            def decoded(data: tf.Tensor) -> tf.Tensor:
                image = tf.io.decode_image(data, channels=3, expand_animations=False)
                return tf.reduce_mean(tf.cast(image, tf.float32))

            return {"mean": tf.map_fn(decoded, images, fn_output_signature=tf.float32)}

    module = Images()
    tf2 = tmp_path / "tf2" / "1"
    tf.saved_model.save(module, str(tf2), signatures={"serving_default": module.serve})
    return {"jpeg": tf1, "images": tf2}


def test_an_input_the_graph_decodes_as_images_gets_images_in_the_format_it_reads(
    tmp_path: Path,
) -> None:
    from fashion.check.reference import Reference

    for alias, version in _image_models(tmp_path).items():
        meta_graph = _meta_graph(version)
        plan = plan_signature(
            "serving_default", meta_graph.signature_def["serving_default"], meta_graph,
            CheckOptions(),
        )  # fmt: skip
        sent = json.loads(plan.requests[-1].body)["inputs"][alias]
        first = base64.b64decode((sent if alias == "jpeg" else sent[0])["b64"])
        assert first.startswith(b"\xff\xd8" if alias == "jpeg" else b"\x89PNG"), alias
        assert tf.io.decode_image(first).shape == (32, 32, 3)
        with Reference.load(str(version)) as reference:
            answers = [reference.answer(r.api, r.body) for r in plan.requests]
        assert [answer.error for answer in answers] == [None] * len(plan.requests), alias


def _graph_meta(build: Any) -> meta_graph_pb2.MetaGraphDef:
    graph = tf.Graph()
    with graph.as_default():
        data = tf.compat.v1.placeholder(tf.string, [], name="data")
        build(data)
    return meta_graph_pb2.MetaGraphDef(graph_def=graph.as_graph_def())


def test_the_walk_follows_conditionals_but_not_ops_that_make_other_strings() -> None:
    from fashion.check.graph_flow import first_reached

    def in_a_branch(data: tf.Tensor) -> None:
        tf.cond(
            tf.strings.length(data) > 0,
            lambda: tf.reduce_sum(tf.cast(tf.io.decode_png(data), tf.int32)),
            lambda: tf.constant(0),
        )

    def after_base64(data: tf.Tensor) -> None:
        tf.io.decode_png(tf.io.decode_base64(data))

    def after_read_file(data: tf.Tensor) -> None:
        tf.io.decode_jpeg(tf.io.read_file(data))

    decoders = {"DecodePng", "DecodeJpeg"}
    found = first_reached(_graph_meta(in_a_branch), "data:0", decoders)
    assert found is not None
    assert found[1].op == "DecodePng"
    assert first_reached(_graph_meta(after_base64), "data:0", decoders) is None
    assert first_reached(_graph_meta(after_read_file), "data:0", decoders) is None
