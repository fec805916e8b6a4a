"""The gRPC server's set-up (``model_servers/server.cc``, ``Server::BuildAndStart``), in-process.

- ``--grpc_channel_arguments`` (``parseGrpcChannelArgs``): split on ``,``, each piece on ``=``
  (key = part 0, value = part 1); a value that ``absl::SimpleAtoi`` reads as an int32 is passed
  as an int, anything else as a string. SimpleAtoi (``absl/strings/numbers.cc``) skips ASCII
  whitespace around the number, takes one ``+`` or ``-``, and reads ASCII decimal digits only.
- ``--enable_grpc_healthcheck_service``: gRPC C++'s default health service
  (``default_health_check_service.cc``) with ``""`` (set by its constructor), ``ModelService``
  and ``PredictionService`` SERVING.
- A port that cannot be bound: ``Failed to BuildAndStart gRPC server``.

The served behaviour of the same flags is in tests/conformance/test_grpc_server_flags.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from tensorflow_serving.apis import get_model_status_pb2, model_service_pb2_grpc

from fashion.serving.grpc.server import GrpcOptions, parse_channel_arguments, start_grpc_server
from fashion.serving.models.manager import ModelManager
from fashion.serving.monitoring.metrics import Metrics
from fashion.serving.status import Code, ServingStatusError

# --- --grpc_channel_arguments ------------------------------------------------------------------


def test_an_empty_flag_gives_no_arguments() -> None:
    assert parse_channel_arguments("") == []


def test_tf_servings_own_example_gives_ints_and_strings() -> None:
    """testGoodGrpcChannelArgs' value (tensorflow_model_server_test.py), with the harness' tail."""
    assert parse_channel_arguments(
        "grpc.max_connection_age_ms=2000,grpc.lb_policy_name=grpclb,grpc.so_reuseaddr=1"
    ) == [
        ("grpc.max_connection_age_ms", 2000),
        ("grpc.lb_policy_name", "grpclb"),
        ("grpc.so_reuseaddr", 1),
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0),
        ("007", 7),
        ("+7", 7),
        ("-7", -7),
        ("2147483647", 2**31 - 1),
        ("-2147483648", -(2**31)),
        (" 42", 42),
        ("42 ", 42),
        ("\t\n\v\f\r42\r\f\v\n\t", 42),
    ],
    ids=["zero", "leading-zeros", "plus", "minus", "int32-max", "int32-min", "space-before",
         "space-after", "ascii-whitespace"],
)  # fmt: skip
def test_a_value_simple_atoi_reads_as_an_int32_is_an_int(value: str, expected: int) -> None:
    assert parse_channel_arguments(f"grpc.some_arg={value}") == [("grpc.some_arg", expected)]


@pytest.mark.parametrize(
    "value",
    [
        "",
        "grpclb",
        "2147483648",
        "-2147483649",
        "1.5",
        "1e3",
        "0x10",
        "+",
        "-",
        "+-1",
        " ",
        "4 2",
        "\u0664\u0662",  # ARABIC-INDIC DIGITS FOUR, TWO: digits to Python, not to absl
        "\u00a042",  # a NO-BREAK SPACE before: whitespace to Python, not to absl
        "42\u2003",  # an EM SPACE after
        "\x1c42",  # a FILE SEPARATOR before: str.isspace() is true, absl::ascii_isspace false
    ],
    ids=["empty", "word", "int32-max+1", "int32-min-1", "decimal", "exponent", "hex", "plus",
         "minus", "two-signs", "blank", "inner-space", "arabic-indic-digits", "nbsp",
         "em-space", "file-separator"],
)  # fmt: skip
def test_any_other_value_is_a_string(value: str) -> None:
    assert parse_channel_arguments(f"grpc.some_arg={value}") == [("grpc.some_arg", value)]


def test_a_second_equals_sign_drops_the_rest_and_keys_are_kept_verbatim() -> None:
    assert parse_channel_arguments("a=b=c, spaced key =1") == [("a", "b"), (" spaced key ", 1)]


def test_empty_pieces_are_skipped() -> None:
    """The real server reads past the end of its split for an empty piece (``a=1,,b=2``, a
    trailing comma): undefined behaviour, no error text to match. The stand-in skips them."""
    assert parse_channel_arguments("a=1,,b=2,") == [("a", 1), ("b", 2)]


def test_a_piece_without_an_equals_sign_is_refused() -> None:
    """Undefined behaviour in the real server (it reads ``key_value[1]`` of a one-element
    split); the stand-in refuses the flag, and start-up fails with this text."""
    with pytest.raises(ServingStatusError) as caught:
        parse_channel_arguments("grpc.so_reuseaddr=1,foo")
    assert caught.value.code is Code.INVALID_ARGUMENT
    assert caught.value.message == "--grpc_channel_arguments entry 'foo' is not key=value"


# --- a server in this process ------------------------------------------------------------------


class _NoReloads:
    """The config reloader: never called by these tests."""


def _start(tmp_path: Path, **options: object) -> tuple[grpc.Server, str]:
    """The stand-in's gRPC server on a UNIX socket in ``tmp_path``, with no models."""
    socket = tmp_path / "grpc.sock"
    manager = ModelManager([], loader=lambda path: None)
    server = start_grpc_server(
        GrpcOptions(port=0, socket_path=str(socket), **options),  # type: ignore[arg-type]
        manager,
        _NoReloads(),  # type: ignore[arg-type]
        Metrics(),
    )
    return server, f"unix:{socket}"


@pytest.fixture
def healthy(tmp_path: Path) -> Iterator[health_pb2_grpc.HealthStub]:
    """The health service of a server started with ``--enable_grpc_healthcheck_service``."""
    server, target = _start(tmp_path, enable_health=True)
    channel = grpc.insecure_channel(target)
    try:
        yield health_pb2_grpc.HealthStub(channel)
    finally:
        channel.close()
        server.stop(None)


def _check(stub: health_pb2_grpc.HealthStub, service: str) -> int:
    request = health_pb2.HealthCheckRequest(service=service)
    return stub.Check(request, timeout=10).status


def _check_error(stub: health_pb2_grpc.HealthStub, service: str) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as caught:
        _check(stub, service)
    return caught.value.code(), caught.value.details()


@pytest.mark.parametrize("service", ["", "ModelService", "PredictionService"])
def test_the_health_service_says_serving_for_the_server_and_both_services(
    healthy: health_pb2_grpc.HealthStub, service: str
) -> None:
    assert _check(healthy, service) == health_pb2.HealthCheckResponse.SERVING


@pytest.mark.parametrize(
    "service", ["tensorflow.serving.PredictionService", "modelservice", "x" * 200]
)
def test_an_unknown_service_name_is_not_found_service_name_unknown(
    healthy: health_pb2_grpc.HealthStub, service: str
) -> None:
    """TF Serving registers the short names only (``server.cc``)."""
    assert _check_error(healthy, service) == (grpc.StatusCode.NOT_FOUND, "service name unknown")


def test_a_service_name_over_200_bytes_cannot_be_parsed(
    healthy: health_pb2_grpc.HealthStub,
) -> None:
    assert _check_error(healthy, "é" * 101) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "could not parse request",
    )


def test_watch_streams_serving_and_refuses_a_long_name(
    healthy: health_pb2_grpc.HealthStub,
) -> None:
    watch = healthy.Watch(health_pb2.HealthCheckRequest(service="ModelService"), timeout=10)
    try:
        assert next(watch).status == health_pb2.HealthCheckResponse.SERVING
    finally:
        watch.cancel()
    with pytest.raises(grpc.RpcError) as caught:
        next(healthy.Watch(health_pb2.HealthCheckRequest(service="x" * 201), timeout=10))
    assert (caught.value.code(), caught.value.details()) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "could not parse request",
    )


def test_without_the_flag_there_is_no_health_service(tmp_path: Path) -> None:
    server, target = _start(tmp_path)
    try:
        with grpc.insecure_channel(target) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            assert _check_error(stub, "")[0] == grpc.StatusCode.UNIMPLEMENTED
            # The model services are there.
            status = model_service_pb2_grpc.ModelServiceStub(channel).GetModelStatus
            with pytest.raises(grpc.RpcError) as caught:
                status(get_model_status_pb2.GetModelStatusRequest(model_spec={"name": "m"}))
            assert (caught.value.code(), caught.value.details()) == (
                grpc.StatusCode.NOT_FOUND,
                "Could not find any versions of model m",
            )
    finally:
        server.stop(None)


def test_a_bad_channel_argument_fails_the_start(tmp_path: Path) -> None:
    with pytest.raises(ServingStatusError) as caught:
        _start(tmp_path, channel_arguments="grpc.so_reuseaddr=1,foo")
    assert caught.value.code is Code.INVALID_ARGUMENT


def test_a_socket_that_cannot_be_bound_fails_with_build_and_starts_text(tmp_path: Path) -> None:
    """``server.cc``: a null server from ``BuildAndStart`` (any listening port failed)."""
    with pytest.raises(ServingStatusError) as caught:
        _start(tmp_path / "no" / "such" / "directory")
    assert (caught.value.code, caught.value.message) == (
        Code.INVALID_ARGUMENT,
        "Failed to BuildAndStart gRPC server",
    )
