"""Start-up and shutdown of the stand-in, in the order of ``tensorflow_model_server``.

Flags are parsed and checked, the model config is built, every model's first version is loaded
(no port is open meanwhile), then the REST port opens and the ``Exporting HTTP/REST API`` line is
logged: a harness that waits for the real server's port or log line works unchanged. SIGTERM and
SIGINT end the process killed by the signal, as they end the real server, once in-flight requests
have finished (uvicorn re-raises the signal; the stand-in re-delivers SIGINT after its clean-up).
"""

from __future__ import annotations

import gc
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from fashion.serving.logs import lines
from fashion.serving.logs import texts as log
from fashion.serving.models.model_config import (
    ConfigKind,
    CustomModelConfigError,
    ModelServerConfig,
    read_model_server_config,
    single_model_config,
    validate_config,
    validate_platforms,
)
from fashion.serving.startup.flags import EXIT_FAILURE, ServerOptions, parse_flags
from fashion.serving.startup.option_checks import (
    check_options_after_config,
    check_options_before_config,
)
from fashion.serving.status import ServingStatusError

if TYPE_CHECKING:  # TensorFlow is imported only once the flags are known to be good.
    import grpc

    from fashion.serving.models.manager import ModelManager
    from fashion.serving.models.manager_types import ManagerOptions
    from fashion.serving.models.reload import ConfigReloader
    from fashion.serving.monitoring.metrics import Metrics
    from fashion.serving.runtime.servable import LoadOptions, Servable

__all__ = ["leave_end_signals_to_their_default_action", "main"]

#: How long in-flight requests may take to finish once a stop signal arrives.
_SHUTDOWN_GRACE_SECONDS = 0.5


def _fail(error: ServingStatusError) -> int:
    print(f"Failed to start server. Error: {error.as_status_text()}", flush=True)
    return EXIT_FAILURE


def _load_config(options: ServerOptions) -> ModelServerConfig:
    if options.model_config_file:
        return read_model_server_config(options.model_config_file)
    return single_model_config(options.model_name, options.model_base_path)


def _manager_options(options: ServerOptions) -> ManagerOptions:
    from fashion.serving.models.manager_types import ManagerOptions

    return ManagerOptions(
        file_system_poll_wait_seconds=options.file_system_poll_wait_seconds,
        num_load_threads=options.num_load_threads,
        num_unload_threads=options.num_unload_threads,
        max_num_load_retries=options.max_num_load_retries,
        load_retry_interval_micros=options.load_retry_interval_micros,
        allow_version_labels_for_unavailable_models=(
            options.allow_version_labels_for_unavailable_models
        ),
    )


def _load_options(options: ServerOptions) -> LoadOptions:
    from fashion.serving.runtime.servable import LoadOptions

    return LoadOptions(
        tags=tuple(tag.strip() for tag in options.saved_model_tags.split(",") if tag.strip()),
        intra_op_parallelism=options.tensorflow_intra_op_parallelism,
        inter_op_parallelism=options.tensorflow_inter_op_parallelism,
        session_parallelism=options.tensorflow_session_parallelism,
        enable_warmup=options.enable_model_warmup,
        warmup_iterations=options.num_request_iterations_for_warmup,
    )


class _ConfigPoller(threading.Thread):
    """Re-reads ``--model_config_file`` every N seconds and applies it (``server.cc``,
    ``PollFilesystemAndReloadConfig``)."""

    def __init__(
        self, options: ServerOptions, reloader: ConfigReloader[Servable], stop: threading.Event
    ) -> None:
        super().__init__(name="config-poller", daemon=True)
        self._options = options
        self._reloader = reloader
        self._stop = stop

    def run(self) -> None:
        while not self._stop.is_set():
            self._reload()
            self._stop.wait(self._options.model_config_file_poll_wait_seconds)

    def _reload(self) -> None:
        try:
            config = read_model_server_config(self._options.model_config_file)
        except ServingStatusError as exc:
            log.failed_to_read_config_file(exc)
            return
        try:
            self._reloader.reload(config)
        except ServingStatusError as exc:
            log.reload_config_failed(exc)


def _rest_socket(options: ServerOptions) -> socket.socket | None:
    """The bound REST socket, or None when the server runs without REST (``server.cc``).

    No REST port, the gRPC port given again, or a port that does not bind: TF Serving logs the
    last two and serves gRPC alone, so each is a None here rather than an error.
    """
    if options.rest_api_port == 0:
        return None
    if options.rest_api_port == options.port:
        log.rest_port_same_as_grpc_port()
        return None
    sock = _bind(options)
    if sock is None:
        log.failed_to_start_http_server(options.rest_api_port)
    return sock


def _bind(options: ServerOptions) -> socket.socket | None:
    family = socket.AF_INET6 if ":" in options.rest_api_bind_address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((options.rest_api_bind_address, options.rest_api_port))
        sock.listen(1024)
    except OSError:
        sock.close()
        return None
    sock.set_inheritable(True)
    return sock


class _EndSignals:
    """SIGTERM and SIGINT once serving has begun: each stops serving, and is remembered.

    ``tensorflow_model_server`` installs no handler, so either signal ends it at once. The
    stand-in leaves both at their default action until it serves (a signal during start-up ends
    it at once too), then catches them so that it can finish in-flight requests and clean up
    before it ends the same way (:func:`_end_by_signal`). uvicorn's own handling is left out
    (``rest.uvicorn_server``): it hands SIGINT to asyncio's runner, which turns it into
    a cancelled task, a ``KeyboardInterrupt`` or, when the serving coroutine ends first, nothing
    (exit status 0, seen under load).
    """

    def __init__(self, stop: threading.Event) -> None:
        self.received: int | None = None
        self._stop = stop
        self._callbacks: list[Callable[[], None]] = []

    def catch(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)

    def on_signal(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` on the first signal, or now if it has already come."""
        self._callbacks.append(callback)
        if self.received is not None:
            callback()

    def _on_signal(self, signum: int, _frame: object) -> None:
        if self.received is None:
            self.received = signum
        self._stop.set()
        for callback in self._callbacks:
            callback()


def leave_end_signals_to_their_default_action() -> None:
    """Until serving begins, SIGINT ends the process as SIGTERM does: not ``KeyboardInterrupt``,
    which an import or a library may swallow, leaving a server that no longer stops. Called
    first thing by the command's entry point, before TensorFlow's slow import."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _end_by_signal(signum: int) -> None:
    """End the process killed by ``signum``, as the real server (which installs no handler) is.

    Called once the stand-in has cleaned up; the signal is delivered again with its default
    action, so the exit status a supervisor sees is the real server's.
    """
    signal.signal(signum, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signum])
    # To this thread, not the process: os.kill may hand the signal to any other thread, and on
    # a busy machine this one reached exit(0) first (SIGINT, seen under load on Python 3.10).
    signal.raise_signal(signum)
    os._exit(128 + signum)  # not reached: the default action ends the process inside raise


def _serve(
    options: ServerOptions,
    manager: ModelManager[Servable],
    metrics: Metrics,
    metrics_path: str | None,
    stop: threading.Event,
    end_signals: _EndSignals,
) -> None:
    """Serve REST, or only wait when there is no REST port, until a signal stops serving."""
    import uvicorn

    from fashion.serving.rest.app import RestApp
    from fashion.serving.rest.handlers import RestHandlers
    from fashion.serving.rest.uvicorn_server import UvicornWithoutSignals

    sock = _rest_socket(options)
    if sock is None:
        stop.wait()
        return
    executor = ThreadPoolExecutor(options.rest_api_num_threads, thread_name_prefix="rest")
    handlers = RestHandlers(
        manager,
        metrics,
        timeout_ms=options.rest_api_timeout_in_ms,
        check_method_name=options.enable_signature_method_name_check,
    )
    app = RestApp(
        handlers,
        executor,
        metrics,
        enable_cors=options.rest_api_enable_cors_support,
        max_body_bytes=options.rest_api_max_body_bytes,
        metrics_path=metrics_path,
    )
    config = uvicorn.Config(
        app,
        lifespan="off",
        log_level="warning",
        access_log=False,
        server_header=False,
        # The app never reads the client address or scheme that X-Forwarded-* would rewrite,
        # so uvicorn's proxy-headers middleware would only add a layer to every request.
        proxy_headers=False,
        # libevent knows nothing of WebSocket: an Upgrade header changes nothing.
        ws="none",
        timeout_graceful_shutdown=_SHUTDOWN_GRACE_SECONDS,
        timeout_keep_alive=60,
    )
    server = UvicornWithoutSignals(config)
    end_signals.on_signal(lambda: setattr(server, "should_exit", True))
    log.exporting_rest_api(options.rest_api_port)
    log.net_log_entering_event_loop()
    try:
        server.run(sockets=[sock])
    finally:
        stop.set()
        executor.shutdown(wait=False, cancel_futures=True)
        sock.close()


def _start_grpc(
    options: ServerOptions,
    manager: ModelManager[Servable],
    reloader: ConfigReloader[Servable],
    metrics: Metrics,
) -> grpc.Server:
    """The gRPC server, listening before REST opens (``Server::BuildAndStart``)."""
    from fashion.serving.grpc.server import GrpcOptions, start_grpc_server

    grpc_options = GrpcOptions(
        port=options.port,
        socket_path=options.grpc_socket_path,
        bind_address=options.grpc_bind_address,
        max_threads=options.grpc_max_threads,
        channel_arguments=options.grpc_channel_arguments,
        enable_health=options.enable_grpc_healthcheck_service,
        check_method_name=options.enable_signature_method_name_check,
        serialize_as_tensor_content=options.enable_serialization_as_tensor_content,
    )
    return start_grpc_server(grpc_options, manager, reloader, metrics)


def _metrics_path(options: ServerOptions) -> str | None:
    """The Prometheus path, read only when REST is on, as ``server.cc`` reads it: not with
    ``--rest_api_port=0``, nor when it equals ``--port`` (REST is then skipped)."""
    rest_off = options.rest_api_port in (0, options.port)
    if not options.monitoring_config_file or rest_off:
        return None
    from fashion.serving.monitoring.config import read_metrics_path

    return read_metrics_path(options.monitoring_config_file)


def main(argv: list[str] | None = None) -> int:
    """Run the stand-in with ``tensorflow_model_server``'s command line; returns the exit status."""
    outcome = parse_flags(list(sys.argv[1:] if argv is None else argv))
    if outcome.stdout:
        sys.stdout.write(outcome.stdout)
        sys.stdout.flush()
    lines.configure_logging()
    for value, flag in outcome.bad_values:
        log.flag_value_not_interpreted(value, flag)
    if outcome.exit_code is not None or outcome.options is None:
        return outcome.exit_code if outcome.exit_code is not None else EXIT_FAILURE
    options = outcome.options
    for flag in options.ignored_flags_given:
        log.ignored_flag(flag)
    try:
        check_options_before_config(options)
        config = _load_config(options)
        check_options_after_config(options)
        validate_config(config)
        validate_platforms(config)
    except CustomModelConfigError:
        log.custom_model_config_unsupported()
        return 134  # the real binary aborts (SIGABRT)
    except ServingStatusError as exc:
        return _fail(exc)
    if config.kind is ConfigKind.NOT_SET:
        log.taking_no_action_for_empty_config()
    from fashion.serving.models.manager import ModelManager
    from fashion.serving.models.manager_types import describe_unavailable
    from fashion.serving.models.reload import ConfigReloader
    from fashion.serving.monitoring.metrics import process_metrics
    from fashion.serving.runtime.loader import version_loader

    metrics = process_metrics()
    manager = ModelManager(
        config.models, version_loader(_load_options(options), metrics), _manager_options(options)
    )
    stop = threading.Event()
    end_signals = _EndSignals(stop)
    grpc_server = None
    try:
        try:
            manager.start()
        except ServingStatusError as exc:
            return _fail(exc)
        failures = manager.wait_until_initial_load()
        if failures:
            print(
                f"Failed to start server. Error: UNKNOWN: {describe_unavailable(failures)}",
                flush=True,
            )
            return EXIT_FAILURE
        # TensorFlow leaves ~300,000 long-lived objects; freezing them keeps the cyclic
        # collector from rescanning them while large request bodies are decoded.
        gc.freeze()
        reloader = ConfigReloader(manager, config)
        if options.model_config_file and options.model_config_file_poll_wait_seconds > 0:
            _ConfigPoller(options, reloader, stop).start()
        try:
            grpc_server = _start_grpc(options, manager, reloader, metrics)
            metrics_path = _metrics_path(options)
        except ServingStatusError as exc:
            return _fail(exc)
        end_signals.catch()
        _serve(options, manager, metrics, metrics_path, stop, end_signals)
        return 0
    finally:
        stop.set()
        if grpc_server is not None:
            grpc_server.stop(_SHUTDOWN_GRACE_SECONDS).wait()
        manager.stop()
        if end_signals.received is not None:
            _end_by_signal(end_signals.received)
