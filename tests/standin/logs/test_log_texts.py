"""The catalogue of TF Serving's standard log texts: each helper writes the real server's text.

The texts are TF Serving's (``model_servers/server.cc``, ``server_core.cc``,
``core/basic_manager.cc``, ``core/loader_harness.cc``, ``util/retrier.cc``,
``sources/storage_path/file_system_storage_path_source.cc``), one helper each in
:mod:`fashion.serving.logs.texts`, and the stand-in uses every one of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from fashion.serving.logs import texts as log_messages
from fashion.serving.status import Code, ServingStatusError
from tests.standin.logs.capture import PREFIX, FlushCountingStream, lines, text_of

_THIS_FILE = "tests/standin/logs/test_log_texts.py"


def test_message_helper_lines_name_the_helpers_caller_not_the_log_module(
    stream: FlushCountingStream,
) -> None:
    log_messages.loaded_servable("m", 1)

    (line,) = lines(stream)
    assert f" {_THIS_FILE}:" in line
    assert "fashion/serving/logs/" not in line


def test_servable_id_is_rendered_like_tf_serving() -> None:
    assert log_messages.servable_id("fashion_model", 3) == "{name: fashion_model version: 3}"


def test_net_log_line_is_written_raw_without_the_tensorflow_prefix(
    stream: FlushCountingStream,
) -> None:
    log_messages.net_log_entering_event_loop()

    (line,) = lines(stream)
    assert re.fullmatch(
        r"\[test_log_texts\.py : \d+\] NET_LOG: Entering the event loop \.\.\.", line
    ), line


def test_the_config_entry_block_starts_on_a_new_line(stream: FlushCountingStream) -> None:
    log_messages.config_entry(0, "/models/m", "m", "tensorflow")

    assert stream.getvalue().split("] ", 1)[1] == (
        "\nConfig entry\n\tindex : 0\n\tpath : /models/m\n\tname : m\n\tplatform : tensorflow\n"
    )


def test_every_catalogue_helper_is_used_by_the_stand_in() -> None:
    import pathlib

    import fashion.serving

    root = pathlib.Path(fashion.serving.__file__).parent
    catalogue = root / "logs" / "texts"
    sources = "".join(
        path.read_text() for path in root.rglob("*.py") if not path.is_relative_to(catalogue)
    )
    unused = [
        name
        for name in log_messages.__all__
        if f"log.{name}(" not in sources and f"log.{name}\n" not in sources
    ]
    assert unused == []


_FAILED = ServingStatusError(Code.NOT_FOUND, "no such file")

_STANDARD_MESSAGES: list[tuple[Callable[[], None], str, str]] = [
    (
        lambda: log_messages.building_single_model_config("m", "/models/m"),
        "I",
        "Building single TensorFlow model file config:  model_name: m model_base_path: /models/m",
    ),
    (log_messages.adding_updating_models, "I", "Adding/updating models."),
    (lambda: log_messages.readding_model("m"), "I", " (Re-)adding model: m"),
    (
        lambda: log_messages.successfully_reserved_resources("m", 1),
        "I",
        "Successfully reserved resources to load servable {name: m version: 1}",
    ),
    (
        lambda: log_messages.approving_load("m", 1),
        "I",
        "Approving load for servable version {name: m version: 1}",
    ),
    (
        lambda: log_messages.loading_servable("m", 1),
        "I",
        "Loading servable version {name: m version: 1}",
    ),
    (
        lambda: log_messages.loaded_servable("m", 1),
        "I",
        "Successfully loaded servable version {name: m version: 1}",
    ),
    (
        lambda: log_messages.load_failed("m", 2, _FAILED),
        "E",
        "Loading servable: {name: m version: 2} failed: NOT_FOUND: no such file",
    ),
    (
        lambda: log_messages.retrying_load("m", 2, 1),
        "I",
        "Retrying of Loading servable: {name: m version: 2} retry: 1",
    ),
    (
        lambda: log_messages.encountered_error("m", 2, "UNKNOWN: bad"),
        "I",
        "Encountered an error for servable version {name: m version: 2}: UNKNOWN: bad",
    ),
    (
        lambda: log_messages.quiescing("m", 1),
        "I",
        "Quiescing servable version {name: m version: 1}",
    ),
    (
        lambda: log_messages.done_quiescing("m", 1),
        "I",
        "Done quiescing servable version {name: m version: 1}",
    ),
    (
        lambda: log_messages.unloading("m", 1),
        "I",
        "Unloading just-loaded servable version {name: m version: 1}",
    ),
    (
        lambda: log_messages.done_unloading("m", 1),
        "I",
        "Done unloading servable version {name: m version: 1}",
    ),
    (log_messages.finished_adding_updating_models, "I", "Finished adding/updating models"),
    (
        lambda: log_messages.exporting_rest_api(8501),
        "I",
        "Exporting HTTP/REST API at:localhost:8501 ...",
    ),
    (
        lambda: log_messages.no_versions_found("m", "/models/m"),
        "W",
        "No versions of servable m found under base path /models/m. Did you forget to name "
        "your leaf directory as a number (eg. '/1/')?",
    ),
    (
        lambda: log_messages.filesystem_access_error(
            "Could not find base path /models/m for servable m with error NOT_FOUND: /models/m"
        ),
        "E",
        "FileSystemStoragePathSource encountered a filesystem access error: Could not find "
        "base path /models/m for servable m with error NOT_FOUND: /models/m",
    ),
    (
        lambda: log_messages.specific_version_not_found("m", 3),
        "W",
        "Version 3 of servable m, which was requested to be served as a 'specific' version in "
        "the servable's version policy, was not found in the file system",
    ),
    (
        lambda: log_messages.no_specific_versions_requested("m"),
        "W",
        "No specific versions requested for servable m.",
    ),
    (
        lambda: log_messages.duplicate_version_directories(1, "/m/001", "/m/1"),
        "W",
        "Duplicate version directories detected. Version 1 will be loaded from /m/001, /m/1 "
        "will be ignored.",
    ),
    (
        lambda: log_messages.failed_to_read_config_file(
            "INVALID_ARGUMENT: Invalid protobuf file: '/c'"
        ),
        "E",
        "Failed to read ModelServerConfig file: INVALID_ARGUMENT: Invalid protobuf file: '/c'",
    ),
    (
        lambda: log_messages.reload_config_failed(_FAILED),
        "E",
        "PollFilesystemAndReloadConfig failed to ReloadConfig: NOT_FOUND: no such file",
    ),
    (
        log_messages.rest_port_same_as_grpc_port,
        "E",
        "server_options.http_port cannot be same as grpc_port. Please use a different port for "
        "HTTP/REST API. Skipped exporting HTTP/REST API.",
    ),
    (
        lambda: log_messages.failed_to_start_http_server(8501),
        "E",
        "Failed to start HTTP Server at localhost:8501",
    ),
    (
        lambda: log_messages.reading_saved_model("/models/m/1"),
        "I",
        "Reading SavedModel from: /models/m/1",
    ),
    (
        lambda: log_messages.saved_model_loaded(["serve"], 1234),
        "I",
        "SavedModel load for tags { serve }; Status: success: OK. Took 1234 microseconds.",
    ),
    (
        lambda: log_messages.flag_value_not_interpreted("abc", "port"),
        "E",
        "Couldn't interpret value abc for flag port.",
    ),
    (
        log_messages.custom_model_config_unsupported,
        "F",
        "ModelServer does not yet support custom model config.",
    ),
    (
        lambda: log_messages.saved_model_loaded(["serve", "gpu"], 7, _FAILED),
        "I",
        "SavedModel load for tags { serve gpu }; Status: fail: NOT_FOUND: no such file. "
        "Took 7 microseconds.",
    ),
    (
        lambda: log_messages.servable_cannot_be_loaded("m", 2, _FAILED),
        "E",
        "Servable {name: m version: 2} cannot be loaded: NOT_FOUND: no such file",
    ),
    (
        lambda: log_messages.no_warmup_data("/m/1/assets.extra/tf_serving_warmup_requests"),
        "I",
        "No warmup data file found at /m/1/assets.extra/tf_serving_warmup_requests",
    ),
    (
        lambda: log_messages.starting_warmup("/m/1/w", ""),
        "I",
        "Starting to read warmup data for model at /m/1/w with model-warmup-options ",
    ),
    (
        lambda: log_messages.finished_warmup("/m/1/w", 3, 45),
        "I",
        "Finished reading warmup data for model at /m/1/w. Number of warmup records read: 3. "
        "Elapsed time (microseconds): 45.",
    ),
    (log_messages.using_insecure_server_credentials, "I", "Using InsecureServerCredentials"),
    (
        lambda: log_messages.running_grpc_server(8500),
        "I",
        "Running gRPC ModelServer at 0.0.0.0:8500 ...",
    ),
    (
        lambda: log_messages.running_grpc_server_on_socket("/tmp/tf-serving.sock"),
        "I",
        "Running gRPC ModelServer at UNIX socket /tmp/tf-serving.sock ...",
    ),
    (
        lambda: log_messages.reload_config_rpc_failed("INVALID base path"),
        "E",
        "ReloadConfig failed: INVALID base path",
    ),
    (
        lambda: log_messages.unfinished_work_after_stop(30),
        "W",
        "A load or unload still running 30 s after stop was left to finish",
    ),
]


@pytest.mark.parametrize(
    ("write", "letter", "message"),
    _STANDARD_MESSAGES,
    ids=[expected for _, _, expected in _STANDARD_MESSAGES],
)
def test_standard_message_helpers_write_the_real_servers_text(
    stream: FlushCountingStream, write: Callable[[], None], letter: str, message: str
) -> None:
    write()

    (line,) = lines(stream)
    assert re.match(rf"{PREFIX}{letter} ", line), line
    assert text_of(line) == message
