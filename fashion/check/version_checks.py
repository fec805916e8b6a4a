"""The checks of one served version: metadata, built requests, declared shapes, golden cases.

A version is *prepared* in-process first (loaded with the session loader, its requests built and
answered), which can happen while the server is still starting; the served side is asked once
the version is AVAILABLE. Every row compares the server with the in-process answer to the same
bytes, so a difference is the server's (or the transport's), never the request's.

Each check is asked over REST, over gRPC (:mod:`fashion.check.grpc_rows`), or both, as
``--transport`` says; the gRPC rows follow the REST rows of the same signature.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fashion.check.compare import Answer, Comparison
from fashion.check.determinism import compared, determinism_row, rerun_unstable
from fashion.check.golden import GoldenCase
from fashion.check.grpc_rows import (
    golden_grpc_row,
    grpc_metadata_row,
    grpc_shapes_row,
    grpc_signature_rows,
)
from fashion.check.options import CheckOptions
from fashion.check.reference import Reference
from fashion.check.report import CheckRow, Result
from fashion.check.request_builder import (
    GRPC,
    INIT_OP_SIGNATURE,
    REST,
    BuiltRequest,
    SignaturePlan,
    is_examples_signature,
    plan_signature,
)
from fashion.check.rows import (
    golden_row,
    judged,
    request_rows,
    shape_problems,
    signature_differences,
    timed,
)
from fashion.check.traps import signature_warnings
from fashion.clients.errors import ServingError
from fashion.clients.rest import ServingClient
from fashion.serving.status import ServingStatusError

if TYPE_CHECKING:
    from tensorflow.core.protobuf import meta_graph_pb2

    from fashion.clients.grpc import GrpcServingClient

__all__ = ["Clients", "PreparedVersion", "golden_rows", "prepare_version", "served_rows"]

_RESPONSE_KEYS = ("predictions", "outputs", "results")


@dataclass(frozen=True)
class Clients:
    """The APIs the served rows ask.

    Attributes:
        rest: the REST client.
        grpc: the gRPC client; None when gRPC is not checked or the server has no gRPC target.
        no_grpc: why there is no gRPC client when gRPC is checked ("" otherwise).
    """

    rest: ServingClient
    grpc: GrpcServingClient | None = None
    no_grpc: str = ""


@dataclass
class PreparedVersion:
    """One version loaded in-process, with its requests built and answered there.

    Attributes:
        version: the version number.
        directory: its directory.
        meta_graph: its ``serve`` MetaGraph.
        reference: the in-process servable (None when the load failed).
        load_error: the in-process load error (``CODE: message``), or "".
        plans: what is sent to each signature.
        expected: (signature, check) -> the in-process answer (a gRPC request's is the REST
            request's of the same body, the very same answer).
        unstable: signature -> the outputs whose values differ between two in-process runs of
            one request (:mod:`fashion.check.determinism`).
    """

    version: int
    directory: Path
    meta_graph: meta_graph_pb2.MetaGraphDef
    reference: Reference | None = None
    load_error: str = ""
    plans: list[SignaturePlan] = field(default_factory=list)
    expected: dict[tuple[str, str], Answer] = field(default_factory=dict)
    unstable: dict[str, frozenset[str]] = field(default_factory=dict)

    def close(self) -> None:
        """Release the in-process session."""
        if self.reference is not None:
            self.reference.close()


def prepare_version(
    version: int,
    directory: Path,
    meta_graph: meta_graph_pb2.MetaGraphDef,
    options: CheckOptions,
) -> PreparedVersion:
    """Load a version in-process, build its requests and answer them there."""
    prepared = PreparedVersion(version, directory, meta_graph)
    try:
        prepared.reference = Reference.load(str(directory), options.saved_model_tags)
    except ServingStatusError as exc:
        prepared.load_error = exc.as_status_text()
        return prepared
    for name in sorted(meta_graph.signature_def):
        if name == INIT_OP_SIGNATURE:
            continue
        plan = plan_signature(name, meta_graph.signature_def[name], meta_graph, options)
        prepared.plans.append(plan)
        answered: dict[bytes, Answer] = {}
        for request in plan.requests:
            answer = prepared.reference.answer(request.api, request.body)
            prepared.expected[(name, request.check)] = answer
            answered[request.body] = answer
            if answer.stage == "run":
                break  # the signature cannot run: one row says so (see served_rows)
        for request in plan.grpc_requests:
            answer = _grpc_expected(prepared.reference, name, request, answered)
            prepared.expected[(name, request.check)] = answer
            if answer.stage == "run":
                break
        prepared.unstable[name] = rerun_unstable(
            prepared.reference, name, plan, prepared.expected, options.rtol, options.atol
        )
    return prepared


def _grpc_expected(
    reference: Reference, name: str, request: BuiltRequest, answered: dict[bytes, Answer]
) -> Answer:
    """The in-process answer a gRPC request is compared with: the REST request's of the same
    body when it was answered, else that body's (or the tensors', when no JSON carries them)."""
    if request.tensors is not None:
        return reference.answer_tensors(name, request.tensors)
    known = answered.get(request.body)
    return known if known is not None else reference.answer(request.api, request.body)


def _post(client: ServingClient, api: str, body: bytes, version: int | None) -> Answer:
    url = f"{client.model_url(version=version)}:{api}"
    try:
        return Answer(body=client.request("POST", url, body=body))
    except ServingError as exc:
        return Answer(
            status=exc.status_code, error=exc.error if exc.error is not None else str(exc)
        )


def served_rows(
    prepared: PreparedVersion, clients: Clients, options: CheckOptions
) -> list[CheckRow]:
    """Every row of an AVAILABLE version: metadata, warnings, requests, declared shapes."""
    rows = []
    if options.over_rest:
        rows.append(_metadata_row(prepared, clients.rest))
    if options.over_grpc:
        if clients.grpc is None:
            rows.append(
                CheckRow("", "grpc checks", Result.SKIP, prepared.version,
                         detail=clients.no_grpc, transport=GRPC)
            )  # fmt: skip
        else:
            rows.append(grpc_metadata_row(prepared, clients.grpc))
    rows += signature_warnings(prepared.version, prepared.meta_graph.signature_def)
    for plan in prepared.plans:
        rows += _signature_rows(prepared, plan, clients, options)
    return rows


def _metadata_row(prepared: PreparedVersion, client: ServingClient) -> CheckRow:
    from google.protobuf import json_format
    from tensorflow_serving.apis import get_model_metadata_pb2

    version = prepared.version
    start = time.perf_counter()
    try:
        answer = client.metadata(version=version)
    except ServingError as exc:
        return CheckRow("", "metadata", Result.FAIL, version, detail=str(exc), transport=REST)
    elapsed = (time.perf_counter() - start) * 1000
    served = get_model_metadata_pb2.SignatureDefMap()
    try:
        document = dict(answer["metadata"]["signature_def"])
        document.pop("@type", None)
        json_format.ParseDict(document, served, ignore_unknown_fields=True)
    except (KeyError, TypeError, json_format.ParseError) as exc:
        detail = f"the metadata answer is not a SignatureDefMap ({exc}): {str(answer)[:300]}"
        return CheckRow(
            "", "metadata", Result.FAIL, version, p50_ms=elapsed, detail=detail, transport=REST
        )
    differences = signature_differences(prepared.meta_graph.signature_def, served.signature_def)
    if differences:
        detail = "served metadata differs from the SavedModel's: " + "; ".join(differences)
        return CheckRow(
            "", "metadata", Result.FAIL, version, p50_ms=elapsed, detail=detail, transport=REST
        )
    return CheckRow("", "metadata", Result.PASS, version, p50_ms=elapsed, transport=REST)


def _signature_rows(
    prepared: PreparedVersion, plan: SignaturePlan, clients: Clients, options: CheckOptions
) -> list[CheckRow]:
    unstable = prepared.unstable.get(plan.name)
    rows = [determinism_row(prepared.version, plan.name, unstable)] if unstable else []
    rows += _rest_rows(prepared, plan, clients.rest, options)
    served_outputs = None
    if clients.grpc is not None:
        grpc_rows, served_outputs = grpc_signature_rows(prepared, plan, clients.grpc, options)
        rows += grpc_rows
    name = plan.name
    signature = prepared.meta_graph.signature_def[name]
    if is_examples_signature(signature):
        return rows
    ran = any(
        answer.outputs is not None
        for (signature_name, _), answer in prepared.expected.items()
        if signature_name == name
    )
    if ran:
        rows.append(_shapes_row(prepared, name, signature))
    if served_outputs:
        row = grpc_shapes_row(prepared, name, served_outputs)
        if row is not None:
            rows.append(row)
    return rows


def _rest_rows(
    prepared: PreparedVersion, plan: SignaturePlan, client: ServingClient, options: CheckOptions
) -> list[CheckRow]:
    version, name = prepared.version, plan.name
    if not plan.requests:
        if not plan.skipped:
            return []
        detail = " ".join(plan.skipped)
        return [CheckRow(name, "requests", Result.SKIP, version, detail=detail, transport=REST)]
    rows = []
    if plan.skipped:
        rows.append(
            CheckRow(name, "predict row", Result.SKIP, version, detail=" ".join(plan.skipped),
                     transport=REST)
        )  # fmt: skip

    def sent(request: BuiltRequest, expected: Answer) -> Answer:
        return _post(client, request.api, request.body, version)

    def row(request: BuiltRequest, expected: Answer, answers: list[Answer], p50: float) -> CheckRow:
        unstable = prepared.unstable.get(name, frozenset())
        comparisons = [
            compared(expected, answer, unstable, options.rtol, options.atol) for answer in answers
        ]
        return _request_row(version, name, request, expected, comparisons, p50)

    return rows + request_rows(prepared, name, plan.requests, REST, options.repeat, sent, row)


def _request_row(
    version: int,
    name: str,
    request: BuiltRequest,
    expected: Answer,
    comparisons: list[Comparison],
    p50: float,
) -> CheckRow:
    max_diff, wrong = judged(comparisons)
    if wrong is not None:
        return CheckRow(
            name, request.check, Result.FAIL, version, max_diff, p50, detail=wrong.difference,
            transport=REST,
        )  # fmt: skip
    if not expected.ok:
        where = "write the answer" if expected.stage == "encode" else "read the request"
        return CheckRow(
            name, request.check, Result.SKIP, version, None, p50,
            detail=f"TF Serving cannot {where} in this form, and the server agrees: "
            f"{expected.status} {expected.error}",
            transport=REST,
        )  # fmt: skip
    return CheckRow(name, request.check, Result.PASS, version, max_diff, p50, transport=REST)


def _shapes_row(prepared: PreparedVersion, name: str, signature: Any) -> CheckRow:
    """``declared shapes``: the in-process runs keep the signature's dtypes and shapes."""
    assert prepared.reference is not None
    produced_shapes: dict[str, list[list[int]]] = {}
    for (signature_name, _), answer in sorted(prepared.expected.items()):
        if signature_name != name or answer.outputs is None:
            continue
        for alias, value in answer.outputs.items():
            shapes = produced_shapes.setdefault(alias, [])
            if list(value.shape) not in shapes:
                shapes.append(list(value.shape))
    problems = shape_problems(
        signature,
        prepared.reference.output_dtypes(name),
        produced_shapes,
        "the graph produces",
        "the runs produced",
    )
    if problems:
        detail = "the signature lies about its outputs: " + "; ".join(problems)
        return CheckRow(name, "declared shapes", Result.FAIL, prepared.version, detail=detail)
    return CheckRow(name, "declared shapes", Result.PASS, prepared.version)


def golden_rows(
    cases: list[GoldenCase],
    prepared: dict[int, PreparedVersion],
    clients: Clients,
    options: CheckOptions,
) -> list[CheckRow]:
    """One row per golden case and API: the server against in-process, and against
    ``expected``."""
    rows = []
    for case in cases:
        check = f"golden line {case.number}"
        item = prepared[case.resolved_version]
        if item.reference is None:
            rows.append(
                CheckRow(case.signature_key, check, Result.SKIP, case.resolved_version,
                         detail="the version did not load in-process")
            )  # fmt: skip
            continue
        expected = item.reference.answer(case.api, case.body)
        rtol = options.rtol if case.rtol is None else case.rtol
        atol = options.atol if case.atol is None else case.atol
        unstable = item.unstable.get(case.signature_key, frozenset())
        if options.over_rest:
            rows.append(_golden_rest_row(case, expected, clients.rest, rtol, atol, unstable))
        if not options.over_grpc:
            continue
        if clients.grpc is None:
            rows.append(
                CheckRow(case.signature_key, f"{check} grpc", Result.SKIP, case.resolved_version,
                         detail=clients.no_grpc, transport=GRPC)
            )  # fmt: skip
            continue
        signature = item.meta_graph.signature_def[case.signature_key]
        rows.append(golden_grpc_row(case, expected, signature, clients.grpc, rtol, atol, unstable))
    return rows


def _golden_rest_row(
    case: GoldenCase,
    expected: Answer,
    client: ServingClient,
    rtol: float,
    atol: float,
    unstable: frozenset[str],
) -> CheckRow:
    answers, p50 = timed(lambda: _post(client, case.api, case.body, case.version), 1)
    served = answers[0]
    problems = []
    if not expected.ok:
        problems.append(f"in-process the request fails: {expected.status} {expected.error}")
    comparison = compared(expected, served, unstable, rtol, atol)
    if not comparison.same:
        problems.append(f"the server differs from in-process: {comparison.difference}")
    as_rest = None
    if case.expected is not None and served.ok:
        key = next((k for k in _RESPONSE_KEYS if k in served.body), None)
        as_rest = (served.body.get(key) if key else None, "")
    return golden_row(case, REST, p50, problems, comparison.max_abs_diff, as_rest, rtol, atol)
