"""In-process tests of ``fashion.serving.rest``."""
