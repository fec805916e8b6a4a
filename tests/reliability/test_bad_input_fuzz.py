"""Fuzzed REST requests never crash, 5xx, or disconnect the server, and do not make it grow.

Hypothesis generates malformed bodies, wrong JSON types, deep nesting, huge and non-finite
numbers, huge batches, invalid UTF-8, wrong content types, wrong methods and garbage examples
(``tests.support.rest_fuzz_requests``), and sends them to the fuzz server (``fashion_model`` and
``half_plus_two``, shared with the gRPC fuzz) through one keep-alive session. Every answer must
be a 2xx (the body happened to be valid) or a 4xx whose body is the JSON object
``{"error": <string>}`` (``json_tensor.cc``, ``MakeJsonFromStatus``), on a connection that stays
open; where TF Serving's source fixes the answer (methods: ``http_rest_api_handler.cc``; content
types: ``http_server.cc`` never reads them; ignored deep keys: ``json_tensor.cc`` and its test
``DeeplyNestedWellFormed``) the exact answer is checked.

The default run sends about a hundred cases. The slow run sends 10,000 after a warm-up of the
same families, then the server must still answer a good request correctly, and its resident
memory must not have grown by more than 50 MB since the warm-up.

Below them, what this fuzz found in the stand-in (a crash and 500s, fixed since), one test each.

Reproducible: every run uses fixed seeds (``@seed``) and no example database.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import requests

from fashion.testing.served import ServedModelServer
from tests.support import REQUEST_TIMEOUT, SLOW_REQUEST_TIMEOUT
from tests.support.fuzzing import (
    EXAMPLE_MODEL,
    RSS_LIMIT_BYTES,
    SLOW_CASES,
    Family,
    Tally,
    quick_fuzz,
    rss_of,
    warm_up_then_fuzz,
)
from tests.support.rest_fuzz_requests import FAMILIES, PREDICT, FuzzRequest
from tests.support.traffic import VersionMatcher

pytestmark = pytest.mark.server


# ----------------------------------------------------------------------------- the exchange
@dataclass
class Fuzzer:
    """Sends generated requests through one keep-alive session and checks every answer."""

    session: requests.Session
    server: ServedModelServer
    tally: Tally = field(default_factory=Tally, repr=False)
    largest_body: Counter[str] = field(default_factory=Counter, repr=False)
    previous: FuzzRequest | None = field(default=None, repr=False)
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

    def restart_tally(self) -> None:
        """Count from zero again (after a warm-up)."""
        self.tally = Tally()
        self.largest_body.clear()

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
        status, content = response.status_code, response.content
        self.tally.record(request.family, str(status))
        self.largest_body[request.family] = max(
            self.largest_body[request.family], len(request.body)
        )
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
        if request.method != "HEAD":
            _assert_json_2xx_or_4xx_error(response)


def _assert_json_2xx_or_4xx_error(response: requests.Response) -> None:
    """A JSON 2xx, or a 4xx whose body is ``{"error": <string>}``."""
    status, content = response.status_code, response.content
    snippet = content[:300].decode("utf-8", "replace")
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


def _assert_predict_matches_version_1(
    fuzz: Fuzzer, matcher: VersionMatcher, predict_body: bytes
) -> None:
    response = fuzz.session.post(
        fuzz.server.url + PREDICT, data=predict_body, timeout=SLOW_REQUEST_TIMEOUT
    )
    assert matcher(response.status_code, response.content).version == "v1", response.text[:300]


@pytest.fixture(scope="module")
def fuzz(fuzz_server: ServedModelServer) -> Iterator[Fuzzer]:
    """A fuzzer on the fuzz server, through one keep-alive session."""
    fuzz_server.assert_alive()
    with requests.Session() as session:
        yield Fuzzer(session, fuzz_server)


@pytest.mark.parametrize("family", FAMILIES, ids=[f.name for f in FAMILIES])
def test_fuzzed_requests_get_a_2xx_or_a_4xx_json_error_and_never_a_5xx_or_a_dropped_connection(
    fuzz: Fuzzer, family: Family[FuzzRequest], matcher: VersionMatcher, predict_body: bytes
) -> None:
    quick_fuzz(fuzz, FAMILIES, family, 3_000)
    _assert_predict_matches_version_1(fuzz, matcher, predict_body)


@pytest.mark.slow
def test_10_000_fuzzed_requests_leave_the_server_answering_correctly_and_grown_by_under_50_mb(
    fuzz: Fuzzer, matcher: VersionMatcher, predict_body: bytes
) -> None:
    rss_before = warm_up_then_fuzz(fuzz, FAMILIES, 1_000)
    _assert_predict_matches_version_1(fuzz, matcher, predict_body)
    rss_after = rss_of(fuzz.server.pid)
    print(fuzz.tally.summary("REST", rss_before, rss_after))
    print(f"largest bodies: {dict(fuzz.largest_body)}")
    assert fuzz.tally.total >= SLOW_CASES
    assert rss_after - rss_before <= RSS_LIMIT_BYTES


@pytest.mark.parametrize("key", ["instances", "inputs"])
@pytest.mark.parametrize("depth", [33, 65, 150, 300])
def test_a_value_of_a_rank_numpy_cannot_hold_is_a_400_json_error_not_a_500(
    fuzz_server: ServedModelServer, key: str, depth: int
) -> None:
    # Found by this fuzz: the stand-in answered 500 from rank 65 up (33 on numpy 1). TF Serving
    # builds such a tensor (up to rank 254) and this model rejects it: a 400 either way. (A model
    # that takes any rank, as half_plus_two's x, runs it in TF Serving; the stand-in answers 400.)
    body = '{"' + key + '": ' + "[" * depth + "0" + "]" * depth + "}"
    response = requests.post(fuzz_server.url + PREDICT, data=body, timeout=SLOW_REQUEST_TIMEOUT)
    assert response.status_code == 400, response.text[:300]
    assert list(response.json()) == ["error"]


# ----------------------------------------------------------- what the fuzz found in the stand-in
def _example_model_url(server: ServedModelServer, verb: str) -> str:
    return f"{server.url}/v1/models/{EXAMPLE_MODEL}:{verb}"


def test_strings_nested_33_deep_into_a_string_input_get_a_400_and_the_server_lives(
    fuzz_server: ServedModelServer,
    matcher: VersionMatcher,
    predict_body: bytes,
) -> None:
    # Found by this fuzz: the session handed TensorFlow a numpy array of strings, and its
    # conversion of a string array of rank 33 to 64 dies of SIGSEGV (numbers convert).
    body = '{"signature_name": "classify_x_to_y", "instances": ' + "[" * 33 + '"a"' + "]" * 33
    url = _example_model_url(fuzz_server, "predict")
    try:
        response = requests.post(url, data=body + "}", timeout=SLOW_REQUEST_TIMEOUT)
    finally:
        fuzz_server.assert_alive()
    # TF Serving: ParseExample's "Expected serialized to be a vector, got shape: [1,1,...]".
    assert response.status_code == 400, response.text[:300]
    _assert_json_2xx_or_4xx_error(response)
    good = requests.post(fuzz_server.url + PREDICT, data=predict_body, timeout=REQUEST_TIMEOUT)
    assert matcher(good.status_code, good.content).version == "v1"


def test_invalid_utf8_that_parse_example_quotes_back_is_a_400_not_a_500(
    fuzz_server: ServedModelServer,
) -> None:
    # Found by this fuzz: TensorFlow's Python session cannot decode the status text, which quotes
    # the bytes, and raised UnicodeDecodeError: 500 'Internal error in the stand-in: ...'.
    garbage = base64.b64encode(b"\xff\x00 no example").decode()
    body = {"signature_name": "classify_x_to_y", "instances": [{"b64": garbage}]}
    url = _example_model_url(fuzz_server, "predict")
    response = requests.post(url, json=body, timeout=SLOW_REQUEST_TIMEOUT)
    # TF Serving: 400 "Could not parse example input, value: '...'", the bytes as they came.
    assert response.status_code == 400, response.text[:300]
    _assert_json_2xx_or_4xx_error(response)
    error = json.loads(response.content.decode("utf-8", "surrogateescape"))["error"]
    assert error.startswith("Could not parse example input, value: '\udcff"), error


def test_an_example_feature_named_in_invalid_utf8_is_ignored_as_parse_example_ignores_it(
    fuzz_server: ServedModelServer,
) -> None:
    # Found by this fuzz: Python's protobuf refuses a map key that is not UTF-8, a 500. TF
    # Serving's C++ map keeps the bytes, and ParseExample ignores a feature the graph does not
    # name: the answer is the one without it.
    body = b'{"signature_name": "classify_x_to_y", "examples": [{"x": 1.0, "\xff\xfe": 1.0}]}'
    url = _example_model_url(fuzz_server, "classify")
    response = requests.post(url, data=body, timeout=SLOW_REQUEST_TIMEOUT)
    assert response.status_code == 200, response.text[:300]
    plain = b'{"signature_name": "classify_x_to_y", "examples": [{"x": 1.0}]}'
    expected = requests.post(url, data=plain, timeout=SLOW_REQUEST_TIMEOUT)
    assert response.json() == expected.json()
