"""In-process tests of ``fashion.serving.logs``."""
