"""MultiInference: several classification and regression signatures over one session run.

TF Serving's ``multi_inference.cc`` (``TensorFlowMultiInferenceRunner::Infer``) checks every
task in order, feeds the serialised examples to the union of the tasks' input tensors, fetches
the union of their outputs (sorted) in a single run, then converts each task's result with the
classifier's and regressor's own checks. Only the gRPC API has it (and warm-up records).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from tensorflow_serving.apis import input_pb2

from fashion.serving.runtime.example_inference import (
    CLASSIFY_METHOD,
    REGRESS_METHOD,
    Classifications,
    SignatureRun,
    classification_results,
    classify_signature,
    examples_tensor,
    regress_signature,
    regression_results,
    serialized_examples,
)
from fashion.serving.runtime.servable import Servable
from fashion.serving.status import Code, ServingStatusError

__all__ = ["InferenceTask", "TaskResult", "multi_inference"]

_DEFAULT_SIGNATURE = "serving_default"


@dataclasses.dataclass(frozen=True)
class InferenceTask:
    """One task of a MultiInference request.

    Attributes:
        model_name: the task's ``model_spec.name``.
        signature_name: the task's signature (empty: ``serving_default``).
        method_name: ``tensorflow/serving/classify`` or ``tensorflow/serving/regress``.
    """

    model_name: str
    signature_name: str
    method_name: str

    @property
    def signature_key(self) -> str:
        """The signature looked up."""
        return self.signature_name or _DEFAULT_SIGNATURE


@dataclasses.dataclass(frozen=True)
class TaskResult:
    """One task's result: classifications or regression values (the other is None)."""

    task: InferenceTask
    classifications: Classifications | None = None
    regressions: list[float] | None = None


def _invalid(message: str) -> ServingStatusError:
    return ServingStatusError(Code.INVALID_ARGUMENT, message)


def _plan(
    servable: Servable, tasks: Sequence[InferenceTask], check_method_name: bool
) -> list[SignatureRun]:
    """The per-task checks of ``Infer``, in their order."""
    runs: list[SignatureRun] = []
    seen: set[str] = set()
    model_name = tasks[0].model_name if tasks else ""
    for task in tasks:
        if not task.model_name:
            raise _invalid("Found ModelSpec with an empty model name.")
        if task.model_name != model_name:
            raise _invalid(
                "All ModelSpecs in a MultiInferenceRequest must access the same model name."
            )
        signature = task.signature_key
        if signature in seen:
            raise _invalid(f"Duplicate evaluation of signature: {signature}")
        seen.add(signature)
        if signature not in servable.signatures:
            raise _invalid(f"Requested signature not found in model graph: {signature}")
        if task.method_name == CLASSIFY_METHOD:
            runs.append(classify_signature(servable, signature, check_method_name))
        elif task.method_name == REGRESS_METHOD:
            runs.append(regress_signature(servable, signature, check_method_name))
        else:
            raise ServingStatusError(
                Code.UNIMPLEMENTED, f"Unsupported signature method_name: {task.method_name}"
            )
    return runs


def multi_inference(
    servable: Servable,
    tasks: Sequence[InferenceTask],
    model_input: input_pb2.Input,
    *,
    timeout_ms: int | None,
    check_method_name: bool,
) -> list[TaskResult]:
    """Run every task on one session run; one result per task, in request order.

    Raises:
        ServingStatusError: a task does not fit (INVALID_ARGUMENT, UNIMPLEMENTED for another
            method), the input is empty, the run fails, or an output is off.
    """
    runs = _plan(servable, tasks, check_method_name)
    examples = serialized_examples(model_input)
    fed = examples_tensor(examples)
    feeds = {run.input_name: fed for run in runs}
    fetches = sorted({name for run in runs for name in run.fetches})
    outputs = servable.run_tensors(feeds, fetches, timeout_ms)
    results: list[TaskResult] = []
    for task, run in zip(tasks, runs, strict=True):
        if task.method_name == CLASSIFY_METHOD:
            results.append(
                TaskResult(
                    task, classifications=classification_results(run, outputs, len(examples))
                )
            )
        else:
            results.append(
                TaskResult(task, regressions=regression_results(run, outputs, len(examples)))
            )
    return results
