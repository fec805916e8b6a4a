"""Raw HTTP to a server's REST port: the request-target byte for byte, the answer kept raw.

The conformance tests talk to a real server process only: over HTTP, through its command line,
its exit status and its output. ``requests`` normalises URLs (re-quoting, dropping fragments), so
requests here go through :mod:`http.client`, which sends the request-target byte for byte: the
URL grammar tests need exactly that.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fashion.servers import wait_until
from tests.support import REQUEST_TIMEOUT

if TYPE_CHECKING:
    from fashion.testing.served import ServedModelServer

__all__ = ["ONE", "Reply", "RestProbe", "VersionState", "error_body", "live_probe", "serving"]

#: A predict body of one instance, ``1.0``: what a conformance model answers to it names it
#: (``y = v * x`` models answer their version ``v``, ``half`` answers 2.5).
ONE = {"instances": [1.0]}


@dataclass(frozen=True)
class Reply:
    """One HTTP answer, kept raw: status, headers in order, body bytes."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header_values(self, name: str) -> list[str]:
        """Every value of header ``name`` (case-insensitive), in order."""
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def header(self, name: str) -> str | None:
        """The first value of header ``name``, or None."""
        values = self.header_values(name)
        return values[0] if values else None

    def header_names(self) -> set[str]:
        """Lower-cased names of all headers sent."""
        return {key.lower() for key, _ in self.headers}

    def json(self) -> Any:
        """The body as JSON (``NaN``/``Infinity`` tokens accepted, as TF Serving writes them)."""
        return json.loads(self.body)

    @property
    def error(self) -> str:
        """The ``error`` text of an error body, checking that it is the only key."""
        payload = self.json()
        assert isinstance(payload, dict), payload
        assert list(payload) == ["error"], payload
        return payload["error"]

    def __str__(self) -> str:
        return f"{self.status} {self.body[:300]!r}"


def error_body(escaped_message: str) -> bytes:
    """The exact bytes of TF Serving's error body for a message already escaped as JSON.

    rapidjson's pretty writer (``util/json_tensor.cc``, ``MakeJsonFromStatus``): ``{``, newline,
    four spaces, ``"error": ``, the string, newline, ``}``, no trailing newline.
    """
    return b'{\n    "error": "' + escaped_message.encode() + b'"\n}'


def _encode(body: bytes | str | Mapping[str, Any] | list[Any] | None) -> bytes | None:
    if body is None or isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body).encode()  # allow_nan: NaN and Infinity become bare tokens


def _model_path(model: str, version: int | None, label: str | None) -> str:
    target = f"/v1/models/{quote(model, safe='')}"
    if version is not None:
        target += f"/versions/{version}"
    if label is not None:
        target += f"/labels/{quote(label, safe='')}"
    return target


class RestProbe:
    """Sends raw HTTP requests to one server's REST port on 127.0.0.1.

    Args:
        port: the REST port.
    """

    def __init__(self, port: int) -> None:
        self.port = port

    def request(
        self,
        method: str,
        target: str,
        body: bytes | str | Mapping[str, Any] | list[Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """Send ``method target`` as given (no quoting, no normalisation) and read the answer."""
        payload = _encode(body)
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        try:
            connection.putrequest(method, target, skip_accept_encoding=True)
            for name, value in (headers or {}).items():
                connection.putheader(name, value)
            if payload is not None:
                connection.putheader("Content-Length", str(len(payload)))
            connection.endheaders(payload)
            response = connection.getresponse()
            data = response.read()
            return Reply(response.status, tuple(response.getheaders()), data)
        finally:
            connection.close()

    def get(self, target: str, **kwargs: Any) -> Reply:
        """GET ``target``."""
        return self.request("GET", target, **kwargs)

    def post(
        self, target: str, body: bytes | str | Mapping[str, Any] | list[Any] | None = None
    ) -> Reply:
        """POST ``body`` (a mapping is sent as JSON) to ``target``."""
        return self.request("POST", target, body)

    def call(
        self,
        model: str,
        verb: str,
        body: bytes | str | Mapping[str, Any] | list[Any] | None,
        *,
        version: int | None = None,
        label: str | None = None,
    ) -> Reply:
        """POST to ``/v1/models/{model}[/versions/v|/labels/l]:{verb}`` (name quoted)."""
        return self.post(f"{_model_path(model, version, label)}:{verb}", body)

    def predict(
        self,
        model: str,
        body: bytes | str | Mapping[str, Any] | list[Any] | None,
        *,
        version: int | None = None,
        label: str | None = None,
    ) -> Reply:
        """POST a predict request."""
        return self.call(model, "predict", body, version=version, label=label)

    def status(self, model: str, *, version: int | None = None, label: str | None = None) -> Reply:
        """GET the model status."""
        return self.get(_model_path(model, version, label))

    def metadata(
        self, model: str, *, version: int | None = None, label: str | None = None
    ) -> Reply:
        """GET the model metadata."""
        return self.get(_model_path(model, version, label) + "/metadata")

    def version_states(self, model: str) -> dict[int, VersionState]:
        """The model's versions by number, as the status API reports them ({} on any error)."""
        try:
            reply = self.status(model)
        except (OSError, http.client.HTTPException):  # not listening (yet), or gone
            return {}
        if reply.status != 200:
            return {}
        return {
            int(entry["version"]): VersionState(
                entry["state"], entry["status"]["error_code"], entry["status"]["error_message"]
            )
            for entry in reply.json()["model_version_status"]
        }

    def serves(self, expected: Mapping[str, Collection[int]]) -> bool:
        """Whether each model of ``expected`` has every one of its versions AVAILABLE."""
        for model, versions in expected.items():
            states = self.version_states(model)
            if not all(v in states and states[v].state == "AVAILABLE" for v in versions):
                return False
        return True

    def wait_for_states(
        self, model: str, expected: Mapping[int, str], *, timeout: float = 30.0
    ) -> dict[int, VersionState]:
        """Poll the status until each version in ``expected`` is in the given state.

        Raises:
            fashion.servers.waiting.WaitTimeoutError: not reached in time (the message says what was
                seen last).
        """
        seen: dict[int, VersionState] = {}

        def reached() -> dict[int, VersionState] | None:
            nonlocal seen
            seen = self.version_states(model)
            matches = all(
                version in seen and seen[version].state == state
                for version, state in expected.items()
            )
            return seen if matches else None

        try:
            return wait_until(reached, timeout, f"{model} versions in states {dict(expected)}")
        except TimeoutError as exc:
            raise type(exc)(f"{exc}; last seen: {seen}") from exc


def live_probe(server: ServedModelServer) -> RestProbe:
    """A probe for ``server``'s REST port; fails at once, with the server's log, if it died."""
    server.assert_alive()
    return RestProbe(server.rest_port)


def serving(expected: Mapping[str, Collection[int]]) -> Callable[[str], bool]:
    """A ``ready`` check for :func:`fashion.testing.served.running_model_server`: the server at
    the URL it is given serves every version of ``expected`` (see :meth:`RestProbe.serves`)."""

    def ready(url: str) -> bool:
        return RestProbe(int(url.rsplit(":", 1)[1])).serves(expected)

    return ready


@dataclass(frozen=True)
class VersionState:
    """One entry of ``model_version_status``."""

    state: str
    error_code: str
    error_message: str
