"""In-process tests of ``fashion.serving.models``."""
