"""Reading and writing IDX files, the format Fashion-MNIST (and MNIST) is distributed in.

The reader is strict on purpose: a truncated download or a file from another data set should fail
with a message that names the file and what is wrong, not with a reshape error three calls later.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

__all__ = ["IdxFormatError", "read_idx", "write_idx"]

# Third byte of the magic number -> element type, big-endian as the format requires.
_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dtype.newbyteorder("="): code for code, dtype in _DTYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"


class IdxFormatError(ValueError):
    """Raised when a file is not a well-formed IDX file (wrong magic, dimensions or length)."""


def _read_bytes(path: Path) -> bytes:
    raw = path.read_bytes()
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError) as exc:
        raise IdxFormatError(f"{path}: corrupt gzip stream ({exc})") from exc


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file, gzipped or not (detected from the content, not the name).

    Args:
        path: the file to read.

    Returns:
        The array, in native byte order, with the shape the header declares.

    Raises:
        IdxFormatError: the magic number, dimensions or data length do not make an IDX file.
        OSError: the file cannot be read.
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise IdxFormatError(f"{path}: {len(data)} bytes is too short for an IDX header")
    zero, code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or code not in _DTYPES:
        raise IdxFormatError(
            f"{path}: not an IDX file (magic number 0x{data[:4].hex()}, expected 0x0000"
            "<type><ndim> with type one of 08 09 0b 0c 0d 0e)"
        )
    if ndim == 0:
        raise IdxFormatError(f"{path}: IDX header declares 0 dimensions")
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise IdxFormatError(
            f"{path}: truncated header: {ndim} dimensions need {header_len} bytes, file has "
            f"{len(data)}"
        )
    shape = struct.unpack(f">{ndim}I", data[4:header_len])
    dtype = _DTYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    actual = len(data) - header_len
    if actual != expected:
        what = "truncated" if actual < expected else "too long"
        raise IdxFormatError(
            f"{path}: {what}: header declares shape {tuple(shape)} ({expected} data bytes), "
            f"file has {actual} data bytes"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header_len).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def write_idx(path: str | Path, array: np.ndarray, *, compress: bool | None = None) -> Path:
    """Write an array as an IDX file; gzip it when the name ends in ``.gz`` (or when told to).

    Args:
        path: the file to write.
        array: uint8, int8, int16, int32, float32 or float64 data with at least one dimension.
        compress: force gzip on or off; by default decided by the ``.gz`` suffix.

    Returns:
        The path written.

    Raises:
        ValueError: the array's dtype or rank cannot be stored in IDX.
    """
    path = Path(path)
    array = np.asarray(array)
    code = _CODES.get(array.dtype.newbyteorder("="))
    if code is None:
        raise ValueError(f"IDX cannot store dtype {array.dtype}")
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"IDX needs 1 to 255 dimensions, got {array.ndim}")
    header = struct.pack(">HBB", 0, code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(_DTYPES[code], copy=False).tobytes()
    if compress if compress is not None else path.suffix == ".gz":
        payload = gzip.compress(payload, compresslevel=1)
    path.write_bytes(payload)
    return path
