"""The texts of the server as a whole: its model configuration, its ports, its flags, its notices.

From ``model_servers/server.cc``, ``server_core.cc``, ``evhttp_server.cc`` and TensorFlow's flag
parser, plus the stand-in's own notices (marked so): what a harness waits for at start-up
(``Exporting HTTP/REST API at:localhost:8501 ...``) and sees on a reload or a bad request.
"""

from __future__ import annotations

import logging
import pathlib
import sys

from fashion.serving.logs.lines import write_line
from fashion.serving.logs.texts.common import status_text
from fashion.serving.status import ServingStatusError

__all__ = [
    "adding_updating_models",
    "building_single_model_config",
    "config_entry",
    "custom_model_config_unsupported",
    "deprecated_model_type",
    "exporting_rest_api",
    "failed_to_read_config_file",
    "failed_to_start_http_server",
    "finished_adding_updating_models",
    "flag_value_not_interpreted",
    "ignored_flag",
    "net_log_entering_event_loop",
    "net_log_failed_to_uncompress_gzip_body",
    "readding_model",
    "reload_config_failed",
    "reload_config_rpc_failed",
    "rest_port_same_as_grpc_port",
    "running_grpc_server",
    "running_grpc_server_on_socket",
    "state_listener_failed",
    "taking_no_action_for_empty_config",
    "text_format_parse_error",
    "unexpected_request_error",
    "using_insecure_server_credentials",
]


# --- configuration (server.cc, server_core.cc) -----------------------------------------------


def building_single_model_config(model_name: str, base_path: str) -> None:
    """Single-model mode, before loading (two spaces after the colon are the real text)."""
    write_line(
        logging.INFO,
        f"Building single TensorFlow model file config:  model_name: {model_name} "
        f"model_base_path: {base_path}",
    )


def adding_updating_models() -> None:
    """Start of each (re)load of the model config."""
    write_line(logging.INFO, "Adding/updating models.")


def readding_model(model_name: str) -> None:
    """Once per model per (re)load; the leading space is part of the real text."""
    write_line(logging.INFO, f" (Re-)adding model: {model_name}")


def finished_adding_updating_models() -> None:
    """End of a (re)load of the model config."""
    write_line(logging.INFO, "Finished adding/updating models")


def taking_no_action_for_empty_config() -> None:
    """A config file that sets neither ``model_config_list`` nor ``custom_model_config``."""
    write_line(logging.INFO, "Taking no action for empty config.")


def deprecated_model_type() -> None:
    """Each time a model's platform is looked up through the deprecated ``model_type``."""
    write_line(
        logging.WARNING,
        "Deprecated ModelServerConfig::model_type field used. "
        "Prefer ModelServerConfig::model_platform.",
    )


def custom_model_config_unsupported() -> None:
    """The binary's answer to ``custom_model_config``: a fatal log line, then abort."""
    write_line(logging.CRITICAL, "ModelServer does not yet support custom model config.")


def text_format_parse_error(message_type: str, line: int, column: int, detail: str) -> None:
    """What the protobuf library logs when a text-format file does not parse."""
    write_line(
        logging.ERROR,
        f"Error parsing text-format {message_type}: {line}:{column}: {detail}",
    )


def config_entry(index: int, base_path: str, name: str, platform: str) -> None:
    """Each entry of a config pushed over gRPC (``model_service_impl.cc``)."""
    write_line(
        logging.INFO,
        f"\nConfig entry\n\tindex : {index}\n\tpath : {base_path}\n\tname : {name}"
        f"\n\tplatform : {platform}",
    )


def reload_config_rpc_failed(message: str) -> None:
    """A config pushed over gRPC was rejected (``model_service_impl.cc``)."""
    write_line(logging.ERROR, f"ReloadConfig failed: {message}")


def failed_to_read_config_file(status: str | ServingStatusError) -> None:
    """Config poll: the file could not be read or parsed."""
    write_line(logging.ERROR, f"Failed to read ModelServerConfig file: {status_text(status)}")


def reload_config_failed(status: str | ServingStatusError) -> None:
    """Config poll: the new config was rejected; the old one stays in force."""
    write_line(
        logging.ERROR,
        f"PollFilesystemAndReloadConfig failed to ReloadConfig: {status_text(status)}",
    )


# --- serving (server.cc, evhttp_server.cc) ---------------------------------------------------


def using_insecure_server_credentials() -> None:
    """Once per gRPC listening port (``server.cc``, ``BuildServerCredentials``)."""
    write_line(logging.INFO, "Using InsecureServerCredentials")


def running_grpc_server(port: int) -> None:
    """gRPC listening on TCP; the real text always names ``0.0.0.0``."""
    write_line(logging.INFO, f"Running gRPC ModelServer at 0.0.0.0:{port} ...")


def running_grpc_server_on_socket(path: str) -> None:
    """gRPC listening on ``--grpc_socket_path``."""
    write_line(logging.INFO, f"Running gRPC ModelServer at UNIX socket {path} ...")


def exporting_rest_api(port: int) -> None:
    """REST port listening; the line harnesses wait for (no space after ``at:``)."""
    write_line(logging.INFO, f"Exporting HTTP/REST API at:localhost:{port} ...")


def rest_port_same_as_grpc_port() -> None:
    """``--rest_api_port`` equal to ``--port``: the REST API is skipped."""
    write_line(
        logging.ERROR,
        "server_options.http_port cannot be same as grpc_port. Please use a different port "
        "for HTTP/REST API. Skipped exporting HTTP/REST API.",
    )


def failed_to_start_http_server(port: int) -> None:
    """The REST port could not be bound."""
    write_line(logging.ERROR, f"Failed to start HTTP Server at localhost:{port}")


def net_log_entering_event_loop() -> None:
    """The raw line (no TensorFlow prefix) the HTTP server writes when its loop starts."""
    _net_log(logging.INFO, "Entering the event loop ...")


def net_log_failed_to_uncompress_gzip_body() -> None:
    """The raw line the HTTP server writes when a gzip body does not inflate (body dropped)."""
    _net_log(logging.ERROR, "Failed to uncompress the gzipped body")


def _net_log(level: int, text: str) -> None:
    """libevent's ``NET_LOG`` form, ``[file : line] NET_LOG: text``, naming the caller's caller."""
    frame = sys._getframe(2)
    name = pathlib.Path(frame.f_code.co_filename).name
    write_line(level, f"[{name} : {frame.f_lineno}] NET_LOG: {text}", raw=True)


def unexpected_request_error(method: str, path_and_query: str) -> None:
    """Stand-in only: a request failed in a way no TF Serving text covers (answered 500)."""
    write_line(logging.ERROR, f"Unexpected error handling {method} {path_and_query}", exc_info=True)


def state_listener_failed(status: object) -> None:
    """Stand-in only: a state listener raised; the manager thread that published goes on."""
    write_line(logging.ERROR, f"State listener failed for {status}", exc_info=True)


def flag_value_not_interpreted(value: str, flag: str) -> None:
    """TensorFlow's flag parser, for a value that does not convert (then usage, exit 255)."""
    write_line(logging.ERROR, f"Couldn't interpret value {value} for flag {flag}.")


def ignored_flag(flag: str) -> None:
    """Stand-in only: a flag that is accepted for compatibility but has no effect here."""
    write_line(
        logging.WARNING,
        f"Flag --{flag} is accepted for compatibility but not implemented by the "
        "fashion stand-in; it has no effect.",
    )
