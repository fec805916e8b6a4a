"""Running a loaded version: TF Serving's SavedModel bundle and its session.

Owns loading a version with TensorFlow's TF1 session loader (as the C++ server does), the
session callables every run goes through, signature descriptions, warm-up replay and
classify/regress on ``tf.Example`` signatures (``classifier.cc``, ``regressor.cc``). The
``loader`` module is what the model manager is given. May import ``logs`` and ``status``.
"""

__all__ = [
    "encoded_lists",
    "example_inference",
    "loader",
    "servable",
    "session_callables",
    "signature_info",
    "warmup",
]
