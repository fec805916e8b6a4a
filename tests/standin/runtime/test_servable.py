"""Loading one SavedModel version the way TF Serving does, and running its signatures."""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.protobuf import config_pb2, meta_graph_pb2
from tensorflow_serving.apis import classification_pb2, predict_pb2, prediction_log_pb2

from fashion.serving.runtime.loader import load_version
from fashion.serving.runtime.servable import LoadOptions, Servable, SignatureInfo, SignatureTensor
from fashion.serving.status import Code
from tests.support.example_models import write_example_parser_model
from tests.support.savedmodels import (
    write_affine_model,
    write_blocking_queue_model,
    write_broken_version,
    write_edge_signatures_model,
    write_uninitialized_variable_model,
)
from tests.support.status_errors import code_and_message, status_error


class _HalfPlusTwo(tf.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = tf.Variable(0.5)
        self.b = tf.Variable(2.0)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="x")])
    def serve(self, x: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"y": self.a * x + self.b}


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("servable_models")
    module = _HalfPlusTwo()
    tf.saved_model.save(module, str(root / "tf2"), signatures={"serving_default": module.serve})
    return {
        "tf2": root / "tf2",
        "affine": write_affine_model(root / "affine", 3.0),
        "queue": write_blocking_queue_model(root / "queue"),
        "uninitialized": write_uninitialized_variable_model(root / "uninitialized"),
        "broken": write_broken_version(root / "broken"),
    }


@pytest.fixture
def queue_servable(models: dict[str, Path]) -> Iterator[Servable]:
    servable = Servable.load(str(models["queue"]))
    try:
        yield servable
    finally:
        servable.close()


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """Messages of the ``fashion.serving`` logger (attached directly: it may not propagate)."""
    logger = logging.getLogger("fashion.serving")
    handler, previous = _Lines(), logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def _x(*values: float) -> dict[str, np.ndarray]:
    return {"x": np.array(values, dtype=np.float32)}


def test_tf2_savedmodel_signatures_are_reported_like_tf_serving_metadata(models):
    servable = Servable.load(str(models["tf2"]))
    try:
        assert dict(servable.signatures) == {
            "serving_default": SignatureInfo(
                method_name="tensorflow/serving/predict",
                inputs={"x": SignatureTensor("float", "serving_default_x:0", [-1])},
                outputs={"y": SignatureTensor("float", "StatefulPartitionedCall:0", [-1])},
            ),
            "__saved_model_init_op": SignatureInfo(
                method_name="",
                inputs={},
                outputs={"__saved_model_init_op": SignatureTensor("INVALID", "NoOp", None)},
            ),
        }
        assert set(servable.signature_defs) == {"serving_default", "__saved_model_init_op"}
        assert isinstance(servable.signature_defs["serving_default"], meta_graph_pb2.SignatureDef)
    finally:
        servable.close()


def test_run_feeds_and_fetches_by_tensor_names_and_returns_outputs_by_alias(models):
    servable = Servable.load(str(models["tf2"]))
    try:
        result = servable.run("serving_default", _x(1.0, 2.0, 5.0))
    finally:
        servable.close()
    assert list(result) == ["y"]
    np.testing.assert_array_equal(result["y"], np.array([2.5, 3.0, 4.5], dtype=np.float32))


def test_a_scalar_string_output_keeps_its_trailing_nul_bytes(tmp_path):
    """The session returns a scalar string as ``bytes``; as a numpy "S" array it would lose
    its trailing NULs, which TF Serving's ``AsProtoField`` keeps."""
    servable = Servable.load(str(write_edge_signatures_model(tmp_path / "edge")))
    try:
        text = np.array(b"ab\x00\x00", dtype=object)
        outputs = servable.run("strings", {"text": text})
    finally:
        servable.close()
    for alias in ("text", "text_bytes"):
        assert outputs[alias].shape == ()
        assert outputs[alias].item() == b"ab\x00\x00"


def test_variables_are_restored_from_the_checkpoint(models):
    servable = Servable.load(str(models["affine"]))
    try:
        result = servable.run("serving_default", _x(1.0), timeout_ms=5000)
    finally:
        servable.close()
    np.testing.assert_array_equal(result["y"], np.array([5.0], dtype=np.float32))


def test_missing_saved_model_pb_fails_with_tensorflow_not_found_text(models):
    assert code_and_message(Servable.load, str(models["broken"])) == (
        Code.NOT_FOUND,
        "Could not find SavedModel .pb or .pbtxt at supplied export directory path: "
        f"{models['broken']}. Check that the directory exists and that you have the right "
        "permissions for accessing it.",
    )


def test_unknown_tag_set_fails_with_tensorflow_not_found_text(models):
    assert code_and_message(Servable.load, str(models["affine"]), LoadOptions(tags=("gpu",))) == (
        Code.NOT_FOUND,
        "Could not find meta graph def matching supplied tags: { gpu }. To inspect available "
        "tag-sets in the SavedModel, please use the SavedModel CLI: `saved_model_cli`",
    )


def test_unparsable_saved_model_pb_fails_with_data_loss(tmp_path):
    (tmp_path / "saved_model.pb").write_bytes(b"\xff\xff\xff not a proto")
    assert code_and_message(Servable.load, str(tmp_path)) == (
        Code.DATA_LOSS,
        f"Can't parse {tmp_path}/saved_model.pb as binary proto",
    )


def test_model_reading_an_unrestored_variable_loads_but_fails_at_run_time(models):
    servable = Servable.load(str(models["uninitialized"]))
    try:
        error = status_error(servable.run, "serving_default", _x(1.0))
    finally:
        servable.close()
    assert (error.code, error.http_status) == (Code.FAILED_PRECONDITION, 400)
    assert error.message == (
        "Could not find variable dense/bias. This could mean that the variable has been deleted. "
        "In TF1, it can also mean the variable is uninitialized. Debug info: container=localhost, "
        "status error message=Resource localhost/dense/bias/N10tensorflow3VarE does not exist.\n"
        "\t [[{{node read_bias}}]]"
    )


def test_run_past_its_deadline_fails_with_deadline_exceeded_504(queue_servable):
    error = status_error(queue_servable.run, "serving_default", _x(1.0), timeout_ms=100)
    assert (error.code, error.http_status, error.message) == (
        Code.DEADLINE_EXCEEDED,
        504,
        "Timed out waiting for notification",
    )


def test_concurrent_runs_do_not_block_each_other(queue_servable):
    # The first run blocks inside TensorFlow until the second one feeds the queue: this only
    # finishes if two session runs can be in flight at once.
    results: dict[str, dict[str, np.ndarray]] = {}
    waiting = threading.Thread(
        target=lambda: results.setdefault(
            "y", queue_servable.run("serving_default", _x(1.0, 2.0), timeout_ms=10_000)
        )
    )
    waiting.start()
    pushed = queue_servable.run("push", {"value": np.float32(3.0)}, timeout_ms=10_000)
    waiting.join(timeout=10)
    assert not waiting.is_alive()
    assert float(pushed["pushed"]) == 3.0
    np.testing.assert_array_equal(results["y"]["y"], np.array([4.0, 5.0], dtype=np.float32))


def test_unknown_signature_fails_with_failed_precondition(queue_servable):
    assert code_and_message(queue_servable.run, "nope", _x(1.0)) == (
        Code.FAILED_PRECONDITION,
        'Serving signature key "nope" not found.',
    )


def test_extra_input_fails_with_input_size_text(queue_servable):
    feeds = {"x": np.ones([1], np.float32), "z": np.ones([1], np.float32)}
    assert code_and_message(queue_servable.run, "serving_default", feeds) == (
        Code.INVALID_ARGUMENT,
        "input size does not match signature: 2!=1 len({x,z}) != len({x}). "
        "Sent extra: {z}. Missing but required: {}.",
    )


def test_misnamed_input_fails_with_missing_alias_text(queue_servable):
    feeds = {"z": np.ones([1], np.float32)}
    assert code_and_message(queue_servable.run, "serving_default", feeds) == (
        Code.INVALID_ARGUMENT,
        "Signature input alias: x(feed name: x:0) not found in request and no default value "
        "provided. Inputs expected to be in the request {z}, or default input alias set: ",
    )


def test_unknown_output_filter_fails_with_alias_text(queue_servable):
    filtered = code_and_message(
        queue_servable.run, "serving_default", _x(1.0), output_filter=["nope"]
    )
    assert filtered == (
        Code.INVALID_ARGUMENT,
        "output tensor alias not found in signature: nope Outputs expected to be in the set {y}.",
    )


@pytest.mark.parametrize(
    ("options", "intra", "inter"),
    [
        (LoadOptions(), 0, 0),
        (LoadOptions(intra_op_parallelism=2, inter_op_parallelism=1), 2, 1),
        (LoadOptions(intra_op_parallelism=3), 3, 0),
        (LoadOptions(session_parallelism=4), 4, 4),
        (
            LoadOptions(
                session_config=config_pb2.ConfigProto(
                    intra_op_parallelism_threads=7, allow_soft_placement=True
                )
            ),
            0,
            0,
        ),
    ],
)
def test_session_config_takes_thread_counts_from_the_parallelism_flags(options, intra, inter):
    # TF Serving always overwrites the config file's thread counts with the flags (server.cc).
    from fashion.serving.runtime.servable import _session_config

    config = _session_config(options)
    assert (config.intra_op_parallelism_threads, config.inter_op_parallelism_threads) == (
        intra,
        inter,
    )
    if options.session_config is not None:
        assert config.allow_soft_placement


def test_close_is_idempotent(models):
    servable = Servable.load(str(models["affine"]))
    servable.close()
    servable.close()


def _version_with_warmup(source: Path, target: Path, records: list[bytes]) -> Path:
    shutil.copytree(source, target)
    (target / "assets.extra").mkdir()
    with tf.io.TFRecordWriter(str(target / "assets.extra" / "tf_serving_warmup_requests")) as w:
        for record in records:
            w.write(record)
    return target


def _predict_record(**inputs: list[float]) -> bytes:
    request = predict_pb2.PredictRequest()
    request.model_spec.signature_name = "serving_default"
    for name, values in inputs.items():
        request.inputs[name].CopyFrom(tf.make_tensor_proto(np.array(values, np.float32)))
    log = prediction_log_pb2.PredictionLog()
    log.predict_log.request.CopyFrom(request)
    return log.SerializeToString()


def test_warmup_records_are_replayed_during_load(models, tmp_path, log_lines):
    records = [_predict_record(x=[1.0])] * 2
    version = _version_with_warmup(models["affine"], tmp_path / "1", records)
    load_version(str(version), LoadOptions(warmup_iterations=3)).close()
    path = version / "assets.extra" / "tf_serving_warmup_requests"
    messages = log_lines
    assert (
        f"Starting to read warmup data for model at {path} with model-warmup-options "
        "num_request_iterations {\n  value: 3\n}\n"
    ) in messages
    finished = [m for m in messages if m.startswith("Finished reading warmup data")]
    assert len(finished) == 1
    assert finished[0].startswith(
        f"Finished reading warmup data for model at {path}. Number of warmup records read: 2. "
        "Elapsed time (microseconds): "
    )


def test_load_logs_tensorflow_loader_lines_and_that_no_warmup_file_was_found(models, log_lines):
    load_version(str(models["affine"])).close()
    path = models["affine"] / "assets.extra" / "tf_serving_warmup_requests"
    assert log_lines[0] == f"Reading SavedModel from: {models['affine']}"
    assert log_lines[1].startswith("SavedModel load for tags { serve }; Status: success: OK. Took ")
    assert log_lines[1].endswith(" microseconds.")
    assert log_lines[2:] == [f"No warmup data file found at {path}"]


def test_failing_warmup_request_fails_the_load(models, tmp_path):
    version = _version_with_warmup(models["affine"], tmp_path / "1", [_predict_record(z=[1.0])])
    error = status_error(load_version, str(version))
    assert error.code is Code.INVALID_ARGUMENT
    assert error.message.startswith("Signature input alias: x(feed name: x:0) not found")


def test_warmup_file_that_is_not_tfrecord_fails_with_data_loss(models, tmp_path):
    version = _version_with_warmup(models["affine"], tmp_path / "1", [])
    warmup = version / "assets.extra" / "tf_serving_warmup_requests"
    warmup.write_bytes(b"this is not a TFRecord file, it is only text")
    error = status_error(load_version, str(version))
    assert error.code is Code.DATA_LOSS
    assert error.message.startswith("corrupted record at 0")
    assert error.message.endswith(". Please verify your warmup data is in TFRecord format.")
    # With warm-up disabled the file is not read at all.
    load_version(str(version), LoadOptions(enable_warmup=False)).close()


def _classify_record(x: float) -> bytes:
    request = classification_pb2.ClassificationRequest()
    request.model_spec.signature_name = "classify_flat"
    example = request.input.example_list.examples.add()
    example.features.feature["x"].float_list.value.append(x)
    log = prediction_log_pb2.PredictionLog()
    log.classify_log.request.CopyFrom(request)
    return log.SerializeToString()


def test_a_classify_record_goes_through_the_classifiers_own_checks(tmp_path):
    # saved_model_warmup.cc replays through RunClassify: scores of rank 1 fail the load there.
    source = write_example_parser_model(tmp_path / "parser")
    version = _version_with_warmup(source, tmp_path / "1", [_classify_record(2.0)])
    assert code_and_message(load_version, str(version)) == (
        Code.INVALID_ARGUMENT,
        "Expected Tensor shape: [batch_size num_classes] but got [1]",
    )
