"""How float and double outputs are written: ``util/json_tensor.cc``'s ``WriteDecimal``.

NaN and infinities are the bare tokens ``NaN``, ``Infinity``, ``-Infinity``; otherwise ``%g``
with 6 significant digits, replaced by ``%.9g`` (float) / ``%.17g`` (double) when the short
form does not parse back to the same value, and ``.0`` appended when the text has neither
``.`` nor ``e``. ``identity`` returns its float32 input, so the test controls the values; the
double input ``d`` of ``dtypes`` does the same for float64. The expected tokens are worked out
by hand from those rules.
"""

from __future__ import annotations

import pytest

from tests.support.rest_probe import RestProbe

pytestmark = pytest.mark.server


def _row_body(tokens: list[str]) -> bytes:
    return ('{\n    "predictions": [' + ", ".join(tokens) + "\n    ]\n}").encode()


def test_json_tensor_tests_six_digit_example_prints_as_that_test_expects(zoo: RestProbe) -> None:
    reply = zoo.predict(
        "identity", {"instances": [[9000000, 999999, 0.5], [0.0003, 0.00003, 555557.5]]}
    )
    assert reply.status == 200, reply
    assert reply.body == (
        b'{\n    "predictions": [[9e+06, 999999.0, 0.5], [0.0003, 3e-05, 555557.5]\n    ]\n}'
    )


FLOAT32_CASES = [
    # (value sent, token expected)
    (0.1, "0.1"),
    (2.5, "2.5"),
    (3, "3.0"),
    (3.0, "3.0"),
    (-0.0, "-0.0"),
    (100000, "100000.0"),
    (1000000, "1e+06"),
    (1e-7, "1e-07"),
    (0.3333333333333333, "0.333333343"),  # float32(1/3): 6 digits do not round-trip
    (1435774380, "1.43577434e+09"),  # float32 1435774336, %.9g
    (123456789, "123456792.0"),  # float32 123456792: %.9g has no '.', so '.0'
    (16777217, "16777216.0"),
    (1.1754943508222875e-38, "1.17549435e-38"),  # smallest normal float32
]


@pytest.mark.parametrize(("value", "token"), FLOAT32_CASES)
def test_float32_values_use_g_then_9_digits_then_dot_zero(
    zoo: RestProbe, value: float, token: str
) -> None:
    reply = zoo.predict("identity", {"instances": [value]})
    assert (reply.status, reply.body) == (200, _row_body([token]))


def test_non_finite_floats_are_bare_nan_and_infinity_tokens(zoo: RestProbe) -> None:
    reply = zoo.predict("identity", b'{"instances": [NaN, Infinity, -Infinity, 1.0]}')
    assert (reply.status, reply.body) == (
        200,
        _row_body(["NaN", "Infinity", "-Infinity", "1.0"]),
    )


@pytest.mark.parametrize(
    ("value", "token"),
    [
        (0.1, "0.1"),
        (2, "2.0"),
        (1e300, "1e+300"),
        (0.3333333333333333, "0.33333333333333331"),  # %.17g
        (123456789, "123456789.0"),  # %.17g, then '.0'
        (1.5e-10, "1.5e-10"),
    ],
)
def test_float64_values_use_g_then_17_digits_then_dot_zero(
    zoo: RestProbe, value: float, token: str
) -> None:
    reply = zoo.predict(
        "dtypes",
        {
            "inputs": {
                "f": [0.0],
                "d": [value],
                "i32": [0],
                "i64": [0],
                "u32": [0],
                "u64": [0],
                "b": [False],
                "s": [""],
            }
        },
    )
    assert reply.status == 200, reply
    body = reply.body.decode()
    assert f'"d": [\n            {token}\n        ]' in body, body
