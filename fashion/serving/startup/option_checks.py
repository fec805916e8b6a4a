"""Start-up checks on the parsed options, with the real server's texts (``server.cc``, ``main.cc``).

The real server checks some options before it reads ``--model_config_file`` and some after;
:func:`validate_options` runs both groups for callers that have no config to read in between.
"""

from __future__ import annotations

from fashion.serving.startup.flags import ServerOptions
from fashion.serving.status import Code, ServingStatusError

__all__ = ["check_options_after_config", "check_options_before_config"]


def check_options_before_config(options: ServerOptions) -> None:
    """Start-up checks the real server makes before it reads the model config (``server.cc``).

    Raises:
        ServingStatusError: INVALID_ARGUMENT with the real server's text; the caller prints
            ``Failed to start server. Error: {CODE_NAME}: {message}`` and exits 255.
    """
    if options.port == 0 and not options.grpc_socket_path:
        raise ServingStatusError(
            Code.INVALID_ARGUMENT,
            "At least one of server_options.grpc_port or server_options.grpc_socket_path "
            "must be set.",
        )
    if options.use_alts_credentials and options.ssl_config_file:
        raise ServingStatusError(
            Code.INVALID_ARGUMENT,
            "Either use_alts_credentials must be false or ssl_config_file must be empty.",
        )
    if not options.model_base_path and not options.model_config_file:
        raise ServingStatusError(
            Code.INVALID_ARGUMENT,
            "Both server_options.model_base_path and server_options.model_config_file are empty!",
        )


def check_options_after_config(options: ServerOptions) -> None:
    """Start-up checks the real server makes after reading the model config (``server.cc``).

    Both checks are skipped when ``--platform_config_file`` is set, as in the real server.

    Raises:
        ServingStatusError: INVALID_ARGUMENT with the real server's text.
    """
    if options.platform_config_file:
        return
    if not options.enable_batching and options.batching_parameters_file:
        raise ServingStatusError(
            Code.INVALID_ARGUMENT,
            "server_options.batching_parameters_file is set without setting "
            "server_options.enable_batching to true.",
        )
    if (
        options.tensorflow_intra_op_parallelism > 0
        and options.tensorflow_inter_op_parallelism > 0
        and options.tensorflow_session_parallelism > 0
    ):
        raise ServingStatusError(
            Code.INVALID_ARGUMENT,
            "Either configure server_options.tensorflow_session_parallelism or "
            "(server_options.tensorflow_intra_op_parallelism, "
            "server_options.tensorflow_inter_op_parallelism) separately. "
            "You cannot configure all.",
        )
