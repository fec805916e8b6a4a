"""In-process tests of ``fashion.serving.runtime``."""
