"""Which handler gets a request: TF Serving's URL grammar and libevent's front door.

The real server decides in layers, and each layer has its own way of failing:

1. libevent refuses TRACE, CONNECT and unknown methods (501 HTML page);
2. libevent's strict URI parser refuses malformed request-targets (400 HTML page);
3. the Prometheus path, if configured, is matched on the raw path without query;
4. anything whose path+query does not match ``(?i)/v1/.*`` gets libevent's 404 HTML page;
5. the REST handler answers OPTIONS preflights, then matches the POST or GET grammar on the raw
   path+query, case-insensitively, and percent-decodes model name and label like libcurl.

:func:`route` runs those layers in order on the method and the raw request-target and returns
a :class:`Route`; it performs no I/O, so the HTTP layer stays a thin adapter.
"""

from __future__ import annotations

import dataclasses
import enum
import ipaddress
import re

from fashion.serving.status import Code, ServingStatusError

__all__ = [
    "CORS_HEADERS",
    "HTML_400_BAD_REQUEST",
    "HTML_404_NOT_FOUND",
    "HTML_501_NOT_IMPLEMENTED",
    "Route",
    "RouteKind",
    "html_error_page",
    "preflight_allowed",
    "route",
    "unescape",
]


def html_error_page(status: int, reason: str) -> str:
    """The body of libevent 2.1's ``evhttp_send_error`` page (sent as ``text/html``)."""
    return (
        f"<HTML><HEAD>\n<TITLE>{status} {reason}</TITLE>\n</HEAD><BODY>\n"
        f"<H1>{reason}</H1>\n</BODY></HTML>\n"
    )


HTML_404_NOT_FOUND = html_error_page(404, "Not Found")
HTML_400_BAD_REQUEST = html_error_page(400, "Bad Request")
HTML_501_NOT_IMPLEMENTED = html_error_page(501, "Not Implemented")

CORS_HEADERS: tuple[tuple[str, str], ...] = (
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Methods", "POST, GET"),
    ("Access-Control-Allow-Headers", "Content-Type"),
)
"""Added to every REST-handler response when ``--rest_api_enable_cors_support`` is set."""

_TRANSPORT_METHODS = frozenset({"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"})
_INT64_MAX = 2**63 - 1


class RouteKind(enum.Enum):
    """What the server does with a request."""

    PREDICT = "predict"
    CLASSIFY = "classify"
    REGRESS = "regress"
    STATUS = "status"
    METADATA = "metadata"
    PREFLIGHT = "preflight"
    """OPTIONS on ``/v1/...``: 200 if :func:`preflight_allowed`, else 400; empty body."""
    PROMETHEUS = "prometheus"
    """The metrics path; ``error`` is set when a query/fragment was sent (400 text/plain)."""
    JSON_ERROR = "json_error"
    """REST handler error: ``http_status`` with ``{"error": error.message}``."""
    EMPTY_ERROR = "empty_error"
    """REST handler error sent with an empty body (version out of int64 range)."""
    HTML_ERROR = "html_error"
    """libevent's page: ``http_status`` with ``html_body``, ``text/html``, ``Connection: close``."""


_VERBS = {
    "predict": RouteKind.PREDICT,
    "classify": RouteKind.CLASSIFY,
    "regress": RouteKind.REGRESS,
}


@dataclasses.dataclass(frozen=True)
class Route:
    """The outcome of routing one request.

    Attributes:
        kind: which handler, or which kind of error.
        path_and_query: the text the REST handler works on (path, ``?query``, ``#fragment``).
        model_name: percent-decoded model name (predict/classify/regress/status/metadata).
        version: the ``/versions/{v}`` number, if given.
        label: the percent-decoded ``/labels/{l}``, if given; always ``None`` for STATUS,
            which ignores labels (``get_model_status_impl.cc``).
        error: the status to report for the error kinds (and PROMETHEUS with a query).
        http_status: the HTTP status for the error kinds; 200 otherwise.
        html_body: the page for HTML_ERROR.
    """

    kind: RouteKind
    path_and_query: str = ""
    model_name: str = ""
    version: int | None = None
    label: str | None = None
    error: ServingStatusError | None = None
    http_status: int = 200
    html_body: str = ""

    @property
    def is_rest_api(self) -> bool:
        """Whether the REST handler answers (``Content-Type`` JSON except OPTIONS, CORS)."""
        return self.kind not in (RouteKind.HTML_ERROR, RouteKind.PROMETHEUS)


def _html(status: int, body: str) -> Route:
    return Route(RouteKind.HTML_ERROR, http_status=status, html_body=body)


def _json_error(path_and_query: str, message: str) -> Route:
    error = ServingStatusError(Code.INVALID_ARGUMENT, message)
    return Route(RouteKind.JSON_ERROR, path_and_query, error=error, http_status=error.http_status)


# --- libevent's strict URI parser (evhttp_uri_parse) -----------------------------------------

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_SUBDELIMS = frozenset("!$&'()*+,;=")
_PATH_CHARS = _UNRESERVED | _SUBDELIMS | frozenset(":@/")
_HEX = frozenset("0123456789abcdefABCDEF")
_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")


def _is_pct(text: str, index: int) -> bool:
    """Whether ``text[index:]`` starts with ``%`` and two hex digits."""
    digits = text[index + 1 : index + 3]
    return text[index : index + 1] == "%" and len(digits) == 2 and all(c in _HEX for c in digits)


def _end_of_part(text: str, index: int, allow_question_mark: bool) -> int:
    """Index after the longest run of path characters (plus ``?`` in query and fragment)."""
    while index < len(text):
        char = text[index]
        if char in _PATH_CHARS or (allow_question_mark and char == "?"):
            index += 1
        elif _is_pct(text, index):
            index += 3
        else:
            return index
    return index


def _only(text: str, allowed: frozenset[str]) -> bool:
    """Whether ``text`` consists of ``allowed`` characters and ``%XX`` escapes."""
    index = 0
    while index < len(text):
        if text[index] in allowed:
            index += 1
        elif _is_pct(text, index):
            index += 3
        else:
            return False
    return True


def _bracket_host_ok(host: str) -> bool:
    inner = host[1:-1]
    if inner.startswith("v"):
        version, dot, rest = inner[1:].partition(".")
        return (
            bool(version)
            and all(c in _HEX for c in version)
            and bool(dot)
            and all(c in _UNRESERVED or c in _SUBDELIMS or c == ":" for c in rest)
        )
    if len(inner) >= 64 or "%" in inner:
        return False
    try:
        ipaddress.IPv6Address(inner)
    except ValueError:
        return False
    return True


def _authority_ok(authority: str) -> bool:
    userinfo, at, host = authority.partition("@")
    if not at:
        host = authority
    elif not _only(userinfo, _UNRESERVED | _SUBDELIMS | {":"}):
        return False
    digits = len(host) - len(host.rstrip("0123456789"))
    if len(host) > digits and host[len(host) - digits - 1] == ":":
        port = host[len(host) - digits :]
        if port and int(port) > 65535:
            return False
        host = host[: len(host) - digits - 1]
    if host.startswith("[") and host.endswith("]") and len(host) >= 2:
        return len(host) >= 3 and _bracket_host_ok(host)
    return _only(host, _UNRESERVED | _SUBDELIMS)


def _parse_target(target: str) -> tuple[str, str] | None:
    """Split a request-target as libevent's strict parser does.

    Returns:
        ``(path, path_and_query)``, where ``path_and_query`` re-joins query and fragment as
        TF Serving's ``uri_path()`` does, or ``None`` if the parser rejects the target.
    """
    rest = target
    has_scheme = False
    colon = rest.find(":")
    if colon > 0 and _SCHEME_RE.fullmatch(rest[:colon]):
        has_scheme = True
        rest = rest[colon + 1 :]
    has_authority = rest.startswith("//")
    if has_authority:
        end = next((i for i, c in enumerate(rest) if i >= 2 and c in "?#/"), len(rest))
        if not _authority_ok(rest[2:end]):
            return None
        rest = rest[end:]
    index = _end_of_part(rest, 0, allow_question_mark=False)
    path = rest[:index]
    path_and_query = path
    for separator in "?#":
        if index < len(rest) and rest[index] == separator:
            end = _end_of_part(rest, index + 1, allow_question_mark=True)
            path_and_query += rest[index:end]
            index = end
    if index != len(rest):
        return None
    if not has_authority and path.startswith("//"):
        return None
    if has_authority and path and not path.startswith("/"):
        return None
    if not has_scheme and ":" in path.split("/", 1)[0]:
        return None
    return path, path_and_query


# --- TF Serving's REST grammar (http_rest_api_util.cc) ---------------------------------------

_REST_PATH = re.compile(r"/v1/.*", re.IGNORECASE | re.ASCII)
_SEGMENT = r"([^/:]+)"
_SELECTOR = rf"(?:/versions/([0-9]+)|/labels/{_SEGMENT})?"
_POST_GRAMMAR = re.compile(
    rf"/v1/models/{_SEGMENT}{_SELECTOR}:(classify|regress|predict)", re.IGNORECASE | re.ASCII
)
_GET_GRAMMAR = re.compile(
    rf"/v1/models(?:/{_SEGMENT})?{_SELECTOR}(?:/(metadata))?", re.IGNORECASE | re.ASCII
)


def unescape(text: str) -> str:
    """Percent-decode as libcurl's ``curl_easy_unescape``: ``%XX`` only, ``+`` stays ``+``.

    The decoded bytes are read as UTF-8 (model names in the config are UTF-8); bytes that are
    not valid UTF-8 survive as surrogate escapes, so they match no configured name.
    """
    out = bytearray()
    index = 0
    while index < len(text):
        if _is_pct(text, index):
            out.append(int(text[index + 1 : index + 3], 16))
            index += 3
        else:
            out.extend(text[index].encode("utf-8", "surrogateescape"))
            index += 1
    return out.decode("utf-8", "surrogateescape")


def preflight_allowed(origin: str | None) -> bool:
    """OPTIONS answer: 200 if the ``Origin`` header contains ``http://`` or ``https://``."""
    return origin is not None and re.search("https?://", origin) is not None


def _rest_route(method: str, path_and_query: str) -> Route:
    """The REST handler's ``ParseModelInfo`` followed by its dispatch."""
    malformed = f"Malformed request: {method} {path_and_query}"
    grammar = {"POST": _POST_GRAMMAR, "GET": _GET_GRAMMAR}.get(method)
    match = grammar.fullmatch(path_and_query) if grammar is not None else None
    if match is None:
        return _json_error(path_and_query, malformed)
    raw_name, digits, raw_label, tail = match.groups()
    model_name = unescape(raw_name) if raw_name else ""
    version = int(digits) if digits else None
    if version is not None and version > _INT64_MAX:
        error = ServingStatusError(
            Code.INVALID_ARGUMENT, f"Failed to convert version: {digits} to numeric."
        )
        return Route(RouteKind.EMPTY_ERROR, path_and_query, error=error, http_status=400)
    label = unescape(raw_label) if raw_label else None
    if method == "POST":
        kind = _VERBS.get(tail)  # exact, lower-case comparison (``http_rest_api_handler.cc``)
        if kind is None:
            return _json_error(path_and_query, malformed)
        return Route(kind, path_and_query, model_name, version, label)
    if not model_name:
        return _json_error(path_and_query, "Missing model name in request.")
    if tail == "metadata":
        return Route(RouteKind.METADATA, path_and_query, model_name, version, label)
    return Route(RouteKind.STATUS, path_and_query, model_name, version)


def route(method: str, target: str, *, metrics_path: str | None = None) -> Route:
    """Decide what the real server would do with ``method`` and ``target``.

    Args:
        method: the request method exactly as sent (libevent only knows upper-case names).
        target: the raw request-target from the request line, not decoded (ASCII; any other
            character is refused like libevent refuses a non-ASCII byte).
        metrics_path: the Prometheus path when ``--monitoring_config_file`` enables it.

    Returns:
        The handler and its parameters, or the error to send.
    """
    if method not in _TRANSPORT_METHODS:
        return _html(501, HTML_501_NOT_IMPLEMENTED)
    parsed = _parse_target(target)
    if parsed is None:
        return _html(400, HTML_400_BAD_REQUEST)
    path, path_and_query = parsed
    if metrics_path is not None and path == metrics_path:
        if path_and_query == metrics_path:
            return Route(RouteKind.PROMETHEUS, path_and_query)
        error = ServingStatusError(
            Code.INVALID_ARGUMENT,
            f"Unexpected path: {path_and_query}. Should be {metrics_path}",
        )
        return Route(RouteKind.PROMETHEUS, path_and_query, error=error, http_status=400)
    if not _REST_PATH.fullmatch(path_and_query):
        return _html(404, HTML_404_NOT_FOUND)
    if method == "OPTIONS":
        return Route(RouteKind.PREFLIGHT, path_and_query)
    return _rest_route(method, path_and_query)
