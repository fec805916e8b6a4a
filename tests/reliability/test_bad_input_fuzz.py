"""Fuzzed requests never crash, 5xx, or disconnect the server, and do not make it grow.

Hypothesis generates malformed bodies, wrong JSON types, deep nesting, huge and non-finite
numbers, huge batches, invalid UTF-8, wrong content types and wrong methods, and sends them to
the shared server through one keep-alive session. Every answer must be a 2xx (the body happened
to be valid) or a 4xx whose body is the JSON object ``{"error": <string>}`` (``json_tensor.cc``,
``MakeJsonFromStatus``), on a connection that stays open; where TF Serving's source fixes the
answer (methods: ``http_rest_api_handler.cc``; content types: ``http_server.cc`` never reads
them; ignored deep keys: ``json_tensor.cc`` and its test ``DeeplyNestedWellFormed``) the exact
answer is checked. Afterwards the server must still answer a
good request correctly, and its resident memory must not have grown by more than 50 MB since a
warm-up of the same kinds of requests.

Reproducible: every run uses fixed seeds (``@seed``) and no example database. The generated
cases are bounded: under 2,000 in total, warm-up included.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psutil
import pytest
import requests
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from fashion.testing.served import ServedModelServer
from tests.support import MODEL_NAME, SLOW_REQUEST_TIMEOUT
from tests.support.traffic import VersionMatcher

pytestmark = [pytest.mark.server, pytest.mark.slow]

#: Growth of the server's RSS over the fuzz (after the warm-up) that still passes.
RSS_LIMIT_BYTES = 50 * 1024 * 1024

PREDICT = f"/v1/models/{MODEL_NAME}:predict"
#: POST routes the bodies go to: mostly predict, plus every other POST route of the grammar.
POST_PATHS = (
    PREDICT,
    f"/v1/models/{MODEL_NAME}/versions/1:predict",
    f"/v1/models/{MODEL_NAME}/versions/3:predict",
    f"/v1/models/{MODEL_NAME}/labels/stable:predict",
    f"/v1/models/{MODEL_NAME}:classify",
    f"/v1/models/{MODEL_NAME}:regress",
    "/v1/models/no_such_model:predict",
)


@dataclass(frozen=True)
class FuzzRequest:
    """One generated request, and its exact expected answer where TF Serving's source fixes it."""

    family: str
    method: str
    path: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    expected: tuple[int, object] | None = None
    """(status, decoded JSON body - or ``b""`` for an empty one)."""

    def __repr__(self) -> str:
        body = self.body if len(self.body) <= 300 else self.body[:300] + b"..."
        return (
            f"FuzzRequest({self.family}: {self.method} {self.path} headers={dict(self.headers)} "
            f"body[{len(self.body)}]={body!r})"
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """How Hypothesis prints a failing example (else all fields, bodies of megabytes)."""
        printer.text(repr(self))


def _image_text(values: list[str]) -> str:
    """One 28x28x1 image written from 784 number tokens."""
    rows = ("[" + ",".join(f"[{v}]" for v in values[r * 28 : r * 28 + 28]) + "]" for r in range(28))
    return "[" + ",".join(rows) + "]"


_ZERO_IMAGE = _image_text(["0"] * 784)
_GOOD_BODY = ('{"instances": [' + _ZERO_IMAGE + "," + _image_text(["1"] * 784) + "]}").encode()

# --------------------------------------------------------------------------------- strategies
_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
)
_json_values = st.recursive(
    _leaves,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=25,
)
_post_paths = st.just(PREDICT) | st.sampled_from(POST_PATHS)


def _dumps(value: object, ascii_only: bool) -> bytes:
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


@st.composite
def _malformed(draw: st.DrawFn) -> FuzzRequest:
    """Random bytes, or a JSON text cut short or with a stray byte inserted."""
    if draw(st.booleans()):
        body = draw(st.binary(max_size=300))
    else:
        text = _dumps({"instances": draw(_json_values)}, draw(st.booleans()))
        cut = draw(st.integers(0, len(text)))
        if draw(st.booleans()):
            body = text[:cut]
        else:
            body = text[:cut] + draw(st.binary(min_size=1, max_size=3)) + text[cut:]
    return FuzzRequest("malformed", "POST", draw(_post_paths), body)


@st.composite
def _wrong_types(draw: st.DrawFn) -> FuzzRequest:
    """Well-formed JSON of the wrong shape: any value where instances, inputs or the name go."""
    value = draw(_json_values)
    document = draw(
        st.sampled_from(
            [
                {"instances": value},
                {"inputs": value},
                {"instances": value, "inputs": value},
                {"signature_name": value, "instances": [[0]]},
                {"instances": [value, value]},
                value,
            ]
        )
    )
    body = _dumps(document, draw(st.booleans()))
    return FuzzRequest("wrong_types", "POST", draw(_post_paths), body)


@st.composite
def _deep_nesting(draw: st.DrawFn) -> FuzzRequest:
    """Arrays or objects nested deep: unbalanced, in an ignored key, or as the value itself.

    Up to 100,000 levels where only the parser sees them (TF Serving's reader is iterative,
    ``json_tensor.cc``; ``json_tensor_test.cc``'s ``DeeplyNestedWellFormed``); at most
    2,000 where the value is converted, because TF Serving converts values recursively (its
    shape walk in ``json_tensor.cc``) and these tests should pass against it too.
    """
    opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
    huge = st.sampled_from([10_000, 50_000, 100_000])
    placement = draw(st.sampled_from(["unbalanced", "ignored_key", "value"]))
    depth = draw(st.integers(1, 2_000) | (huge if placement != "value" else st.just(2_000)))
    inner = opener * depth + "0"
    if placement == "unbalanced":
        text = '{"instances": ' + inner + closer * (depth // 2) + "}"
    elif placement == "ignored_key":
        text = '{"deep": ' + inner + closer * depth + ', "instances": [' + _ZERO_IMAGE + "]}"
    else:
        text = '{"instances": ' + inner + closer * depth + "}"
    # json_tensor.cc: nesting is not limited, and keys other than the known ones are ignored. The
    # stand-in's reader (python-rapidjson, recursive) answers 400 beyond about 1,000 levels, a
    # documented deviation, so success is only demanded where both servers give it.
    expected = (200, None) if placement == "ignored_key" and depth <= 500 else None
    return FuzzRequest("deep_nesting", "POST", PREDICT, text.encode(), expected=expected)


_NUMBER_TOKENS = (
    "1e400", "-1e400", "1e-400", "1.7976931348623157e308", "1.8e308", "NaN", "-NaN", "Infinity",
    "-Infinity", "Inf", "-Inf", "nan", "infinity", "123456789012345678901234567890",
    "18446744073709551616", "-9223372036854775809", "1e", "1.", ".5", "-", "+1", "01", "0x10",
    "1_000", "true", "null", '"1"', "[]", "{}", "1e99999999999999999999",
)  # fmt: skip


@st.composite
def _numbers(draw: st.DrawFn) -> FuzzRequest:
    """A valid image with a few values replaced by huge, tiny, non-finite or invalid numbers."""
    values = ["0"] * 784
    for _ in range(draw(st.integers(1, 4))):
        token = draw(st.sampled_from(_NUMBER_TOKENS) | st.floats().map(repr))
        values[draw(st.integers(0, 783))] = token
    body = '{"instances": [' + _image_text(values) + "]}"
    return FuzzRequest("numbers", "POST", draw(_post_paths), body.encode())


@st.composite
def _huge_batches(draw: st.DrawFn) -> FuzzRequest:
    """Up to 1,500 images, or up to a million scalars, or many rows of the wrong shape."""
    kind = draw(st.sampled_from(["images", "scalars", "ragged"]))
    if kind == "images":
        body = '{"instances": [' + ",".join([_ZERO_IMAGE] * draw(st.integers(200, 1_500))) + "]}"
    elif kind == "scalars":
        body = '{"instances": [' + ",".join(["0.5"] * draw(st.integers(10_000, 1_000_000))) + "]}"
    else:
        rows = draw(st.integers(1_000, 20_000))
        body = '{"instances": [' + ",".join(["[1,2,3]", "[1,2]"] * (rows // 2)) + "]}"
    return FuzzRequest("huge_batches", "POST", PREDICT, body.encode())


_BAD_UTF8 = (
    b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xa0\xa1", b"\xe2\x28\xa1", b"\xf0\x28\x8c\xbc",
    b"\xed\xa0\x80", b"\xc0\xaf", b"\xf8\x88\x80\x80\x80", b"\xe2\x82",
)  # fmt: skip


@st.composite
def _invalid_utf8(draw: st.DrawFn) -> FuzzRequest:
    """Invalid UTF-8 in strings, keys, the signature name, base64 values, or outside any."""
    bad = draw(st.sampled_from(_BAD_UTF8)) + draw(st.binary(max_size=4))
    template = draw(
        st.sampled_from(
            [
                b'{"instances": ["%s"]}',
                b'{"signature_name": "%s", "instances": [[0]]}',
                b'{"%s": 1, "instances": [[0]]}',
                b'{"instances": [{"b64": "%s"}]}',
                b'{"inputs": {"%s": [0]}}',
                b'%s{"instances": [0]}',
                b'{"instances": [0, %s]}',
            ]
        )
    )
    return FuzzRequest("invalid_utf8", "POST", draw(_post_paths), template % bad)


_CONTENT_TYPES = (
    "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
    "application/octet-stream", "application/json; charset=latin-1", "image/png", "", "*/*",
    "application/json, text/html", "application/xml",
)  # fmt: skip


@st.composite
def _content_types(draw: st.DrawFn) -> FuzzRequest:
    """A valid predict body under any Content-Type, or none: the server never looks
    (``http_server.cc``)."""
    # Printable ASCII; a header value cannot start with a space (requests refuses to send it).
    printable = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30)
    printable = printable.map(str.lstrip)
    choice = draw(st.none() | st.sampled_from(_CONTENT_TYPES) | printable)
    headers = () if choice is None else (("Content-Type", choice),)
    return FuzzRequest("content_types", "POST", PREDICT, _GOOD_BODY, headers, (200, None))


@st.composite
def _methods(draw: st.DrawFn) -> FuzzRequest:
    """PUT, DELETE, PATCH (and GET on POST-only routes) are 400 ``Malformed request``
    (``http_rest_api_handler.cc``, ``ProcessRequest``).

    HEAD gets the same 400 with the body suppressed. TRACE and CONNECT are left out: the real
    server's libevent refuses them with 501 and an HTML page before TF Serving sees them
    (``evhttp_server.cc`` sets the allowed methods).
    """
    method = draw(st.sampled_from(["PUT", "DELETE", "PATCH", "GET", "HEAD"]))
    path = draw(_post_paths)
    body = draw(st.just(_GOOD_BODY) | st.binary(max_size=100))
    if method == "HEAD":
        expected: tuple[int, object] = (400, b"")
    else:
        expected = (400, {"error": f"Malformed request: {method} {path}"})
    return FuzzRequest("methods", method, path, body, expected=expected)


@dataclass(frozen=True)
class _Family:
    name: str
    strategy: st.SearchStrategy[FuzzRequest]
    examples: int
    warm_up: int


FAMILIES = (
    _Family("malformed", _malformed(), 400, 50),
    _Family("wrong_types", _wrong_types(), 400, 50),
    _Family("deep_nesting", _deep_nesting(), 120, 20),
    _Family("numbers", _numbers(), 300, 40),
    _Family("huge_batches", _huge_batches(), 12, 4),
    _Family("invalid_utf8", _invalid_utf8(), 200, 30),
    _Family("content_types", _content_types(), 120, 15),
    _Family("methods", _methods(), 150, 20),
)
assert sum(f.examples + f.warm_up for f in FAMILIES) <= 2_000


# ----------------------------------------------------------------------------- the exchange
@dataclass
class Fuzzer:
    """Sends generated requests through one keep-alive session and checks every answer."""

    session: requests.Session
    server: ServedModelServer
    counts: Counter[str] = field(default_factory=Counter)
    largest_body: Counter[str] = field(default_factory=Counter)
    rss_before: int = 0
    previous: FuzzRequest | None = None
    client_port: int | None = None

    def _pooled_client_port(self) -> int | None:
        """The local port of the connection the session keeps open (None: none kept open).

        Looks into urllib3's pool: a connection the server closed - with ``Connection: close``
        or silently, then reopened by urllib3 - shows as no socket or as a new local port.
        """
        pools = self.session.get_adapter(self.server.url).poolmanager.pools
        for key in pools.keys():  # noqa: SIM118 - the container cannot be iterated itself
            if (key.key_host, key.key_port) != ("127.0.0.1", self.server.rest_port):
                continue
            for connection in list(pools[key].pool.queue):
                if connection is not None and connection.sock is not None:
                    return connection.sock.getsockname()[1]
        return None

    def rss(self) -> int:
        """The server process' resident set size, in bytes."""
        return psutil.Process(self.server.pid).memory_info().rss

    def run(self, family: _Family, examples: int, run_seed: int) -> None:
        """Check ``examples`` generated requests of ``family``, reproducibly."""

        # The fixtures are resolved once, outside this function, and the session is meant to
        # be shared by every example: nothing function-scoped is reused across examples, so
        # Hypothesis' function-scoped-fixture health check has nothing to warn about here.
        # Building a huge body from a few drawn numbers is not slow data generation.
        @seed(run_seed)
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(family.strategy)
        def case(request: FuzzRequest) -> None:
            self.check(request)

        case()

    def check(self, request: FuzzRequest) -> None:
        """Send one request; assert a 2xx, or a 4xx JSON error, on a connection kept open."""
        response = self.session.request(
            request.method,
            self.server.url + request.path,
            data=request.body,
            headers=dict(request.headers),
            timeout=SLOW_REQUEST_TIMEOUT,
        )
        port = self._pooled_client_port()
        assert port is not None, f"no connection kept open after answering {request!r}"
        # Another local port: the connection kept after the previous answer was dropped.
        assert self.client_port in (None, port), (
            f"the server dropped the connection after answering {self.previous!r}"
        )
        self.client_port, self.previous = port, request
        self.counts[request.family] += 1
        self.largest_body[request.family] = max(
            self.largest_body[request.family], len(request.body)
        )
        status, content = response.status_code, response.content
        snippet = content[:300].decode("utf-8", "replace")
        assert "close" not in response.headers.get("Connection", "").lower(), (
            f"the server closed the connection after {status}: {snippet}"
        )
        if request.expected is not None:
            expected_status, expected_body = request.expected
            assert status == expected_status, snippet
            if expected_body == b"":
                assert content == b""
            elif expected_body is not None:
                assert json.loads(content.decode("utf-8", "surrogateescape")) == expected_body
        if request.method == "HEAD":
            return
        # Error texts quote the request's values byte for byte, and the writer does not check
        # UTF-8 (json_tensor.cc, MakeJsonFromStatus), so an invalid-UTF-8 request gets those
        # same bytes back.
        text = content.decode("utf-8", "surrogateescape")
        if 200 <= status < 300:
            json.loads(text)  # a valid answer is JSON (NaN and Infinity tokens allowed)
            return
        assert 400 <= status < 500, f"{status}: {snippet}"
        assert response.headers.get("Content-Type") == "application/json", response.headers
        payload = json.loads(text)
        assert isinstance(payload, dict), snippet
        assert list(payload) == ["error"], snippet
        assert isinstance(payload["error"], str), snippet


@pytest.fixture(scope="module")
def fuzz(fashion_server: ServedModelServer) -> Iterator[Fuzzer]:
    """A fuzzer on the shared server, after a warm-up of every family; RSS measured then."""
    fashion_server.assert_alive()
    with requests.Session() as session:
        fuzzer = Fuzzer(session, fashion_server)
        for index, family in enumerate(FAMILIES):
            fuzzer.run(family, family.warm_up, run_seed=1_000 + index)
        fuzzer.rss_before = fuzzer.rss()
        fuzzer.counts.clear()
        fuzzer.largest_body.clear()
        yield fuzzer


@pytest.mark.parametrize("family", FAMILIES, ids=[f.name for f in FAMILIES])
def test_fuzzed_requests_get_a_2xx_or_a_4xx_json_error_and_never_a_5xx_or_a_dropped_connection(
    fuzz: Fuzzer, family: _Family
) -> None:
    fuzz.run(family, family.examples, run_seed=2_000 + FAMILIES.index(family))
    assert fuzz.counts[family.name] >= min(family.examples, 10)


def test_after_the_fuzz_the_server_answers_correctly_and_grew_by_less_than_50_mb(
    fuzz: Fuzzer,
    matcher: VersionMatcher,
    predict_body: bytes,
) -> None:
    fuzz.server.assert_alive()
    response = fuzz.session.post(
        fuzz.server.url + PREDICT, data=predict_body, timeout=SLOW_REQUEST_TIMEOUT
    )
    assert matcher(response.status_code, response.content).version == "v1", response.text[:300]
    rss_after = fuzz.rss()
    growth = rss_after - fuzz.rss_before
    print(
        f"fuzz: {sum(fuzz.counts.values())} cases after the warm-up {dict(fuzz.counts)}; "
        f"server RSS {fuzz.rss_before / 2**20:.1f} MiB -> {rss_after / 2**20:.1f} MiB "
        f"({growth / 2**20:+.1f} MiB); largest bodies {dict(fuzz.largest_body)}"
    )
    assert growth <= RSS_LIMIT_BYTES


@pytest.mark.parametrize("key", ["instances", "inputs"])
@pytest.mark.parametrize("depth", [33, 65, 150, 300])
def test_a_value_of_a_rank_numpy_cannot_hold_is_a_400_json_error_not_a_500(
    fashion_server: ServedModelServer, key: str, depth: int
) -> None:
    # Found by this fuzz: the stand-in answered 500 from rank 65 up (33 on numpy 1). TF Serving
    # builds such a tensor (up to rank 254) and the model rejects it: a 400 either way.
    body = '{"' + key + '": ' + "[" * depth + "0" + "]" * depth + "}"
    response = requests.post(fashion_server.url + PREDICT, data=body, timeout=SLOW_REQUEST_TIMEOUT)
    assert response.status_code == 400, response.text[:300]
    assert list(response.json()) == ["error"]
