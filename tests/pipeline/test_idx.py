"""The IDX reader and writer: round trips, and exact complaints about broken files."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from fashion.idx import IdxFormatError, read_idx, write_idx


@pytest.mark.parametrize("name", ["images-idx3-ubyte", "images-idx3-ubyte.gz"])
def test_images_round_trip_gzipped_or_not(tmp_path: Path, name: str) -> None:
    images = np.random.default_rng(0).integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    path = write_idx(tmp_path / name, images)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    np.testing.assert_array_equal(read_idx(path), images)


def test_header_is_the_standard_one_for_uint8_images(tmp_path: Path) -> None:
    path = write_idx(tmp_path / "x", np.zeros((2, 28, 28), np.uint8))
    # 0x00000803 is the magic number of Fashion-MNIST's image files; then N, rows, columns.
    assert path.read_bytes()[:16] == bytes.fromhex("00000803000000020000001c0000001c")


@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.float32, np.float64, np.int8])
def test_other_idx_types_round_trip_in_native_byte_order(tmp_path: Path, dtype: type) -> None:
    data = np.arange(-6, 6, dtype=dtype).reshape(3, 4)
    result = read_idx(write_idx(tmp_path / "data", data))
    assert result.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(result, data)


def test_gzip_is_detected_from_content_not_name(tmp_path: Path) -> None:
    labels = np.arange(10, dtype=np.uint8)
    path = write_idx(tmp_path / "labels-without-suffix", labels, compress=True)
    np.testing.assert_array_equal(read_idx(path), labels)


def test_truncated_data_names_declared_and_actual_sizes(tmp_path: Path) -> None:
    path = write_idx(tmp_path / "x", np.zeros((3, 28, 28), np.uint8))
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(IdxFormatError) as info:
        read_idx(path)
    message = str(info.value)
    assert str(path) in message
    assert "truncated" in message
    assert "(3, 28, 28) (2352 data bytes)" in message
    assert "2342 data bytes" in message


def test_extra_trailing_bytes_are_rejected(tmp_path: Path) -> None:
    path = write_idx(tmp_path / "x", np.zeros((2,), np.uint8))
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(IdxFormatError, match="too long"):
        read_idx(path)


def test_truncated_header_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "x"
    path.write_bytes(bytes.fromhex("0000080300000002"))
    with pytest.raises(IdxFormatError, match="truncated header: 3 dimensions need 16 bytes"):
        read_idx(path)


@pytest.mark.parametrize(
    "content",
    [b"\x89PNG\r\n\x1a\n" + b"\0" * 20, b"\x00\x00\x07\x01" + b"\0" * 8, b"hello world!"],
    ids=["png", "unknown-type-code", "text"],
)
def test_foreign_files_are_not_idx(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "foreign"
    path.write_bytes(content)
    with pytest.raises(IdxFormatError, match="not an IDX file"):
        read_idx(path)


def test_tiny_and_empty_files_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")
    with pytest.raises(IdxFormatError, match="0 bytes is too short"):
        read_idx(path)


def test_corrupt_gzip_stream_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "broken.gz"
    path.write_bytes(gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x02ab")[:-6])
    with pytest.raises(IdxFormatError, match="corrupt gzip stream"):
        read_idx(path)


def test_writer_refuses_dtypes_idx_cannot_store(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="IDX cannot store dtype complex64"):
        write_idx(tmp_path / "x", np.zeros(3, np.complex64))
