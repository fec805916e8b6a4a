"""In-process tests of ``fashion.serving.startup``."""
