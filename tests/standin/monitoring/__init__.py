"""In-process tests of ``fashion.serving.monitoring``."""
