"""The REST client for TensorFlow Serving's API, built on ``requests``.

Every call has a timeout, and every failure surfaces as one exception family rooted at
:class:`~fashion.clients.errors.ServingError`, shared with the gRPC client: the HTTP-level error
carries the status code and the server's ``error`` text; ``requests``' own exceptions are
translated in one place and never leak. Its calls answer in the gRPC client's shapes
(:mod:`fashion.clients.grpc`), so one scenario runs over both transports and compares.

Importing this module imports neither TensorFlow nor grpcio.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import numpy as np
import requests
import urllib3

from fashion.clients.arguments import (
    DEFAULT_TIMEOUT,
    check_base_url,
    check_timeout,
    check_version_choice,
)
from fashion.clients.errors import (
    ServingConnectionError,
    ServingError,
    ServingHTTPError,
    ServingProtocolError,
    ServingTimeoutError,
)
from fashion.clients.version_status import VersionStatus, wait_until_version_available
from fashion.preprocess import columnar_body, instances_body

__all__ = ["ServingClient"]

_LOST = "connection lost before the whole answer arrived"


def _decode_json(response: requests.Response) -> Any:
    # TF Serving writes NaN and Infinity as bare tokens, which json accepts and strict parsers do
    # not; so json, not orjson, on this side.
    try:
        return json.loads(response.content)
    except ValueError as exc:
        snippet = response.content[:200].decode("utf-8", "replace")
        raise ServingProtocolError(
            f"{response.request.method} {response.url} answered {response.status_code} with a "
            f"body that is not JSON: {snippet!r}",
            status_code=response.status_code,
        ) from exc


def _as_array(value: Any) -> np.ndarray:
    return np.asarray(value, dtype=np.float32) if _is_numeric(value) else np.asarray(value)


def _row_outputs(rows: Any) -> np.ndarray | dict[str, np.ndarray]:
    """``predictions``: a list of rows, each a value or (several outputs) a map by name."""
    if not isinstance(rows, list):
        raise TypeError("expected a list of rows")
    if rows and isinstance(rows[0], dict):
        names = list(rows[0])
        if any(not isinstance(row, dict) or list(row) != names for row in rows):
            raise ValueError("rows name different outputs")
        return {name: _as_array([row[name] for row in rows]) for name in names}
    return _as_array(rows)


def _columnar_outputs(outputs: Any) -> np.ndarray | dict[str, np.ndarray]:
    """``outputs``: one tensor, or a map of tensors by output name."""
    if isinstance(outputs, dict):
        return {name: _as_array(value) for name, value in outputs.items()}
    return _as_array(outputs)


def _is_numeric(value: Any) -> bool:
    while isinstance(value, list) and value:
        value = value[0]
    return isinstance(value, int | float) and not isinstance(value, bool)


def _float32(value: Any) -> float:
    """A JSON number read back as the float32 the server printed (its shortest form)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"not a number: {value!r}")
    return float(np.float32(value))


def _why_not_connected(exc: requests.ConnectionError) -> str:
    """The operating system's reason (``Connection refused``) under urllib3's wrappers."""
    error: object = exc
    for _ in range(10):  # requests -> MaxRetryError -> NewConnectionError -> OSError
        if isinstance(error, OSError) and error.strerror:
            return str(error.strerror)
        if not isinstance(error, BaseException):
            break
        reason = getattr(error, "reason", None)
        first = error.args[0] if error.args else None
        error = (
            reason
            if isinstance(reason, BaseException)
            else error.__cause__ or error.__context__ or first
        )
    return str(exc)


class ServingClient:
    """Talks to one model on one TF Serving REST endpoint.

    Args:
        base_url: e.g. ``http://127.0.0.1:8501``.
        model_name: the served model's name.
        timeout: seconds for each request.

    Use as a context manager, or call :meth:`close`, to release the connection pool.

    Raises:
        ValueError: ``base_url`` is not an http(s) URL with a host, ``model_name`` is empty, or
            ``timeout`` is not a positive number of seconds (found here, not at the first call).
    """

    def __init__(self, base_url: str, model_name: str, *, timeout: float = DEFAULT_TIMEOUT):
        check_base_url(base_url)
        if not model_name:
            raise ValueError("the model name is empty")
        check_timeout(timeout)
        self.base_url = base_url.rstrip("/")
        self.model_name = model_name
        self.timeout = timeout
        self._session = requests.Session()

    def __enter__(self) -> ServingClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close pooled connections."""
        self._session.close()

    def model_url(self, *, version: int | None = None, label: str | None = None) -> str:
        """The URL prefix for this model, optionally pinned to a version or a label."""
        check_version_choice(version, label)
        url = f"{self.base_url}/v1/models/{quote(self.model_name, safe='')}"
        if version is not None:
            url += f"/versions/{version}"
        elif label is not None:
            url += f"/labels/{quote(label, safe='')}"
        return url

    @contextmanager
    def _translated(self, method: str, url: str) -> Iterator[None]:
        try:
            yield
        except requests.Timeout as exc:
            raise ServingTimeoutError(
                f"{method} {url}: no answer within {self.timeout:g} s"
            ) from exc
        except requests.ConnectionError as exc:
            cause = exc.args[0] if exc.args else None
            # requests reports a read timeout in the middle of the body as a ConnectionError.
            if isinstance(cause, urllib3.exceptions.ReadTimeoutError):
                raise ServingTimeoutError(
                    f"{method} {url}: no answer within {self.timeout:g} s"
                ) from exc
            # Connected, request sent, then the connection closed or reset before any answer.
            if isinstance(cause, urllib3.exceptions.ProtocolError):
                raise ServingConnectionError(f"{method} {url}: {_LOST} ({exc})") from exc
            raise ServingConnectionError(
                f"{method} {url}: cannot connect ({_why_not_connected(exc)})"
            ) from exc
        except requests.exceptions.ChunkedEncodingError as exc:
            # The connection ended in the middle of the body (short fixed length or chunked).
            raise ServingConnectionError(f"{method} {url}: {_LOST} ({exc})") from exc
        except requests.RequestException as exc:
            raise ServingError(f"{method} {url}: {exc}") from exc

    def request(self, method: str, url: str, *, body: bytes | None = None) -> Any:
        """Send one request and return the decoded JSON of a 2xx answer.

        Raises:
            ServingHTTPError: non-2xx status (``status_code`` and ``error`` set).
            ServingConnectionError, ServingTimeoutError, ServingProtocolError: see their docs.
        """
        with self._translated(method, url):
            response = self._session.request(
                method,
                url,
                data=body,
                timeout=self.timeout,
                headers={"Content-Type": "application/json"} if body is not None else None,
            )
        if response.ok:
            return _decode_json(response)
        error = None
        try:
            payload = json.loads(response.content)
            if isinstance(payload, dict) and isinstance(payload.get("error"), str):
                error = payload["error"]
        except ValueError:
            pass
        detail = error if error is not None else response.text[:200].strip()
        if not detail:
            detail = f"(empty body; {response.reason or 'no reason phrase'})"
        raise ServingHTTPError(
            f"{method} {url} answered {response.status_code}: {detail}",
            status_code=response.status_code,
            error=error,
        )

    def predict_json(
        self,
        body: Mapping[str, Any],
        *,
        version: int | None = None,
        label: str | None = None,
    ) -> Any:
        """POST a ready-made predict body and return the decoded answer as it came."""
        url = self.model_url(version=version, label=label) + ":predict"
        return self.request("POST", url, body=json.dumps(body).encode())

    def predict(
        self,
        instances: np.ndarray | list[Any],
        *,
        version: int | None = None,
        label: str | None = None,
        signature_name: str | None = None,
        columnar: bool = False,
    ) -> np.ndarray | dict[str, np.ndarray]:
        """Predict, in row (``instances``) or columnar (``inputs``) format.

        Returns:
            The output as an array (float32 for numbers) when the signature has one output, else
            a dict of arrays by output name.

        Raises:
            ServingError: any failure (see :meth:`request`).
        """
        if columnar:
            body = columnar_body(instances, signature_name=signature_name)
        else:
            body = instances_body(instances, signature_name=signature_name)
        answer = self.predict_json(body, version=version, label=label)
        key = "outputs" if columnar else "predictions"
        if not isinstance(answer, dict) or key not in answer:
            raise ServingProtocolError(f"predict answer has no {key!r} key: {str(answer)[:200]}")
        try:
            return _columnar_outputs(answer[key]) if columnar else _row_outputs(answer[key])
        except (ValueError, TypeError, KeyError) as exc:
            raise ServingProtocolError(
                f"predict answer's {key!r} is not a tensor or a map of tensors ({exc}): "
                f"{str(answer[key])[:200]}"
            ) from exc

    def status(self, version: int | None = None) -> list[VersionStatus]:
        """The model's ``model_version_status`` entries, as the server orders them."""
        answer = self.request("GET", self.model_url(version=version))
        try:
            return [
                VersionStatus(
                    version=int(entry["version"]),
                    state=entry["state"],
                    error_code=entry["status"]["error_code"],
                    error_message=entry["status"]["error_message"],
                )
                for entry in answer["model_version_status"]
            ]
        except (KeyError, TypeError, ValueError) as exc:
            raise ServingProtocolError(f"unexpected status answer: {str(answer)[:200]}") from exc

    def metadata(self, *, version: int | None = None, label: str | None = None) -> dict[str, Any]:
        """The model's metadata (``model_spec`` and ``metadata.signature_def``)."""
        answer = self.request("GET", self.model_url(version=version, label=label) + "/metadata")
        if not isinstance(answer, dict) or not {"model_spec", "metadata"} <= answer.keys():
            raise ServingProtocolError(
                f"metadata answer lacks 'model_spec' or 'metadata': {str(answer)[:200]}"
            )
        return answer

    def classify(
        self,
        examples: Sequence[Mapping[str, Any]],
        *,
        signature_name: str | None = None,
        context: Mapping[str, Any] | None = None,
        version: int | None = None,
        label: str | None = None,
    ) -> list[list[tuple[str, float]]]:
        """``POST .../<model>:classify``: per example, its ``(label, score)`` classes.

        The gRPC client's ``classify`` shape, so the transports compare: REST prints each
        float32 score in its shortest form, so it is read back as a float32, as gRPC's are.

        Args:
            examples: dicts of feature values as REST's JSON takes them (a number or a list of
                numbers, a string; binary values as ``{"b64": ...}``, ``api_rest.md``).
            signature_name: default ``serving_default``.
            context: features shared by every example.
            version: ask this version (default: the latest).
            label: ask the version with this label.

        Raises:
            ServingError: any failure (see :meth:`request`); ``ServingProtocolError`` when the
                ``results`` are not lists of label-score pairs.
        """
        results = self._results("classify", examples, signature_name, context, version, label)
        try:
            return [[(str(name), _float32(score)) for name, score in row] for row in results]
        except (TypeError, ValueError) as exc:
            raise ServingProtocolError(
                f"classify results are not label-score pairs: {str(results)[:200]}"
            ) from exc

    def regress(
        self,
        examples: Sequence[Mapping[str, Any]],
        *,
        signature_name: str | None = None,
        context: Mapping[str, Any] | None = None,
        version: int | None = None,
        label: str | None = None,
    ) -> list[float]:
        """``POST .../<model>:regress``: one value per example; arguments as :meth:`classify`'s.

        Raises:
            ServingError: any failure (see :meth:`request`); ``ServingProtocolError`` when the
                ``results`` are not numbers.
        """
        results = self._results("regress", examples, signature_name, context, version, label)
        try:
            return [_float32(value) for value in results]
        except (TypeError, ValueError) as exc:
            raise ServingProtocolError(
                f"regress results are not numbers: {str(results)[:200]}"
            ) from exc

    def _results(
        self,
        method: str,
        examples: Sequence[Mapping[str, Any]],
        signature_name: str | None,
        context: Mapping[str, Any] | None,
        version: int | None,
        label: str | None,
    ) -> list[Any]:
        """POST REST's Example-API body (``api_rest.md``) and return its ``results`` list."""
        body: dict[str, Any] = {"examples": [dict(example) for example in examples]}
        if signature_name is not None:
            body["signature_name"] = signature_name
        if context is not None:
            body["context"] = dict(context)
        url = f"{self.model_url(version=version, label=label)}:{method}"
        answer = self.request("POST", url, body=json.dumps(body).encode())
        if not isinstance(answer, dict) or not isinstance(answer.get("results"), list):
            raise ServingProtocolError(
                f"{method} answer has no 'results' list: {str(answer)[:200]}"
            )
        return answer["results"]

    def wait_until_available(
        self, version: int | None = None, *, timeout: float = 60.0, interval: float = 0.1
    ) -> VersionStatus:
        """Poll the model status until ``version`` (or, if None, any version) is AVAILABLE.

        See :func:`~fashion.clients.version_status.wait_until_version_available`, which this
        calls with :meth:`status`.
        """
        return wait_until_version_available(
            self.status, self.model_name, version, timeout=timeout, interval=interval
        )
