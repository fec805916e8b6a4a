"""Time the predict JSON codec against plain orjson + numpy (not a test; run it by hand).

    python benchmarks/codec_bench.py [repeats]

Prints the median time of decoding a 256x28x28x1 float request (row format, as a client that
does ``json.dumps({"instances": images.tolist()})`` sends it) and of encoding a [256, 10]
float32 response, next to the floor for the same work: ``orjson.loads`` + ``np.asarray`` and
``orjson.dumps`` of the same values.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

import numpy as np
import orjson

from fashion.serving.codec.predict_request import decode_inputs, read_predict_request
from fashion.serving.codec.predict_response import encode_predict_response


def _paired_medians_ms(
    first: Callable[[], object], second: Callable[[], object], repeats: int
) -> tuple[float, float]:
    """Median times of two callables, run alternately so machine noise hits both alike."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for work, bucket in ((first, times[0]), (second, times[1])):
            start = time.perf_counter()
            work()
            bucket.append(time.perf_counter() - start)
    return statistics.median(times[0]) * 1000, statistics.median(times[1]) * 1000


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    repeats = int(args[0]) if args else 7
    rng = np.random.default_rng(0)
    images = (rng.integers(0, 256, size=(256, 28, 28, 1)) / 255.0).astype(np.float32)
    body = orjson.dumps({"instances": images.tolist()})
    logits = rng.normal(size=(256, 10))
    scores = (np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)).astype(np.float32)

    def floor_decode() -> object:
        return np.asarray(orjson.loads(body)["instances"], dtype=np.float32)

    def codec_decode() -> object:
        return decode_inputs(read_predict_request(body), {"x": "float"}).tensors["x"]

    assert np.array_equal(floor_decode(), codec_decode())
    decode_floor, decode_codec = _paired_medians_ms(floor_decode, codec_decode, repeats)
    encode_floor, encode_codec = _paired_medians_ms(
        lambda: orjson.dumps({"predictions": scores.tolist()}),
        lambda: encode_predict_response({"scores": scores}, {"scores": "float"}, True),
        repeats,
    )
    print(f"request body: {len(body) / 1e6:.2f} MB, median of {repeats} runs")
    print(
        f"decode 256x28x28x1: codec {decode_codec:7.2f} ms | orjson.loads+np.asarray "
        f"{decode_floor:7.2f} ms | ratio {decode_codec / decode_floor:.2f}"
    )
    print(
        f"encode [256, 10]:   codec {encode_codec:7.2f} ms | orjson.dumps(tolist)    "
        f"{encode_floor:7.2f} ms | ratio {encode_codec / encode_floor:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
