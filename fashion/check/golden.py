"""The user's own golden cases (``--requests FILE``): TF Serving request bodies, one per line.

Each line is a JSON object: a request body exactly as a client would POST it
(``signature_name``, ``instances`` / ``inputs`` / ``examples`` / ``context``), plus optional
members that say how to check it and are removed before sending:

- ``expected``: what the answer's ``predictions``, ``outputs`` or ``results`` must be;
- ``rtol``, ``atol``: tolerances for this case (default: the command's);
- ``version``: the version to ask (default: the latest, through the model's default route);
- ``api``: ``predict``, ``classify`` or ``regress`` (default: ``predict``, or for a body with
  ``examples`` the signature's own method).

Every line is also answered in-process, and the server must agree with that as well.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fashion.check.options import CheckInputError
from fashion.check.request_builder import CLASSIFY_METHOD, REGRESS_METHOD

__all__ = ["GoldenCase", "GoldenLine", "read_golden_lines", "resolve_golden_cases"]

_EXTRAS = ("expected", "rtol", "atol", "version", "api")
_APIS = ("predict", "classify", "regress")


@dataclass(frozen=True)
class GoldenLine:
    """One parsed line, before it is matched with the model's signatures.

    Attributes:
        number: the line number in the file (1-based).
        body: the request body members (the extras removed).
        extras: the ``expected``, ``rtol``, ``atol``, ``version`` and ``api`` members given.
    """

    number: int
    body: dict[str, Any]
    extras: dict[str, Any]


@dataclass(frozen=True)
class GoldenCase:
    """A golden line matched with a version and a signature, ready to send.

    Attributes:
        number: the line number.
        api: ``predict``, ``classify`` or ``regress``.
        signature_key: the signature that answers it.
        version: the version that answers it (None: the latest, by the default route).
        resolved_version: the version checked in-process.
        body: the JSON body to POST.
        expected: what ``predictions``/``outputs``/``results`` must be, if given.
        rtol: this case's relative tolerance, if given.
        atol: this case's absolute tolerance, if given.
    """

    number: int
    api: str
    signature_key: str
    version: int | None
    resolved_version: int
    body: bytes = field(repr=False)
    expected: Any = None
    rtol: float | None = None
    atol: float | None = None


def read_golden_lines(path: Path) -> list[GoldenLine]:
    """Read and parse the file; blank lines are skipped.

    Raises:
        CheckInputError: the file cannot be read, a line is not a JSON object, or an extra member
            has the wrong type (the message names the file and the line).
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise CheckInputError(f"--requests {path}: cannot read it ({reason})") from exc
    lines = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CheckInputError(
                f"{where}: malformed JSON line ({exc.msg} at column {exc.colno})"
            ) from None
        if not isinstance(value, dict):
            raise CheckInputError(
                f"{where}: expected a JSON object (a TF Serving request body), got "
                f"{type(value).__name__}"
            )
        extras = {key: value.pop(key) for key in _EXTRAS if key in value}
        _check_extras(where, value, extras)
        lines.append(GoldenLine(number, value, extras))
    if not lines:
        raise CheckInputError(f"--requests {path}: no request lines")
    return lines


def _check_extras(where: str, body: Mapping[str, Any], extras: Mapping[str, Any]) -> None:
    name = body.get("signature_name", "")
    if not isinstance(name, str):
        raise CheckInputError(f"{where}: signature_name must be a string, got {name!r}")
    for key in ("rtol", "atol"):
        value = extras.get(key, 0.0)
        if not _is_number(value) or not math.isfinite(value) or value < 0:
            raise CheckInputError(f"{where}: {key} must be a non-negative number, got {value!r}")
    version = extras.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise CheckInputError(f"{where}: version must be a version number, got {version!r}")
    if extras.get("api", "predict") not in _APIS:
        raise CheckInputError(f"{where}: api must be one of {', '.join(_APIS)}")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def resolve_golden_cases(
    path: Path, lines: list[GoldenLine], methods: Mapping[int, Mapping[str, str]]
) -> list[GoldenCase]:
    """Match each line with a version and a signature of the model.

    Args:
        path: the file (for messages).
        lines: from :func:`read_golden_lines`.
        methods: version -> signature key -> method name, for every checked version.

    Raises:
        CheckInputError: a line names a version that is not checked or a signature the version
            does not have, or sends ``examples`` to a signature that is neither classify nor
            regress without saying which ``api`` to use.
    """
    latest = max(methods)
    cases = []
    for line in lines:
        where = f"{path}:{line.number}"
        version = line.extras.get("version")
        if version is not None and version not in methods:
            known = ", ".join(map(str, sorted(methods)))
            raise CheckInputError(f"{where}: version {version} is not checked (versions: {known})")
        resolved = latest if version is None else version
        key = line.body.get("signature_name") or "serving_default"
        if key not in methods[resolved]:
            known = ", ".join(sorted(methods[resolved])) or "none"
            raise CheckInputError(
                f"{where}: unknown signature {key!r} (version {resolved} has: {known})"
            )
        api = line.extras.get("api") or _api_for(where, line.body, methods[resolved][key])
        cases.append(
            GoldenCase(
                number=line.number,
                api=api,
                signature_key=key,
                version=version,
                resolved_version=resolved,
                body=json.dumps(line.body, separators=(",", ":")).encode(),
                expected=line.extras.get("expected"),
                rtol=line.extras.get("rtol"),
                atol=line.extras.get("atol"),
            )
        )
    return cases


def _api_for(where: str, body: Mapping[str, Any], method: str) -> str:
    if "examples" not in body:
        return "predict"
    if method == CLASSIFY_METHOD:
        return "classify"
    if method == REGRESS_METHOD:
        return "regress"
    raise CheckInputError(
        f"{where}: 'examples' go to classify or regress, but the signature's method is "
        f'{method!r}; add "api": "classify" or "api": "regress"'
    )
