"""The real server's standard log texts, one helper each (``loader_harness.cc``, ``server.cc``).

Harnesses wait for these exact texts (``Successfully loaded servable version ...``,
``Exporting HTTP/REST API at:localhost:8501 ...``), so they are written here once and no other
module retypes them. Each helper writes through
:func:`fashion.serving.logs.lines.write_line`, so the line's prefix names the helper's caller,
as the real server's names the C++ file that logs.
"""

from __future__ import annotations

import logging
import pathlib
import sys

from fashion.serving.logs.lines import write_line
from fashion.serving.status import ServingStatusError

__all__ = [
    "adding_updating_models",
    "approving_load",
    "building_single_model_config",
    "config_entry",
    "custom_model_config_unsupported",
    "deprecated_model_type",
    "done_quiescing",
    "done_unloading",
    "duplicate_version_directories",
    "encountered_error",
    "exporting_rest_api",
    "failed_to_read_config_file",
    "failed_to_start_http_server",
    "filesystem_access_error",
    "finished_adding_updating_models",
    "finished_warmup",
    "flag_value_not_interpreted",
    "ignored_flag",
    "load_failed",
    "load_retries_cancelled",
    "load_retries_exhausted",
    "loaded_servable",
    "loading_servable",
    "net_log_entering_event_loop",
    "net_log_failed_to_uncompress_gzip_body",
    "no_specific_versions_requested",
    "no_versions_found",
    "no_warmup_data",
    "quiescing",
    "readding_model",
    "reading_saved_model",
    "reload_config_failed",
    "reload_config_rpc_failed",
    "rest_port_same_as_grpc_port",
    "retrying_load",
    "running_grpc_server",
    "running_grpc_server_on_socket",
    "saved_model_loaded",
    "servable_cannot_be_loaded",
    "servable_id",
    "specific_version_not_found",
    "starting_warmup",
    "state_listener_failed",
    "successfully_reserved_resources",
    "taking_no_action_for_empty_config",
    "text_format_parse_error",
    "unexpected_request_error",
    "unfinished_work_after_stop",
    "unloading",
    "using_insecure_server_credentials",
]


def _status_text(status: str | ServingStatusError) -> str:
    if isinstance(status, ServingStatusError):
        return status.as_status_text()
    return status


def servable_id(model: str, version: int) -> str:
    """Render a servable id as TF Serving does: ``{name: m version: 1}``."""
    return f"{{name: {model} version: {version}}}"


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
    write_line(logging.ERROR, f"Failed to read ModelServerConfig file: {_status_text(status)}")


def reload_config_failed(status: str | ServingStatusError) -> None:
    """Config poll: the new config was rejected; the old one stays in force."""
    write_line(
        logging.ERROR,
        f"PollFilesystemAndReloadConfig failed to ReloadConfig: {_status_text(status)}",
    )


# --- servable life cycle (basic_manager.cc, loader_harness.cc, retrier.cc) -------------------


def successfully_reserved_resources(model: str, version: int) -> None:
    """Before each load."""
    write_line(
        logging.INFO,
        f"Successfully reserved resources to load servable {servable_id(model, version)}",
    )


def approving_load(model: str, version: int) -> None:
    """The manager approves a load."""
    write_line(logging.INFO, f"Approving load for servable version {servable_id(model, version)}")


def loading_servable(model: str, version: int) -> None:
    """A load attempt starts."""
    write_line(logging.INFO, f"Loading servable version {servable_id(model, version)}")


def loaded_servable(model: str, version: int) -> None:
    """The version is AVAILABLE; the line harnesses wait for."""
    write_line(logging.INFO, f"Successfully loaded servable version {servable_id(model, version)}")


def load_failed(model: str, version: int, status: str | ServingStatusError) -> None:
    """One failed load attempt (``status`` rendered as ``CODE_NAME: message``)."""
    write_line(
        logging.ERROR,
        f"Loading servable: {servable_id(model, version)} failed: {_status_text(status)}",
    )


def retrying_load(model: str, version: int, retry: int) -> None:
    """Before retry number ``retry`` (1-based) of a failed load."""
    write_line(
        logging.INFO,
        f"Retrying of Loading servable: {servable_id(model, version)} retry: {retry}",
    )


def load_retries_cancelled(model: str, version: int) -> None:
    """The version stopped being aspired while its load was being retried."""
    write_line(
        logging.INFO,
        f"Retrying of Loading servable: {servable_id(model, version)} was cancelled.",
    )


def load_retries_exhausted(model: str, version: int, max_num_retries: int) -> None:
    """Every attempt failed (logged after the last ``load_failed``)."""
    write_line(
        logging.INFO,
        f"Retrying of Loading servable: {servable_id(model, version)} "
        f"exhausted max_num_retries: {max_num_retries}",
    )


def encountered_error(model: str, version: int, status: str | ServingStatusError) -> None:
    """The load failed for good; the version goes to END (an INFO line in the real server)."""
    write_line(
        logging.INFO,
        f"Encountered an error for servable version {servable_id(model, version)}: "
        f"{_status_text(status)}",
    )


def quiescing(model: str, version: int) -> None:
    """Unload begins."""
    write_line(logging.INFO, f"Quiescing servable version {servable_id(model, version)}")


def done_quiescing(model: str, version: int) -> None:
    """No new requests reach the version any more."""
    write_line(logging.INFO, f"Done quiescing servable version {servable_id(model, version)}")


def unloading(model: str, version: int) -> None:
    """Unload proper (since TF Serving 2.9 this text is used for every unload)."""
    write_line(
        logging.INFO, f"Unloading just-loaded servable version {servable_id(model, version)}"
    )


def done_unloading(model: str, version: int) -> None:
    """The version is END."""
    write_line(logging.INFO, f"Done unloading servable version {servable_id(model, version)}")


def reading_saved_model(directory: str) -> None:
    """TensorFlow's loader, before reading a SavedModel."""
    write_line(logging.INFO, f"Reading SavedModel from: {directory}")


def saved_model_loaded(
    tags: list[str] | tuple[str, ...], microseconds: int, error: ServingStatusError | None = None
) -> None:
    """TensorFlow's loader, after a SavedModel load, successful or not."""
    tag_text = " ".join(tags)
    outcome = "success: OK" if error is None else f"fail: {error.as_status_text()}"
    write_line(
        logging.INFO,
        f"SavedModel load for tags {{ {tag_text} }}; Status: {outcome}. "
        f"Took {microseconds} microseconds.",
    )


def servable_cannot_be_loaded(model: str, version: int, status: str | ServingStatusError) -> None:
    """The manager gives up on a version (after ``encountered_error``, or when cancelled)."""
    write_line(
        logging.ERROR,
        f"Servable {servable_id(model, version)} cannot be loaded: {_status_text(status)}",
    )


def unfinished_work_after_stop(seconds: int) -> None:
    """Stand-in only: a TensorFlow load cannot be interrupted, so ``stop`` stops waiting."""
    write_line(
        logging.WARNING, f"A load or unload still running {seconds} s after stop was left to finish"
    )


def no_warmup_data(path: str) -> None:
    """A version without warm-up records (the normal case)."""
    write_line(logging.INFO, f"No warmup data file found at {path}")


def starting_warmup(path: str, options_text: str) -> None:
    """Warm-up records are about to be replayed (``saved_model_warmup_util.cc``)."""
    write_line(
        logging.INFO,
        f"Starting to read warmup data for model at {path} with model-warmup-options "
        f"{options_text}",
    )


def finished_warmup(path: str, records: int, microseconds: int) -> None:
    """Every warm-up record replayed."""
    write_line(
        logging.INFO,
        f"Finished reading warmup data for model at {path}. Number of warmup records read: "
        f"{records}. Elapsed time (microseconds): {microseconds}.",
    )


# --- version discovery (file_system_storage_path_source.cc) ----------------------------------


def no_versions_found(model: str, base_path: str) -> None:
    """A scan found no numeric child under the base path."""
    write_line(
        logging.WARNING,
        f"No versions of servable {model} found under base path {base_path}. "
        "Did you forget to name your leaf directory as a number (eg. '/1/')?",
    )


def filesystem_access_error(message: str) -> None:
    """A scan failed (a missing base path: ``Could not find base path ...``); every scan."""
    write_line(
        logging.ERROR,
        f"FileSystemStoragePathSource encountered a filesystem access error: {message}",
    )


def specific_version_not_found(model: str, version: int) -> None:
    """A version listed in a ``specific`` policy has no directory."""
    write_line(
        logging.WARNING,
        f"Version {version} of servable {model}, which was requested to be served as a "
        "'specific' version in the servable's version policy, was not found in the file system",
    )


def no_specific_versions_requested(model: str) -> None:
    """A ``specific {}`` policy with an empty list."""
    write_line(logging.WARNING, f"No specific versions requested for servable {model}.")


def duplicate_version_directories(version: int, used: str, ignored: str) -> None:
    """Several children parse to the same version number."""
    write_line(
        logging.WARNING,
        f"Duplicate version directories detected. Version {version} will be loaded from "
        f"{used}, {ignored} will be ignored.",
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
    frame = sys._getframe(1)
    name = pathlib.Path(frame.f_code.co_filename).name
    write_line(
        logging.INFO,
        f"[{name} : {frame.f_lineno}] NET_LOG: Entering the event loop ...",
        raw=True,
    )


def net_log_failed_to_uncompress_gzip_body() -> None:
    """The raw line the HTTP server writes when a gzip body does not inflate (body dropped)."""
    frame = sys._getframe(1)
    name = pathlib.Path(frame.f_code.co_filename).name
    write_line(
        logging.ERROR,
        f"[{name} : {frame.f_lineno}] NET_LOG: Failed to uncompress the gzipped body",
        raw=True,
    )


# --- command line (TensorFlow's flag parser) and stand-in notices ----------------------------


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
