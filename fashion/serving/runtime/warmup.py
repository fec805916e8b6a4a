"""Replaying a version's warm-up requests while it loads (``saved_model_warmup.cc``).

TF Serving reads ``{version}/assets.extra/tf_serving_warmup_requests`` (a TFRecord file of
``PredictionLog`` protos) and runs each request once (or ``--num_request_iterations_for_warmup``
times) before the version becomes AVAILABLE; any failure fails the load. This module reproduces
the file handling, limits and log lines, and replays predict, classify, regress and
multi-inference records through the same functions that serve requests, so a record fails the
load exactly when the same request would fail.
"""

from __future__ import annotations

import os
import time

import tensorflow as tf
from google.protobuf.message import DecodeError
from tensorflow_serving.apis import prediction_log_pb2

from fashion.serving.logs import texts as log
from fashion.serving.runtime.example_inference import classify, regress, serialized_examples
from fashion.serving.runtime.multi_inference import InferenceTask, multi_inference
from fashion.serving.runtime.predict import run_predict
from fashion.serving.runtime.servable import Servable
from fashion.serving.runtime.tensor_proto import tensor_from_proto
from fashion.serving.status import Code, ServingStatusError

__all__ = ["MAX_WARMUP_RECORDS", "WARMUP_FILE_NAME", "run_warmup", "warmup_path"]


WARMUP_FILE_NAME = "tf_serving_warmup_requests"
MAX_WARMUP_RECORDS = 1000
_DEFAULT_SIGNATURE = "serving_default"


def warmup_path(export_dir: str) -> str:
    """Where TF Serving looks for a version's warm-up records."""
    return os.path.join(export_dir, "assets.extra", WARMUP_FILE_NAME)


def _replay(servable: Servable, record: prediction_log_pb2.PredictionLog) -> None:
    kind = record.WhichOneof("log_type")
    if kind == "predict_log":
        request = record.predict_log.request
        feeds = {alias: tensor_from_proto(proto, alias) for alias, proto in request.inputs.items()}
        run_predict(
            servable,
            request.model_spec.signature_name,
            feeds,
            output_filter=list(request.output_filter),
        )
    elif kind in ("classify_log", "regress_log"):
        request = getattr(record, kind).request
        infer = classify if kind == "classify_log" else regress
        infer(
            servable,
            request.model_spec.signature_name or _DEFAULT_SIGNATURE,
            serialized_examples(request.input),
            timeout_ms=None,
            check_method_name=False,
        )
    elif kind == "multi_inference_log":
        request = record.multi_inference_log.request
        tasks = [
            InferenceTask(task.model_spec.name, task.model_spec.signature_name, task.method_name)
            for task in request.tasks
        ]
        multi_inference(servable, tasks, request.input, timeout_ms=None, check_method_name=False)
    elif kind is not None and kind != "log_metadata":
        number = prediction_log_pb2.PredictionLog.DESCRIPTOR.fields_by_name[kind].number
        raise ServingStatusError(Code.UNIMPLEMENTED, f"Unsupported log_type for warmup: {number}")


def run_warmup(servable: Servable, export_dir: str, iterations: int = 0) -> None:
    """Replay the version's warm-up file, if it has one.

    Args:
        servable: the freshly loaded version.
        export_dir: its directory.
        iterations: replays per record; values < 1 mean once.

    Raises:
        ServingStatusError: when a record does not parse, a request fails, there are more than
            1000 records, or the file is not TFRecord (DATA_LOSS).
    """
    start = time.monotonic()
    path = warmup_path(export_dir)
    if not os.path.exists(path):
        log.no_warmup_data(path)
        return
    options_text = (
        f"num_request_iterations {{\n  value: {iterations}\n}}\n" if iterations > 0 else ""
    )
    log.starting_warmup(path, options_text)
    count = 0
    try:
        for raw in tf.compat.v1.io.tf_record_iterator(path):
            record = prediction_log_pb2.PredictionLog()
            try:
                record.ParseFromString(raw)
            except DecodeError as exc:
                text = raw.decode("utf-8", "replace")
                raise ServingStatusError(
                    Code.INVALID_ARGUMENT, f"Failed to parse warmup record: {text} from {path}"
                ) from exc
            for _ in range(max(iterations, 1)):
                _replay(servable, record)
            count += 1
            if count > MAX_WARMUP_RECORDS:
                raise ServingStatusError(
                    Code.INVALID_ARGUMENT,
                    f"Number of warmup records exceeds the maximum ({MAX_WARMUP_RECORDS}) at "
                    f"{path}",
                )
    except tf.errors.OpError as exc:
        try:
            code = Code(exc.error_code)
        except ValueError:
            code = Code.UNKNOWN
        if code is Code.DATA_LOSS:
            raise ServingStatusError(
                code, f"{exc.message}. Please verify your warmup data is in TFRecord format."
            ) from exc
        raise ServingStatusError(code, exc.message) from exc
    log.finished_warmup(path, count, int((time.monotonic() - start) * 1e6))
