"""The command line of ``tensorflow_model_server``: its flags, their syntax, usage and --version.

Flags, types and help as ``model_servers/main.cc`` declares them, defaults from
``model_servers/server.h`` (``Server::Options``) and ``server.cc``; syntax and usage text as
TensorFlow's ``tensorflow/core/util/command_line_flags.cc`` parses and prints them. Option
combinations are checked in test_option_checks.py.
"""

from __future__ import annotations

import dataclasses
import os
import re

import pytest

from fashion.serving.startup import flags
from fashion.serving.startup.flags import (
    IGNORED_FLAGS,
    INERT_FLAGS,
    FlagsOutcome,
    ServerOptions,
    parse_flags,
    usage_text,
)


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


# main.cc's flags in its order: name, type, default as the usage text shows it.
_MAIN_CC_FLAGS: list[tuple[str, str, str]] = [
    ("port", "int32", "8500"),
    ("grpc_socket_path", "string", '""'),
    ("rest_api_port", "int32", "0"),
    ("rest_api_num_threads", "int32", str(4 * _cpus())),
    ("rest_api_timeout_in_ms", "int32", "30000"),
    ("rest_api_enable_cors_support", "bool", "false"),
    ("enable_batching", "bool", "false"),
    ("allow_version_labels_for_unavailable_models", "bool", "false"),
    ("batching_parameters_file", "string", '""'),
    ("enable_per_model_batching_parameters", "bool", "false"),
    ("model_config_file", "string", '""'),
    ("model_config_file_poll_wait_seconds", "int32", "0"),
    ("model_name", "string", '"default"'),
    ("model_base_path", "string", '""'),
    ("num_load_threads", "int32", "0"),
    ("num_unload_threads", "int32", "0"),
    ("max_num_load_retries", "int32", "5"),
    ("load_retry_interval_micros", "int64", "60000000"),
    ("file_system_poll_wait_seconds", "int32", "1"),
    ("flush_filesystem_caches", "bool", "true"),
    ("tensorflow_session_parallelism", "int64", "0"),
    ("tensorflow_session_config_file", "string", '""'),
    ("tensorflow_intra_op_parallelism", "int64", "0"),
    ("tensorflow_inter_op_parallelism", "int64", "0"),
    ("use_alts_credentials", "bool", "false"),
    ("ssl_config_file", "string", '""'),
    ("platform_config_file", "string", '""'),
    ("per_process_gpu_memory_fraction", "float", "0.000000"),
    ("saved_model_tags", "string", '"serve"'),
    ("grpc_channel_arguments", "string", '""'),
    ("grpc_max_threads", "int32", str(4 * _cpus())),
    ("enable_model_warmup", "bool", "true"),
    ("num_request_iterations_for_warmup", "int32", "0"),
    ("version", "bool", "false"),
    ("monitoring_config_file", "string", '""'),
    ("remove_unused_fields_from_bundle_metagraph", "bool", "true"),
    ("prefer_tflite_model", "bool", "false"),
    ("num_tflite_pools", "int32", str(_cpus())),
    ("num_tflite_interpreters_per_pool", "int32", "1"),
    ("enable_signature_method_name_check", "bool", "false"),
    ("xla_cpu_compilation_enabled", "bool", "false"),
    ("xla_gpu_compilation_enabled", "bool", "false"),
    ("enable_profiler", "bool", "true"),
    ("thread_pool_factory_config_file", "string", '""'),
    ("mixed_precision", "string", '""'),
    ("skip_initialize_tpu", "bool", "false"),
    ("enable_grpc_healthcheck_service", "bool", "false"),
    ("enable_serialization_as_tensor_content", "bool", "false"),
]
_STAND_IN_FLAGS: list[tuple[str, str, str]] = [
    ("rest_api_bind_address", "string", '"127.0.0.1"'),
    ("grpc_bind_address", "string", '"127.0.0.1"'),
    ("rest_api_max_body_bytes", "int64", str(256 * 1024 * 1024)),
]
_USAGE_LINE = re.compile(r"\t--(\w+)=(.*?) *\t(int32|int64|bool|string|float)\t.*")


def _options(*argv: str) -> ServerOptions:
    outcome = parse_flags(list(argv))
    assert outcome.exit_code is None, outcome
    assert outcome.options is not None
    return outcome.options


def _usage_rows() -> list[tuple[str, str, str]]:
    rows = []
    for line in usage_text().splitlines()[2:]:
        match = _USAGE_LINE.fullmatch(line)
        assert match, line
        rows.append((match[1], match[3], match[2]))
    return rows


# --- usage text --------------------------------------------------------------------------------


def test_usage_lists_every_flag_of_main_cc_in_order_with_type_and_default() -> None:
    assert _usage_rows() == _MAIN_CC_FLAGS + _STAND_IN_FLAGS


def test_usage_starts_with_the_program_name_and_a_flags_header() -> None:
    lines = usage_text("/usr/bin/tensorflow_model_server").splitlines()

    assert lines[:2] == ["usage: /usr/bin/tensorflow_model_server", "Flags:"]


def test_usage_pads_the_flag_and_default_to_33_columns_between_tabs() -> None:
    port_line = usage_text().splitlines()[2]

    assert port_line.startswith("\t--port=8500" + " " * (33 - len("--port=8500")) + "\tint32\t")


def test_usage_does_not_truncate_a_flag_longer_than_33_columns() -> None:
    line = next(line for line in usage_text().splitlines() if "rest_api_enable_cors" in line)

    assert line.startswith("\t--rest_api_enable_cors_support=false\tbool\t")


# --- values and syntax -------------------------------------------------------------------------


def test_no_arguments_give_the_defaults_of_server_options() -> None:
    options = _options()

    expected = {
        "port": 8500,
        "grpc_socket_path": "",
        "rest_api_port": 0,
        "rest_api_num_threads": 4 * _cpus(),
        "rest_api_timeout_in_ms": 30000,
        "rest_api_enable_cors_support": False,
        "model_name": "default",
        "model_base_path": "",
        "model_config_file": "",
        "model_config_file_poll_wait_seconds": 0,
        "max_num_load_retries": 5,
        "load_retry_interval_micros": 60_000_000,
        "file_system_poll_wait_seconds": 1,
        "flush_filesystem_caches": True,
        "saved_model_tags": "serve",
        "enable_model_warmup": True,
        "per_process_gpu_memory_fraction": 0.0,
        "enable_profiler": True,
        "version": False,
        "rest_api_bind_address": "127.0.0.1",
        "grpc_bind_address": "127.0.0.1",
        "rest_api_max_body_bytes": 268435456,
        "ignored_flags_given": (),
    }
    assert {name: getattr(options, name) for name in expected} == expected


def test_every_flag_is_a_field_of_server_options() -> None:
    fields = {field.name for field in dataclasses.fields(ServerOptions)}

    assert {name for name, _, _ in _MAIN_CC_FLAGS + _STAND_IN_FLAGS} <= fields


def test_values_are_given_as_name_equals_value_and_converted_to_their_type() -> None:
    options = _options(
        "--port=9000",
        "--rest_api_port=8501",
        "--model_name=fashion_model",
        "--model_base_path=/srv/models/fashion_model",
        "--load_retry_interval_micros=-1",
        "--per_process_gpu_memory_fraction=0.5",
        "--saved_model_tags=serve,gpu",
        "--model_config_file=",
    )

    assert (options.port, options.rest_api_port) == (9000, 8501)
    assert (options.model_name, options.model_base_path) == (
        "fashion_model",
        "/srv/models/fashion_model",
    )
    assert options.load_retry_interval_micros == -1
    assert options.per_process_gpu_memory_fraction == 0.5
    assert options.saved_model_tags == "serve,gpu"
    assert options.model_config_file == ""


def test_a_string_value_may_contain_equals_signs_and_spaces() -> None:
    assert _options("--model_name=a=b c").model_name == "a=b c"


def test_the_last_of_repeated_flags_wins() -> None:
    assert _options("--rest_api_port=1", "--rest_api_port=2").rest_api_port == 2


@pytest.mark.parametrize(
    ("argument", "expected"),
    [
        ("--rest_api_enable_cors_support", True),
        ("--rest_api_enable_cors_support=true", True),
        ("--rest_api_enable_cors_support=false", False),
    ],
)
def test_boolean_flags_accept_the_bare_name_true_and_false(argument: str, expected: bool) -> None:
    assert _options(argument).rest_api_enable_cors_support is expected


def test_false_switches_off_a_flag_that_defaults_to_true() -> None:
    assert _options("--enable_model_warmup=false").enable_model_warmup is False


@pytest.mark.parametrize(("value", "expected"), [("+80", 80), ("007", 7), ("-1", -1)])
def test_integer_values_accept_a_sign_and_leading_zeros(value: str, expected: int) -> None:
    assert _options(f"--rest_api_port={value}").rest_api_port == expected


# --- unknown arguments: reported, then start-up carries on --------------------------------------


@pytest.mark.parametrize(
    ("argv", "first_unknown"),
    [
        (["--no_such_flag=1"], "--no_such_flag=1"),
        (["stray"], "stray"),
        (["--model_name", "m"], "--model_name"),
        (["--port", "9000"], "--port"),
        (["--model_n=m"], "--model_n=m"),
        (["--Port=9000"], "--Port=9000"),
        (["-port=9000"], "-port=9000"),
        (["--rest_api_enable_cors_supportx"], "--rest_api_enable_cors_supportx"),
        (["--first_unknown", "--second_unknown"], "--first_unknown"),
    ],
)
def test_unknown_argument_is_reported_with_usage_and_start_up_carries_on(
    argv: list[str], first_unknown: str
) -> None:
    outcome = parse_flags(argv)

    assert outcome.exit_code is None
    assert outcome.options is not None
    assert outcome.stdout == f"unknown argument: {first_unknown}\n{usage_text()}"
    assert outcome.bad_values == ()


def test_space_separated_value_leaves_the_flag_at_its_default() -> None:
    outcome = parse_flags(["--model_name", "fashion_model"])

    assert outcome.options is not None
    assert outcome.options.model_name == "default"


def test_known_flags_around_an_unknown_argument_still_take_effect() -> None:
    outcome = parse_flags(["--rest_api_port=8501", "stray", "--model_name=m"])

    assert outcome.options is not None
    assert (outcome.options.rest_api_port, outcome.options.model_name) == (8501, "m")


def test_everything_after_a_double_dash_is_unknown() -> None:
    outcome = parse_flags(["--", "--rest_api_port=8501"])

    assert outcome.stdout.startswith("unknown argument: --\n")
    assert outcome.options is not None
    assert outcome.options.rest_api_port == 0


# --- parse failures and --help: usage, exit 255 -----------------------------------------------


@pytest.mark.parametrize(
    ("argument", "value", "flag"),
    [
        ("--port=abc", "abc", "port"),
        ("--port=", "", "port"),
        ("--port=1.5", "1.5", "port"),
        ("--port=0x10", "0x10", "port"),
        ("--port=80 ", "80 ", "port"),
        ("--port=2147483648", "2147483648", "port"),
        ("--load_retry_interval_micros=9223372036854775808", "9223372036854775808", None),
        ("--enable_batching=yes", "yes", "enable_batching"),
        ("--enable_batching=", "", "enable_batching"),
        ("--per_process_gpu_memory_fraction=half", "half", "per_process_gpu_memory_fraction"),
    ],
)
def test_value_that_does_not_parse_prints_usage_and_exits_255(
    argument: str, value: str, flag: str | None
) -> None:
    outcome = parse_flags(["--model_base_path=/m", argument])

    flag_name = flag or argument[2:].split("=", 1)[0]
    assert outcome == FlagsOutcome(
        options=None,
        exit_code=255,
        stdout=usage_text(),
        bad_values=((value, flag_name),),
    )


def test_help_prints_usage_and_exits_255() -> None:
    assert parse_flags(["--help"]) == FlagsOutcome(None, 255, usage_text(), ())


def test_help_after_other_arguments_still_prints_usage_and_exits_255() -> None:
    outcome = parse_flags(["--model_base_path=/m", "stray", "--help"])

    assert (outcome.exit_code, outcome.stdout) == (255, usage_text())


def test_usage_names_the_program_passed_by_the_caller() -> None:
    outcome = parse_flags(["--help"], prog="./tensorflow_model_server")

    assert outcome.stdout.startswith("usage: ./tensorflow_model_server\nFlags:\n")


def test_parsing_never_prints(capsys: pytest.CaptureFixture[str]) -> None:
    parse_flags(["--help"])
    parse_flags(["--port=abc"])
    parse_flags(["stray"])

    assert capsys.readouterr() == ("", "")


# --- --version ---------------------------------------------------------------------------------


def test_version_prints_two_lines_and_exits_0() -> None:
    outcome = parse_flags(["--version"], tf_version=lambda: "2.21.0")

    assert outcome == FlagsOutcome(
        options=None,
        exit_code=0,
        stdout=f"TensorFlow ModelServer: {flags.STAND_IN_VERSION}\nTensorFlow Library: 2.21.0\n",
    )


def test_version_wins_over_unknown_arguments_but_not_over_a_bad_value() -> None:
    with_unknown = parse_flags(["stray", "--version"], tf_version=lambda: "2.21.0")
    with_bad_value = parse_flags(["--version", "--port=abc"], tf_version=lambda: "2.21.0")

    assert with_unknown.exit_code == 0
    assert with_unknown.stdout.startswith("TensorFlow ModelServer: ")
    assert (with_bad_value.exit_code, with_bad_value.stdout) == (255, usage_text())


def test_version_false_does_not_print_the_version() -> None:
    outcome = parse_flags(["--version=false"], tf_version=lambda: "unused")

    assert (outcome.exit_code, outcome.stdout) == (None, "")


# --- accepted but not implemented --------------------------------------------------------------


def test_ignored_flags_given_are_listed_once_in_command_line_order() -> None:
    options = _options(
        "--enable_batching",
        "--enable_profiler=true",
        "--rest_api_port=8501",
        "--enable_batching=false",
        "--flush_filesystem_caches=false",
    )

    assert options.ignored_flags_given == ("enable_batching", "enable_profiler")


def test_ignored_and_inert_flags_are_real_flags_and_disjoint() -> None:
    names = {name for name, _, _ in _MAIN_CC_FLAGS}

    assert names >= IGNORED_FLAGS
    assert names >= INERT_FLAGS
    assert not IGNORED_FLAGS & INERT_FLAGS


def test_server_options_are_frozen() -> None:
    options = _options()

    with pytest.raises(dataclasses.FrozenInstanceError):
        options.port = 1  # type: ignore[misc]
