"""The gRPC rows: the requests of the REST rows, sent through TF Serving's gRPC API.

Most production clients of TF Serving call ``PredictionService`` on its ``--port`` with
``tensorflow-serving-api``'s stubs, so each served version is asked over gRPC too, with the
same values: a gRPC Predict sends, as TensorProtos of the signature's declared dtypes, exactly
the tensors the in-process run decoded from the REST request's JSON (the columnar one), and a
Classify or Regress sends the ``tf.Example`` s the REST body converts to. Each answer is compared
with that same in-process answer, with the same tolerances; gRPC carries dtypes and shapes
exactly, so those must match too, and so must the answer's ``model_spec`` (the model, the
version asked, the signature).

What differs between the two APIs in TF Serving itself is handled where it arises, never by
loosening a comparison:

- an error text longer than 1024 bytes reaches a gRPC client cut, with ``...TRUNCATED``
  (``grpc_status_util.cc``): the in-process text is cut the same way before comparing
  (:func:`~fashion.check.compare.grpc_error_text`), and errors compare by status code name;
- JSON's own steps do not exist over gRPC: a body that does not decode is not sent (SKIP), and
  an answer REST cannot write as JSON (a row-format answer with an output without a batch
  dimension) is answered over gRPC, and compared;
- an unknown signature is answered by REST's JSON layer (400 ``Serving signature name: "x" not
  found in signature def``) and over gRPC by ``predict_util.cc`` (FAILED_PRECONDITION ``Serving
  signature key "x" not found.``): a body REST fails to decode is never compared over gRPC, and
  the in-process answer of tensors alone comes from the runtime's predict, which has gRPC's text.

Imports TensorFlow and grpcio (through :mod:`fashion.clients.grpc`).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np

from fashion.check.compare import Answer, Comparison, GrpcAnswer
from fashion.check.determinism import compared_grpc
from fashion.check.golden import GoldenCase
from fashion.check.options import CheckOptions
from fashion.check.report import CheckRow, Result
from fashion.check.request_builder import GRPC, BuiltRequest, SignaturePlan
from fashion.check.rows import (
    first_line,
    golden_row,
    judged,
    request_rows,
    shape_problems,
    signature_differences,
    timed,
)
from fashion.clients.errors import ServingError

if TYPE_CHECKING:
    from tensorflow.core.protobuf import meta_graph_pb2

    from fashion.check.version_checks import PreparedVersion
    from fashion.clients.grpc import GrpcServingClient

__all__ = [
    "ServedOutputs",
    "golden_grpc_row",
    "grpc_metadata_row",
    "grpc_shapes_row",
    "grpc_signature_rows",
]

#: Output alias -> each output tensor a signature's gRPC answers carried.
ServedOutputs = dict[str, list[np.ndarray]]


def _failed(exc: ServingError) -> GrpcAnswer:
    code = getattr(exc, "code", "") or type(exc).__name__
    error = exc.error if exc.error is not None else str(exc)
    return GrpcAnswer(code=code, status=exc.status_code, error=error)


def _spec(response: Any) -> tuple[str, int, str]:
    spec = response.model_spec
    return spec.name, int(spec.version.value), spec.signature_name


def send(
    client: GrpcServingClient,
    api: str,
    expected: Answer,
    signature: meta_graph_pb2.SignatureDef | None,
    signature_name: str,
    version: int | None,
) -> GrpcAnswer:
    """Send what the in-process run was fed (``expected.inputs``) over gRPC.

    Args:
        client: the model's gRPC client.
        api: ``predict``, ``classify`` or ``regress``.
        expected: the in-process answer; its ``inputs`` are sent.
        signature: the SignatureDef, for the inputs' declared dtypes (predict).
        signature_name: the signature to ask, named explicitly.
        version: the version to ask (None: the latest).
    """
    import tensorflow as tf

    from fashion.clients.grpc_messages import output_arrays

    try:
        if api == "predict":
            declared = signature.inputs if signature is not None else {}
            protos = {
                alias: tf.make_tensor_proto(
                    value,
                    dtype=tf.as_dtype(declared[alias].dtype) if alias in declared else None,
                )
                for alias, value in (expected.inputs or {}).items()
            }
            response = client.predict_response(
                protos, version=version, signature_name=signature_name
            )
            try:
                outputs = output_arrays(response.outputs)
            except ValueError as exc:
                return GrpcAnswer(
                    code="DATA_LOSS", error=f"a tensor of the answer does not decode: {exc}"
                )
            return GrpcAnswer(outputs=outputs, model_spec=_spec(response))
        from tensorflow.core.example import example_pb2

        examples = [example_pb2.Example.FromString(data) for data in expected.inputs or ()]
        if api == "classify":
            answered = client.classify_response(
                examples, signature_name=signature_name, version=version
            )
            results: Any = [
                [[c.label, c.score] for c in entry.classes]
                for entry in answered.result.classifications
            ]
        else:
            answered = client.regress_response(
                examples, signature_name=signature_name, version=version
            )
            results = [r.value for r in answered.result.regressions]
        return GrpcAnswer(results=results, model_spec=_spec(answered))
    except ServingError as exc:
        return _failed(exc)


def _spec_problem(served: GrpcAnswer, model_name: str, version: int, signature_name: str) -> str:
    """How the answer's ``model_spec`` differs from what was asked ("" when it does not)."""
    if not served.ok or served.model_spec is None:
        return ""
    wanted = (model_name, version, signature_name)
    if served.model_spec == wanted:
        return ""
    name, number, key = served.model_spec
    return (
        f"the answer's model_spec names model {name!r} version {number} signature {key!r}; "
        f"asked: model {model_name!r} version {version} signature {signature_name!r}"
    )


def grpc_metadata_row(prepared: PreparedVersion, client: GrpcServingClient) -> CheckRow:
    """``metadata grpc``: GetModelMetadata's signature_def map is the SavedModel's."""
    version = prepared.version
    answers, p50 = timed(lambda: _metadata(client, version), 1)
    answer = answers[0]
    if isinstance(answer, ServingError):
        return CheckRow(
            "", "metadata grpc", Result.FAIL, version, p50_ms=p50, detail=str(answer),
            transport=GRPC,
        )  # fmt: skip
    response, signatures = answer
    problems = signature_differences(prepared.meta_graph.signature_def, signatures.signature_def)
    detail = ""
    if problems:
        detail = "served metadata differs from the SavedModel's: " + "; ".join(problems)
    spec = (response.model_spec.name, int(response.model_spec.version.value))
    if spec != (client.model_name, version):
        detail = " ".join(
            filter(
                None,
                [
                    detail,
                    f"The answer's model_spec names model {spec[0]!r} version {spec[1]}; asked: "
                    f"model {client.model_name!r} version {version}.",
                ],
            )
        )
    result = Result.FAIL if detail else Result.PASS
    return CheckRow("", "metadata grpc", result, version, p50_ms=p50, detail=detail, transport=GRPC)


def _metadata(client: GrpcServingClient, version: int) -> Any:
    try:
        return client.metadata_response(version=version)
    except ServingError as exc:
        return exc


def grpc_signature_rows(
    prepared: PreparedVersion,
    plan: SignaturePlan,
    client: GrpcServingClient,
    options: CheckOptions,
) -> tuple[list[CheckRow], ServedOutputs]:
    """One signature's gRPC rows, and the output tensors its Predict answers carried."""
    version, name = prepared.version, plan.name
    served_outputs: ServedOutputs = {}
    if not plan.grpc_requests:
        if not plan.grpc_skipped:
            return [], served_outputs
        row = CheckRow(
            name, "requests grpc", Result.SKIP, version, detail=" ".join(plan.grpc_skipped),
            transport=GRPC,
        )  # fmt: skip
        return [row], served_outputs
    signature = prepared.meta_graph.signature_def[name]

    def sent(request: BuiltRequest, expected: Answer) -> GrpcAnswer:
        return send(client, request.api, expected, signature, name, version)

    def row(
        request: BuiltRequest, expected: Answer, answers: list[GrpcAnswer], p50: float
    ) -> CheckRow:
        for alias, tensor in (answers[0].outputs or {}).items():
            served_outputs.setdefault(alias, []).append(tensor)
        unstable = prepared.unstable.get(name, frozenset())
        comparisons = [
            compared_grpc(expected, answer, unstable, options.rtol, options.atol)
            for answer in answers
        ]
        return _request_row(
            version, name, request.check, answers, comparisons, p50, client.model_name
        )

    def not_sent(request: BuiltRequest, expected: Answer) -> CheckRow:
        return _not_sent_row(version, name, request, expected)

    rows = request_rows(
        prepared, name, plan.grpc_requests, GRPC, options.repeat, sent, row, not_sent
    )
    return rows, served_outputs


def _not_sent_row(version: int, name: str, request: BuiltRequest, expected: Answer) -> CheckRow:
    return CheckRow(
        name, request.check, Result.SKIP, version,
        detail=f"not sent: the REST body of the same values does not decode in-process "
        f"({expected.status} {first_line(expected.error)}), so there are no values to send",
        transport=GRPC,
    )  # fmt: skip


def _request_row(
    version: int,
    name: str,
    check: str,
    answers: list[GrpcAnswer],
    comparisons: list[Comparison],
    p50: float,
    model_name: str,
) -> CheckRow:
    max_diff, failed = judged(comparisons)
    wrong = failed.difference if failed is not None else ""
    if not wrong:
        wrong = next((p for a in answers if (p := _spec_problem(a, model_name, version, name))), "")
    result = Result.FAIL if wrong else Result.PASS
    return CheckRow(name, check, result, version, max_diff, p50, detail=wrong, transport=GRPC)


def _tf_dtype_name(array: np.ndarray) -> str:
    import tensorflow as tf

    from fashion.serving.runtime.signature_info import dtype_name
    from fashion.serving.runtime.variant_outputs import VARIANT, holds_variants

    if holds_variants(array):
        return VARIANT
    if array.dtype.kind in "OSU":
        return "string"
    return dtype_name(tf.as_dtype(array.dtype).as_datatype_enum)


def grpc_shapes_row(prepared: PreparedVersion, name: str, served: ServedOutputs) -> CheckRow | None:
    """``declared shapes grpc``: the tensors gRPC served keep the declared dtypes and shapes.

    None when no gRPC answer carried tensors.
    """
    if not served:
        return None
    signature = prepared.meta_graph.signature_def[name]
    dtypes: dict[str, str] = {}
    shapes: dict[str, list[list[int]]] = {}
    for alias, tensors in served.items():
        for tensor in tensors:
            dtypes.setdefault(alias, _tf_dtype_name(tensor))
            if list(tensor.shape) not in shapes.setdefault(alias, []):
                shapes[alias].append(list(tensor.shape))
    problems = shape_problems(signature, dtypes, shapes, "gRPC serves it as", "gRPC served")
    if problems:
        detail = "the signature lies about its outputs: " + "; ".join(problems)
        return CheckRow(
            name, "declared shapes grpc", Result.FAIL, prepared.version, detail=detail,
            transport=GRPC,
        )  # fmt: skip
    return CheckRow(name, "declared shapes grpc", Result.PASS, prepared.version, transport=GRPC)


def _as_rest_json(case: GoldenCase, served: GrpcAnswer) -> tuple[Any, str]:
    """A gRPC answer as REST would write it (the body's row or columnar format), to compare
    with the case's ``expected``; or the reason it cannot be written."""
    from fashion.serving.codec.predict_response import encode_predict_response
    from fashion.serving.status import ServingStatusError

    if case.api != "predict":
        return served.results, ""
    outputs = served.outputs or {}
    row_format = "instances" in json.loads(case.body)
    try:
        body = encode_predict_response(
            outputs, {a: _tf_dtype_name(t) for a, t in outputs.items()}, row_format
        )
    except ServingStatusError as exc:
        return None, f"the gRPC answer cannot be written as REST's JSON: {exc.message}"
    document = json.loads(body)
    return document.get("predictions" if row_format else "outputs"), ""


def golden_grpc_row(
    case: GoldenCase,
    expected: Answer,
    signature: meta_graph_pb2.SignatureDef,
    client: GrpcServingClient,
    rtol: float,
    atol: float,
    unstable: frozenset[str] = frozenset(),
) -> CheckRow:
    """``golden line N grpc``: the case's values over gRPC, against in-process and ``expected``.

    ``unstable`` outputs (:mod:`fashion.check.determinism`) are compared with in-process by
    dtype and shape only; against ``expected``, which the user wrote, by value.
    """
    check = f"golden line {case.number} grpc"
    version = case.resolved_version
    if expected.stage == "decode":
        return CheckRow(
            case.signature_key, check, Result.SKIP, version,
            detail=f"not sent: the body does not decode in-process ({expected.status} "
            f"{first_line(expected.error)}), so there are no values to send",
            transport=GRPC,
        )  # fmt: skip
    answers, p50 = timed(
        lambda: send(client, case.api, expected, signature, case.signature_key, case.version), 1
    )
    served = answers[0]
    problems = []
    if not expected.ok and expected.stage != "encode":
        problems.append(f"in-process the request fails: {expected.code} {expected.error}")
    comparison = compared_grpc(expected, served, unstable, rtol, atol)
    if not comparison.same:
        problems.append(f"the server differs from in-process: {comparison.difference}")
    elif spec := _spec_problem(served, client.model_name, version, case.signature_key):
        problems.append(spec)
    as_rest = _as_rest_json(case, served) if case.expected is not None and served.ok else None
    return golden_row(case, GRPC, p50, problems, comparison.max_abs_diff, as_rest, rtol, atol)
