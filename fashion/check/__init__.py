"""``fashion check``: does this SavedModel really serve, and serve what it computes?

Given a model base path (or one version directory) from any model and any TF 2.x export, it
checks the layout, starts the chosen model server (or uses one already running), waits for the
versions to be AVAILABLE, compares the served metadata with the SavedModel's own, sends requests
built from each signature (and the user's golden cases) over REST and gRPC and compares the
answers with the same requests run in-process through TF Serving's own loader and codec,
optionally hot-loads a new version, and explains the known traps. The result is a
:class:`CheckReport`; nothing here prints.

Modules, one job each: ``options`` (what was asked), ``layout`` (the model on disk), ``server``
(the server side), ``readiness`` (each version's load), ``request_builder``, ``seeded_values``,
``graph_flow`` and ``example_features`` (requests from a signature), ``golden`` (the user's cases),
``reference`` (the in-process answers), ``compare`` (answers against answers), ``determinism``
(outputs that differ run to run), ``traps`` (warnings and explanations), ``version_checks`` (the
rows of one version), ``grpc_rows`` (its gRPC rows), ``rows`` (what the rows of both APIs share),
``report`` (table, JSON, JUnit XML) and ``runner`` (the order of it all). Importing the package
imports no TensorFlow: the runner imports it (quietly, with the server's kernels) once the server
is starting, so both start-ups overlap. May import ``fashion.servers``, ``fashion.clients``,
``fashion.quiet_tensorflow`` and the stand-in's ``runtime``, ``codec``, ``status``,
``startup.tf_env`` and ``models.discovery``; never Keras or the training pipeline
(``fashion.export`` is named in explanations, not imported), nor ``fashion.testing``: a server a
fixture started is taken by its shape (:class:`~fashion.check.server.StartedServer`).

Example::

    from fashion.check import CheckOptions, run_check

    report = run_check("models/my_model", CheckOptions(model_server="stand-in"))
    print(report.table())
    assert report.passed, report.table()
"""

from fashion.check.options import CheckInputError, CheckOptions, DimOverride, parse_dim
from fashion.check.report import CheckReport, CheckRow, Result
from fashion.check.runner import run_check, run_check_on_server
from fashion.check.server import RunningServer, StartedGrpcServer, StartedServer

__all__ = [
    "CheckInputError",
    "CheckOptions",
    "CheckReport",
    "CheckRow",
    "DimOverride",
    "Result",
    "RunningServer",
    "StartedGrpcServer",
    "StartedServer",
    "parse_dim",
    "run_check",
    "run_check_on_server",
]
