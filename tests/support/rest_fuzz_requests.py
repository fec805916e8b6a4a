"""Generated REST requests for the REST fuzz, each with its exact answer where TF Serving's
source fixes it.

Malformed bodies, wrong JSON types, deep nesting, huge and non-finite numbers, huge batches,
invalid UTF-8, wrong content types, wrong methods, and garbage ``tf.Example``s for
``half_plus_two`` (the fuzz server's second model). Sources of the exact answers: methods,
``http_rest_api_handler.cc``; content types, ``http_server.cc`` never reads them; ignored deep
keys, ``json_tensor.cc`` and its test ``DeeplyNestedWellFormed``.

What this fuzz found in the stand-in, and the stand-in no longer does, each with its own test in
``tests/reliability/test_bad_input_fuzz.py`` (no family sends them): strings nested 33 to 64 deep
into a string input crashed it; invalid UTF-8 in strings that reach ``ParseExample``, or in the
feature names of an example, were 500s.

Imports Hypothesis, not TensorFlow.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from tests.support import MODEL_NAME
from tests.support.fuzzing import EXAMPLE_MODEL, Family

__all__ = ["FAMILIES", "GOOD_BODY", "PREDICT", "FuzzRequest"]

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
GOOD_BODY = ('{"instances": [' + _ZERO_IMAGE + "," + _image_text(["1"] * 784) + "]}").encode()

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
    return FuzzRequest("content_types", "POST", PREDICT, GOOD_BODY, headers, (200, None))


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
    body = draw(st.just(GOOD_BODY) | st.binary(max_size=100))
    if method == "HEAD":
        expected: tuple[int, object] = (400, b"")
    else:
        expected = (400, {"error": f"Malformed request: {method} {path}"})
    return FuzzRequest("methods", method, path, body, expected=expected)


_EXAMPLE_SIGNATURES = ("classify_x_to_y", "regress_x_to_y", "regress_x2_to_y3", "", "nope")
_feature_values = (
    _json_values
    # Valid UTF-8 only: text that is not is left to the tests of the stand-in's 500s below.
    | st.text(max_size=8).map(lambda t: {"b64": base64.b64encode(t.encode()).decode()})
    | st.lists(st.floats(allow_nan=False, allow_infinity=False, width=32), max_size=3)
)


@st.composite
def _examples(draw: st.DrawFn) -> FuzzRequest:
    """Garbage ``tf.Example``s for ``half_plus_two``: features of any type, missing or extra, a
    context; or strings and base64 for its string input through predict."""
    keys = st.sampled_from(["x", "x2", "y"]) | st.text(max_size=5)
    example = st.dictionaries(keys, _feature_values, max_size=4)
    if draw(st.booleans()):
        verb = draw(st.sampled_from(["classify", "regress"]))
        document: dict[str, object] = {"examples": draw(st.lists(example, max_size=4))}
        if draw(st.booleans()):
            document["context"] = draw(example)
    else:
        verb = "predict"
        strings = st.text(max_size=12) | st.text(max_size=12).map(
            lambda t: {"b64": base64.b64encode(t.encode()).decode()}
        )
        document = {"instances": draw(st.lists(strings, max_size=4))}
    signature = draw(st.sampled_from(_EXAMPLE_SIGNATURES))
    if signature:
        document["signature_name"] = signature
    path = f"/v1/models/{EXAMPLE_MODEL}:{verb}"
    return FuzzRequest("examples", "POST", path, _dumps(document, draw(st.booleans())))


# (name, strategy, slow, quick, warm-up): the slow run sends 10,340 cases after a warm-up of
# 505, the default run 86. Huge batches and deep nesting warm up as much as they run: their
# megabyte bodies set the server's memory high-water mark, which is not growth.
FAMILIES: tuple[Family[FuzzRequest], ...] = (
    Family("malformed", _malformed(), 2_300, 15, 50),
    Family("wrong_types", _wrong_types(), 2_300, 15, 50),
    Family("deep_nesting", _deep_nesting(), 600, 6, 200),
    Family("numbers", _numbers(), 1_600, 12, 40),
    Family("huge_batches", _huge_batches(), 40, 2, 40),
    Family("invalid_utf8", _invalid_utf8(), 1_100, 10, 30),
    Family("content_types", _content_types(), 600, 8, 15),
    Family("methods", _methods(), 800, 8, 20),
    Family("examples", _examples(), 1_000, 10, 60),
)
