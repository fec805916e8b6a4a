"""What the test folders share: names, timeouts, test models, config files, HTTP probes.

Imported as ``tests.support`` (``pythonpath = ["."]`` in pyproject.toml puts the repository root
on ``sys.path``), never loaded by file path. Importing this package imports neither TensorFlow
nor the stand-in; its modules say what they import:

- ``savedmodels``: tiny SavedModels written with TensorFlow's TF1 builder (milliseconds each);
- ``example_models``: models that parse ``tf.Example``s, TF Serving's ``half_plus_two`` among
  them;
- ``config_files``: the one writer of ``--model_config_file`` files;
- ``rest_probe``: raw HTTP to a server's REST port, byte for byte, and the error body's bytes;
- ``failed_start``: the line a server prints on stdout when it fails to start;
- ``asgi``: the same kind of reply from the stand-in's ASGI app, in-process;
- ``watched_server``: the conformance suite's server that polls its files;
- ``fault_server``, ``traffic``: the reliability tests' shared server and steady load;
- ``grpc_predict``: gRPC channels, hand-built Predict requests, the load's gRPC transport;
- ``fuzzing``: what the REST and gRPC fuzz tests share (families, tallies, memory readings);
- ``rest_fuzz_requests``, ``grpc_fuzz_tensors``, ``grpc_fuzz_requests``: their generated cases;
- ``manager_kit``: a harness for the stand-in's model manager, in-process;
- ``scripted_grpc``: an in-process gRPC server whose answers each test scripts;
- ``predict_decoding``: predict bodies decoded as the stand-in's handler decodes them;
- ``status_errors``: the ``ServingStatusError`` a call into the stand-in raises.
- ``tensor_protos``: TensorProtos written by hand, sample arrays of every dtype, and
  TensorFlow's own reader, for the stand-in's TensorProto tests.
"""

from __future__ import annotations

from fashion.clients import DEFAULT_TIMEOUT

__all__ = ["MODEL_NAME", "QUICK_REQUEST_TIMEOUT", "REQUEST_TIMEOUT", "SLOW_REQUEST_TIMEOUT"]

#: The model name of the suite's single-model servers, as in the seed notebook.
MODEL_NAME = "fashion_model"

#: Seconds one request may take: the clients' own default (``fashion.clients.DEFAULT_TIMEOUT``).
REQUEST_TIMEOUT = DEFAULT_TIMEOUT

#: Seconds for one small request of the reliability tests (to the fault server, whose tests wait
#: on it in loops, and each request of a steady load): a third of the default, so a hang fails a
#: test sooner.
QUICK_REQUEST_TIMEOUT = DEFAULT_TIMEOUT / 3

#: Seconds for one fuzzed request: twice the default, for bodies nested 100,000 levels deep.
SLOW_REQUEST_TIMEOUT = 2 * DEFAULT_TIMEOUT
