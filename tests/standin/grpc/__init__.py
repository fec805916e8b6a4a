"""In-process tests of ``fashion.serving.grpc``."""
