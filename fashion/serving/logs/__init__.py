"""Log lines as TF Serving writes them: TensorFlow's prefix, and the catalogue of its texts.

``lines`` formats and writes lines on stderr; ``texts`` holds every message the stand-in logs,
one helper per text, each naming the TF Serving source it comes from. Every other module logs
through ``texts``. May import ``status`` only.
"""

__all__ = [
    "lines",
    "texts",
]
