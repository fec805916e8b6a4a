"""A small REST client for TensorFlow Serving's API, built on ``requests``.

Every call has a timeout, and every failure surfaces as one exception family rooted at
:class:`ServingError`: the HTTP-level error carries the status code and the server's ``error``
text; ``requests``' own exceptions are translated in one place and never leak. The exceptions, the
argument checks and :class:`VersionStatus` are shared with :mod:`fashion.clients.grpc`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import numpy as np
import requests
import urllib3

from fashion.preprocess import columnar_body, instances_body
from fashion.servers.waiting import WaitTimeoutError, wait_until

__all__ = [
    "DEFAULT_TIMEOUT",
    "ServingClient",
    "ServingConnectionError",
    "ServingError",
    "ServingHTTPError",
    "ServingProtocolError",
    "ServingTimeoutError",
    "VersionStatus",
    "check_base_url",
    "check_grpc_target",
    "check_timeout",
    "check_version_choice",
    "wait_until_version_available",
]

#: Seconds any single request may take before it is abandoned.
DEFAULT_TIMEOUT = 30.0
_LOST = "connection lost before the whole answer arrived"


class ServingError(Exception):
    """Raised when a call to the model server fails, whatever the reason.

    Attributes:
        status_code: the HTTP status, when the server answered.
        error: the server's ``error`` text, when it sent one.
    """

    def __init__(self, message: str, *, status_code: int | None = None, error: str | None = None):
        super().__init__(message)
        self.status_code = status_code
        self.error = error


class ServingHTTPError(ServingError):
    """Raised when the server answers with a non-2xx status."""


class ServingConnectionError(ServingError):
    """Raised when the server cannot be reached, or the connection ends before the answer does."""


class ServingTimeoutError(ServingError):
    """Raised when the server does not answer, or a version does not load, in time."""


class ServingProtocolError(ServingError):
    """Raised when a 2xx answer is not the JSON the API promises."""


@dataclass(frozen=True)
class VersionStatus:
    """One entry of ``model_version_status``."""

    version: int
    state: str
    error_code: str
    error_message: str


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


def check_base_url(url: str) -> None:
    """Raise ValueError unless ``url`` looks like ``http(s)://host[:port][/prefix]``."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError as exc:
        raise ValueError(f"not a server URL: {url!r} ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not a server URL: {url!r} (expected http://host:port)")
    if parts.query or parts.fragment:
        raise ValueError(f"not a server URL: {url!r} (no query or fragment expected)")


def check_grpc_target(target: str) -> None:
    """Raise ValueError unless ``target`` is ``host:port`` (``[v6]:port``) or ``unix:/path``.

    Here, not in :mod:`fashion.clients.grpc`, so that the CLI can check a target without importing
    TensorFlow (the gRPC messages live in its package).
    """
    expected = "expected host:port or unix:/path"
    if not isinstance(target, str) or not target:
        raise ValueError(f"not a gRPC target: {target!r} ({expected})")
    if target.startswith("unix:"):
        if not target.removeprefix("unix:").strip("/"):
            raise ValueError(f"not a gRPC target: {target!r} (the socket path is empty)")
        return
    if "://" in target:
        raise ValueError(f"not a gRPC target: {target!r} ({expected}, not a URL)")
    try:
        parts = urlsplit(f"//{target}")
        port = parts.port  # raises ValueError for a port that is not a number in range
    except ValueError as exc:
        raise ValueError(f"not a gRPC target: {target!r} ({exc})") from None
    if not parts.hostname or port is None or port == 0 or parts.path or parts.username:
        raise ValueError(f"not a gRPC target: {target!r} ({expected})")
    if parts.query or parts.fragment:
        raise ValueError(f"not a gRPC target: {target!r} ({expected})")


def check_timeout(seconds: float) -> None:
    """Raise ValueError unless ``seconds`` is a positive, finite number."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise ValueError(f"the timeout must be a number of seconds, got {seconds!r}")
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"the timeout must be a positive number of seconds, got {seconds!r}")


def check_version_choice(version: int | None, label: str | None) -> None:
    """Raise ValueError for a version and a label together, or a version that is not an int."""
    if version is not None and label is not None:
        raise ValueError("give a version or a label, not both")
    # Any integer goes to the server, which answers 0 or -1 with its own errors; 1.7 or "2"
    # would be a caller's mistake that int() would quietly turn into another version.
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise ValueError(f"a version is an integer, got {version!r}")


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

    def wait_until_available(
        self, version: int | None = None, *, timeout: float = 60.0, interval: float = 0.1
    ) -> VersionStatus:
        """Poll the model status until ``version`` (or, if None, any version) is AVAILABLE.

        See :func:`wait_until_version_available`, which this calls with :meth:`status`.
        """
        return wait_until_version_available(
            self.status, self.model_name, version, timeout=timeout, interval=interval
        )


def wait_until_version_available(
    status: Callable[[int | None], list[VersionStatus]],
    model_name: str,
    version: int | None = None,
    *,
    timeout: float = 60.0,
    interval: float = 0.1,
) -> VersionStatus:
    """Poll ``status`` until ``version`` (or, if None, any version) is AVAILABLE.

    One loop for both transports, so REST and gRPC clients wait by the same rules: connection
    failures, timeouts and 404s (NOT_FOUND over gRPC) count as "not yet" (the server may still be
    starting); a version whose load ended in an error fails at once instead of waiting for the
    deadline.

    Args:
        status: a client's ``status`` method.
        model_name: for messages.
        version: the version to wait for; None for any.
        timeout: seconds before giving up.
        interval: seconds between polls.

    Raises:
        ServingTimeoutError: not AVAILABLE within ``timeout`` seconds; says what was seen.
        ServingError: the version's load failed, or the server answered something unusable.
    """
    last_seen: list[str] = ["no answer yet"]

    def available() -> VersionStatus | None:
        try:
            entries = status(version)
        except (ServingConnectionError, ServingTimeoutError) as exc:
            last_seen[0] = str(exc)
            return None
        except ServingError as exc:
            if exc.status_code != 404:
                raise
            last_seen[0] = str(exc)
            return None
        last_seen[0] = ", ".join(f"{e.version}:{e.state}" for e in entries)
        for entry in entries:
            if entry.state == "AVAILABLE":
                return entry
            if version is not None and entry.state == "END" and entry.error_code != "OK":
                raise ServingError(
                    f"model {model_name} version {entry.version} failed to load: "
                    f"{entry.error_code}: {entry.error_message}",
                    error=entry.error_message,
                )
        return None

    what = f"model {model_name}" + (f" version {version}" if version else "")
    try:
        return wait_until(available, timeout, f"{what} to be AVAILABLE", interval=interval)
    except WaitTimeoutError as exc:
        raise ServingTimeoutError(f"{exc}; last seen: {last_seen[0]}") from exc
