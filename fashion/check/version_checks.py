"""The checks of one served version: metadata, built requests, declared shapes, golden cases.

A version is *prepared* in-process first (loaded with the session loader, its requests built and
answered), which can happen while the server is still starting; the served side is asked once
the version is AVAILABLE. Every row compares the server with the in-process answer to the same
bytes, so a difference is the server's (or the transport's), never the request's.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fashion.check.compare import Answer, compare_answers, compare_json
from fashion.check.golden import GoldenCase
from fashion.check.options import CheckOptions
from fashion.check.reference import Reference
from fashion.check.report import CheckRow, Result
from fashion.check.request_builder import (
    INIT_OP_SIGNATURE,
    BuiltRequest,
    SignaturePlan,
    is_examples_signature,
    plan_signature,
)
from fashion.check.traps import explain_run_failure, signature_warnings
from fashion.clients.errors import ServingError
from fashion.clients.rest import ServingClient
from fashion.serving.status import ServingStatusError

if TYPE_CHECKING:
    from tensorflow.core.protobuf import meta_graph_pb2

__all__ = ["PreparedVersion", "golden_rows", "prepare_version", "served_rows"]

_RESPONSE_KEYS = ("predictions", "outputs", "results")
_BAD_REQUEST = 400


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
        expected: (signature, check) -> the in-process answer.
    """

    version: int
    directory: Path
    meta_graph: meta_graph_pb2.MetaGraphDef
    reference: Reference | None = None
    load_error: str = ""
    plans: list[SignaturePlan] = field(default_factory=list)
    expected: dict[tuple[str, str], Answer] = field(default_factory=dict)

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
        prepared.reference = Reference.load(str(directory))
    except ServingStatusError as exc:
        prepared.load_error = exc.as_status_text()
        return prepared
    for name in sorted(meta_graph.signature_def):
        if name == INIT_OP_SIGNATURE:
            continue
        plan = plan_signature(name, meta_graph.signature_def[name], meta_graph, options)
        prepared.plans.append(plan)
        for request in plan.requests:
            answer = prepared.reference.answer(request.api, request.body)
            prepared.expected[(name, request.check)] = answer
            if answer.stage == "run":
                break  # the signature cannot run: one row says so (see served_rows)
    return prepared


def _post(client: ServingClient, api: str, body: bytes, version: int | None) -> Answer:
    url = f"{client.model_url(version=version)}:{api}"
    try:
        return Answer(body=client.request("POST", url, body=body))
    except ServingError as exc:
        return Answer(
            status=exc.status_code, error=exc.error if exc.error is not None else str(exc)
        )


def _timed(call: Callable[[], Answer], repeat: int) -> tuple[list[Answer], float]:
    answers, times = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        answers.append(call())
        times.append((time.perf_counter() - start) * 1000)
    return answers, statistics.median(times)


def served_rows(
    prepared: PreparedVersion, client: ServingClient, options: CheckOptions
) -> list[CheckRow]:
    """Every row of an AVAILABLE version: metadata, warnings, requests, declared shapes."""
    rows = [_metadata_row(prepared, client)]
    rows += signature_warnings(prepared.version, prepared.meta_graph.signature_def)
    for plan in prepared.plans:
        rows += _signature_rows(prepared, plan, client, options)
    return rows


def _metadata_row(prepared: PreparedVersion, client: ServingClient) -> CheckRow:
    from google.protobuf import json_format
    from tensorflow_serving.apis import get_model_metadata_pb2

    version = prepared.version
    start = time.perf_counter()
    try:
        answer = client.metadata(version=version)
    except ServingError as exc:
        return CheckRow("", "metadata", Result.FAIL, version, detail=str(exc))
    elapsed = (time.perf_counter() - start) * 1000
    served = get_model_metadata_pb2.SignatureDefMap()
    try:
        document = dict(answer["metadata"]["signature_def"])
        document.pop("@type", None)
        json_format.ParseDict(document, served, ignore_unknown_fields=True)
    except (KeyError, TypeError, json_format.ParseError) as exc:
        detail = f"the metadata answer is not a SignatureDefMap ({exc}): {str(answer)[:300]}"
        return CheckRow("", "metadata", Result.FAIL, version, p50_ms=elapsed, detail=detail)
    differences = _signature_differences(prepared.meta_graph.signature_def, served.signature_def)
    if differences:
        detail = "served metadata differs from the SavedModel's: " + "; ".join(differences)
        return CheckRow("", "metadata", Result.FAIL, version, p50_ms=elapsed, detail=detail)
    return CheckRow("", "metadata", Result.PASS, version, p50_ms=elapsed)


def _tensor_text(info: Any) -> str:
    from fashion.serving.runtime.signature_info import dtype_name

    shape = info.tensor_shape
    dims = "unknown rank" if shape.unknown_rank else [int(d.size) for d in shape.dim]
    return f"{dtype_name(info.dtype)} {dims} ({info.name})"


def _signature_differences(own: Any, served: Any) -> list[str]:
    found = []
    for name in sorted(set(own) - set(served)):
        found.append(f"signature {name!r} is not served")
    for name in sorted(set(served) - set(own)):
        found.append(f"signature {name!r} is served but not in the SavedModel")
    for name in sorted(set(own) & set(served)):
        mine, theirs = own[name], served[name]
        if mine.method_name != theirs.method_name:
            found.append(
                f"{name}: method {theirs.method_name!r} served, {mine.method_name!r} saved"
            )
        for kind in ("inputs", "outputs"):
            mine_map, their_map = getattr(mine, kind), getattr(theirs, kind)
            for alias in sorted(set(mine_map) | set(their_map)):
                if alias not in their_map or alias not in mine_map:
                    where = "served only" if alias not in mine_map else "not served"
                    found.append(f"{name}: {kind[:-1]} {alias!r} {where}")
                elif mine_map[alias] != their_map[alias]:
                    served_as, saved_as = (
                        _tensor_text(their_map[alias]),
                        _tensor_text(mine_map[alias]),
                    )
                    found.append(
                        f"{name}: {kind[:-1]} {alias!r} served as {served_as}, saved as {saved_as}"
                    )
    return found


def _signature_rows(
    prepared: PreparedVersion, plan: SignaturePlan, client: ServingClient, options: CheckOptions
) -> list[CheckRow]:
    version, name = prepared.version, plan.name
    rows = []
    if not plan.requests:
        return [CheckRow(name, "requests", Result.SKIP, version, detail=" ".join(plan.skipped))]
    if plan.skipped:
        rows.append(
            CheckRow(name, "predict row", Result.SKIP, version, detail=" ".join(plan.skipped))
        )
    for request in plan.requests:
        expected = prepared.expected.get((name, request.check))
        if expected is None:
            break  # an earlier request of this signature failed to run in-process
        answers, p50 = _timed(
            lambda request=request: _post(client, request.api, request.body, version),
            options.repeat,
        )
        if expected.stage == "run":
            rows.append(_run_failure_row(prepared, name, request, expected, answers[0], p50))
            break
        rows.append(_request_row(version, name, request, expected, answers, p50, options))
    signature = prepared.meta_graph.signature_def[name]
    ran = any(
        answer.outputs is not None
        for (signature_name, _), answer in prepared.expected.items()
        if signature_name == name
    )
    if ran and not is_examples_signature(signature):
        rows.append(_shapes_row(prepared, name, signature))
    return rows


def _first_line(text: str | None, limit: int = 300) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _run_failure_row(
    prepared: PreparedVersion,
    name: str,
    request: BuiltRequest,
    expected: Answer,
    served: Answer,
    p50: float,
) -> CheckRow:
    signature = prepared.meta_graph.signature_def[name]
    if served.ok:
        server = "The server answered it, though."
    elif (served.status, served.error) == (expected.status, expected.error):
        server = f"The server answers the same {served.status}."
    else:
        server = f"The server answered {served.status}: {_first_line(served.error)}"
    inputs = ", ".join(
        f"{alias}: {_tensor_text(signature.inputs[alias])}" for alias in sorted(signature.inputs)
    )
    failure = (
        f"In-process, with the session loader TF Serving uses, {request.check} built from the "
        f"signature's declared inputs ({inputs}) fails: {expected.status} "
        f"{_first_line(expected.error)} {server}"
    )
    explanation = explain_run_failure(expected.error or "", prepared.meta_graph, signature)
    check = explanation.trap if explanation and explanation.trap else request.check
    detail = failure
    if explanation and explanation.trap:
        detail = f"{explanation.text}\n{failure}"
    elif explanation:
        detail = f"{failure}\n{explanation.text}"
    elif expected.status == _BAD_REQUEST:
        detail += (
            " The signature's declared inputs do not describe what the graph accepts (or the "
            "graph refuses the seeded values): fix the signature, or send values the graph "
            "accepts with --dim or --requests."
        )
    return CheckRow(name, check, Result.FAIL, prepared.version, p50_ms=p50, detail=detail)


def _request_row(
    version: int,
    name: str,
    request: BuiltRequest,
    expected: Answer,
    answers: list[Answer],
    p50: float,
    options: CheckOptions,
) -> CheckRow:
    comparisons = [compare_answers(expected, a, options.rtol, options.atol) for a in answers]
    diffs = [c.max_abs_diff for c in comparisons if c.max_abs_diff is not None]
    max_diff = max(diffs) if diffs else None
    wrong = next((c for c in comparisons if not c.same), None)
    if wrong is not None:
        return CheckRow(
            name, request.check, Result.FAIL, version, max_diff, p50, detail=wrong.difference
        )
    if not expected.ok:
        where = "write the answer" if expected.stage == "encode" else "read the request"
        return CheckRow(
            name, request.check, Result.SKIP, version, None, p50,
            detail=f"TF Serving cannot {where} in this form, and the server agrees: "
            f"{expected.status} {expected.error}",
        )  # fmt: skip
    return CheckRow(name, request.check, Result.PASS, version, max_diff, p50)


def _shapes_row(prepared: PreparedVersion, name: str, signature: Any) -> CheckRow:
    from fashion.serving.runtime.signature_info import dtype_name

    assert prepared.reference is not None
    produced = prepared.reference.output_dtypes(name)
    problems = []
    for alias in sorted(signature.outputs):
        declared = dtype_name(signature.outputs[alias].dtype)
        if produced.get(alias, declared) != declared:
            problems.append(
                f"output {alias!r} is declared {declared} but the graph produces {produced[alias]}"
            )
    produced_shapes: dict[str, list[list[int]]] = {}
    for (signature_name, _), answer in sorted(prepared.expected.items()):
        if signature_name != name or answer.outputs is None:
            continue
        for alias, value in answer.outputs.items():
            shapes = produced_shapes.setdefault(alias, [])
            if list(value.shape) not in shapes:
                shapes.append(list(value.shape))
    for alias, shapes in sorted(produced_shapes.items()):
        info = signature.outputs[alias]
        if not info.HasField("tensor_shape") or info.tensor_shape.unknown_rank:
            continue
        dims = [int(d.size) for d in info.tensor_shape.dim]
        wrong = [
            shape
            for shape in shapes
            if len(shape) != len(dims)
            or any(d >= 0 and d != a for d, a in zip(dims, shape, strict=True))
        ]
        if wrong:
            produced_text = " and ".join(str(shape) for shape in wrong)
            problems.append(
                f"output {alias!r} is declared {dims}, but the runs produced {produced_text}"
            )
    if problems:
        detail = "the signature lies about its outputs: " + "; ".join(problems)
        return CheckRow(name, "declared shapes", Result.FAIL, prepared.version, detail=detail)
    return CheckRow(name, "declared shapes", Result.PASS, prepared.version)


def golden_rows(
    cases: list[GoldenCase],
    prepared: dict[int, PreparedVersion],
    client: ServingClient,
    options: CheckOptions,
) -> list[CheckRow]:
    """One row per golden case: the server against in-process, and against ``expected``."""
    rows = []
    for case in cases:
        check = f"golden line {case.number}"
        reference = prepared[case.resolved_version].reference
        if reference is None:
            rows.append(
                CheckRow(case.signature_key, check, Result.SKIP, case.resolved_version,
                         detail="the version did not load in-process")
            )  # fmt: skip
            continue
        expected = reference.answer(case.api, case.body)
        answers, p50 = _timed(lambda case=case: _post(client, case.api, case.body, case.version), 1)
        served = answers[0]
        rtol = options.rtol if case.rtol is None else case.rtol
        atol = options.atol if case.atol is None else case.atol
        problems = []
        if not expected.ok:
            problems.append(f"in-process the request fails: {expected.status} {expected.error}")
        comparison = compare_answers(expected, served, rtol, atol)
        if not comparison.same:
            problems.append(f"the server differs from in-process: {comparison.difference}")
        max_diff = comparison.max_abs_diff
        if case.expected is not None and served.ok:
            key = next((k for k in _RESPONSE_KEYS if k in served.body), None)
            against = compare_json(case.expected, served.body.get(key) if key else None, rtol, atol)
            if not against.same:
                problems.append(f"the answer differs from 'expected': {against.difference}")
            if against.max_abs_diff is not None:
                max_diff = max(max_diff or 0.0, against.max_abs_diff)
        result = Result.FAIL if problems else Result.PASS
        rows.append(
            CheckRow(case.signature_key, check, result, case.resolved_version, max_diff, p50,
                     detail=" ".join(problems))
        )  # fmt: skip
    return rows
