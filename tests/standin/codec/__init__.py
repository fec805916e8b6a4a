"""In-process tests of ``fashion.serving.codec``."""
