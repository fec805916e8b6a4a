"""The gRPC front door: TF Serving's ``PredictionService`` and ``ModelService`` on grpcio.

Owns the servicers (``prediction_service_impl.cc``, ``model_service_impl.cc``), ``ModelSpec``
resolution, errors as gRPC statuses (``grpc_status_util.cc``) and the server's ports, channel
arguments and health service (``server.cc``). It runs the same ``runtime`` code as ``rest``,
on the same ``models`` manager; the two front doors never import each other. May import
``models``, ``runtime``, ``monitoring``, ``logs`` and ``status``.
"""

__all__ = [
    "model_service",
    "model_specs",
    "prediction_service",
    "server",
    "status",
]
