"""In-process tests of the pipeline: IDX files, data, preprocessing, models, export (with the
session-loader probe), the REST client and the command line."""
