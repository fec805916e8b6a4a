"""Start-up validation of option combinations, with the texts and order of TF Serving's checks.

The texts are ``model_servers/server.cc``'s (``Server::BuildAndStart``); a failing check is
printed as ``Failed to start server. Error: {CODE_NAME}: {message}`` by ``main.cc``.
"""

from __future__ import annotations

import pytest

from fashion.serving.startup.flags import ServerOptions, parse_flags
from fashion.serving.startup.option_checks import (
    check_options_after_config,
    check_options_before_config,
)
from fashion.serving.status import Code, ServingStatusError


def validate_options(options: ServerOptions) -> None:
    """Both groups of checks, in the server's order (the config file is read in between)."""
    check_options_before_config(options)
    check_options_after_config(options)


def _options(*argv: str) -> ServerOptions:
    outcome = parse_flags(list(argv))
    assert outcome.exit_code is None, outcome
    assert outcome.options is not None
    return outcome.options


def _error(options: ServerOptions) -> tuple[Code, str]:
    with pytest.raises(ServingStatusError) as caught:
        validate_options(options)
    return caught.value.code, caught.value.message


def test_valid_single_model_options_pass_validation() -> None:
    validate_options(_options("--model_base_path=/models/m", "--rest_api_port=8501"))


def test_port_zero_without_socket_path_is_rejected() -> None:
    options = _options("--port=0", "--model_base_path=/m")

    assert _error(options) == (
        Code.INVALID_ARGUMENT,
        "At least one of server_options.grpc_port or server_options.grpc_socket_path must be set.",
    )


def test_port_zero_with_a_socket_path_is_accepted() -> None:
    validate_options(_options("--port=0", "--grpc_socket_path=/tmp/s", "--model_base_path=/m"))


def test_alts_and_ssl_together_are_rejected() -> None:
    options = _options("--use_alts_credentials", "--ssl_config_file=/ssl", "--model_base_path=/m")

    assert _error(options) == (
        Code.INVALID_ARGUMENT,
        "Either use_alts_credentials must be false or ssl_config_file must be empty.",
    )


def test_missing_base_path_and_config_file_is_rejected() -> None:
    assert _error(_options()) == (
        Code.INVALID_ARGUMENT,
        "Both server_options.model_base_path and server_options.model_config_file are empty!",
    )


def test_batching_file_without_batching_is_rejected() -> None:
    options = _options("--model_base_path=/m", "--batching_parameters_file=/b")

    assert _error(options) == (
        Code.INVALID_ARGUMENT,
        "server_options.batching_parameters_file is set without setting "
        "server_options.enable_batching to true.",
    )


def test_all_three_parallelism_flags_together_are_rejected() -> None:
    options = _options(
        "--model_base_path=/m",
        "--tensorflow_session_parallelism=2",
        "--tensorflow_intra_op_parallelism=2",
        "--tensorflow_inter_op_parallelism=2",
    )

    assert _error(options) == (
        Code.INVALID_ARGUMENT,
        "Either configure server_options.tensorflow_session_parallelism or "
        "(server_options.tensorflow_intra_op_parallelism, "
        "server_options.tensorflow_inter_op_parallelism) separately. You cannot configure all.",
    )


def test_two_of_the_parallelism_flags_are_accepted() -> None:
    validate_options(
        _options(
            "--model_base_path=/m",
            "--tensorflow_intra_op_parallelism=2",
            "--tensorflow_inter_op_parallelism=2",
        )
    )


def test_port_check_comes_before_the_missing_model_check() -> None:
    _, message = _error(_options("--port=0"))

    assert message.startswith("At least one of server_options.grpc_port")


def test_checks_after_the_config_are_skipped_with_a_platform_config_file() -> None:
    validate_options(
        _options(
            "--model_base_path=/m",
            "--platform_config_file=/p",
            "--batching_parameters_file=/b",
        )
    )


def test_validation_errors_render_as_code_name_and_message() -> None:
    with pytest.raises(ServingStatusError) as caught:
        validate_options(_options())

    assert caught.value.as_status_text() == (
        "INVALID_ARGUMENT: Both server_options.model_base_path and "
        "server_options.model_config_file are empty!"
    )
