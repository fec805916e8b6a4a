"""Errors over gRPC as ``ToGRPCStatus`` (``model_servers/grpc_status_util.cc``) makes them.

The gRPC code is the TensorFlow code cast to ``grpc::StatusCode`` (same numbers, no table), and
the message is the status message alone, its first 1024 bytes (``kErrorMessageLimit``, counted
with ``std::string::length``) plus ``...TRUNCATED`` when it is longer. The cut is by bytes, so it
can split a UTF-8 sequence; the client receives those bytes as they are.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent import futures

import grpc
import pytest
from tensorflow.core.protobuf import error_codes_pb2

from fashion.serving.grpc.status import abort_with, grpc_code, grpc_message
from fashion.serving.status import Code, ServingStatusError

LIMIT = 1024
SUFFIX = b"...TRUNCATED"

#: TensorFlow's error codes (``error_codes.proto``), the sentinel left out.
TF_CODES = {
    name: number
    for name, number in error_codes_pb2.Code.items()
    if not name.startswith("DO_NOT_USE")
}


@pytest.mark.parametrize("name", sorted(TF_CODES, key=TF_CODES.__getitem__))
def test_every_tensorflow_code_is_the_grpc_code_of_the_same_number_and_name(name: str) -> None:
    code = Code(TF_CODES[name])
    status = grpc_code(code)
    assert status.value[0] == TF_CODES[name]
    assert status.name == name


def test_the_stand_in_knows_every_tensorflow_code() -> None:
    assert {code.name: int(code) for code in Code} == TF_CODES


def _message_of(size: int, filler: str = "m") -> str:
    text = filler * (size // len(filler.encode()))
    assert len(text.encode()) == size
    return text


@pytest.mark.parametrize("size", [0, 1, 1023, 1024])
def test_a_message_of_at_most_1024_bytes_is_sent_whole(size: int) -> None:
    message = _message_of(size)
    assert grpc_message(message) == message.encode()


def test_1024_bytes_of_multi_byte_characters_are_sent_whole() -> None:
    message = _message_of(1024, "é")  # 512 two-byte characters
    assert grpc_message(message) == message.encode()


@pytest.mark.parametrize("size", [1025, 1100, 100_000])
def test_a_longer_message_keeps_its_first_1024_bytes_then_truncated(size: int) -> None:
    message = "".join(chr(ord("a") + i % 26) for i in range(size))
    sent = grpc_message(message)
    assert sent == message.encode()[:LIMIT] + SUFFIX
    assert len(sent) == 1036


@pytest.mark.parametrize(
    ("prefix", "character"),
    [(1023, "é"), (1023, "€"), (1022, "€"), (1021, "😀"), (1023, "😀")],
    ids=["2-byte-split-1", "3-byte-split-1", "3-byte-split-2", "4-byte-split-3", "4-byte-split-1"],
)
def test_the_cut_is_by_bytes_even_inside_a_multi_byte_character(
    prefix: int, character: str
) -> None:
    """``std::string::substr(0, 1024)``: the character is cut, its first bytes are sent."""
    message = "a" * prefix + character * 3
    data = message.encode()
    assert len(data) > LIMIT
    assert grpc_message(message) == data[:LIMIT] + SUFFIX


class _AbortingContext:
    """What :func:`abort_with` asks of a servicer context: ``abort``, which raises."""

    def __init__(self) -> None:
        self.aborted: tuple[grpc.StatusCode, bytes] | None = None

    def abort(self, code: grpc.StatusCode, details: bytes) -> None:
        self.aborted = (code, details)
        raise RuntimeError("aborted")


def test_abort_with_ends_the_rpc_with_the_code_and_the_cut_message() -> None:
    context = _AbortingContext()
    error = ServingStatusError(Code.NOT_FOUND, "x" * 2000)
    with pytest.raises(RuntimeError, match="aborted"):
        abort_with(context, error)  # type: ignore[arg-type]
    assert context.aborted == (grpc.StatusCode.NOT_FOUND, b"x" * LIMIT + SUFFIX)


# --- over the wire: what grpcio sends of the bytes ---------------------------------------------


def _fail_with_request_text(request: bytes, context: grpc.ServicerContext) -> bytes:
    abort_with(context, ServingStatusError(Code.FAILED_PRECONDITION, request.decode()))
    return b""  # not reached


@pytest.fixture(scope="module")
def failing_rpc() -> Iterator[grpc.UnaryUnaryMultiCallable]:
    """An in-process gRPC server whose one RPC fails with the text it is sent."""
    handler = grpc.method_handlers_generic_handler(
        "test.Failing",
        {"Fail": grpc.unary_unary_rpc_method_handler(_fail_with_request_text)},
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield channel.unary_unary("/test.Failing/Fail")
    finally:
        channel.close()
        server.stop(None)


def _failure(rpc: grpc.UnaryUnaryMultiCallable, message: str) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        rpc(message.encode(), timeout=10)
    return caught.value


def test_the_client_receives_the_code_and_a_short_message_unchanged(
    failing_rpc: grpc.UnaryUnaryMultiCallable,
) -> None:
    failure = _failure(failing_rpc, "Servable not found for request: Latest(ünïcödé)")
    assert failure.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert failure.details() == "Servable not found for request: Latest(ünïcödé)"


def test_the_client_receives_exactly_the_first_1024_bytes_of_a_split_character(
    failing_rpc: grpc.UnaryUnaryMultiCallable, caplog: pytest.LogCaptureFixture
) -> None:
    """The bytes are not valid UTF-8, so grpcio's client logs ``Invalid encoding`` and reads
    them as latin-1, exactly as it does for the real server's message."""
    message = "a" * 1023 + "€€"
    with caplog.at_level(logging.CRITICAL, logger="grpc._cython.cygrpc"):
        failure = _failure(failing_rpc, message)
    assert failure.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert failure.details().encode("latin-1") == message.encode()[:LIMIT] + SUFFIX
