"""The project's tests, grouped by who reads them.

- ``suite/``: the serving suite against the spawned model server; what a user reads first;
- ``pipeline/``: in-process tests of the pipeline (IDX files, data, preprocessing, models,
  export, the REST client, the command line);
- ``conformance/``: TF Serving's REST behaviour, asserted against the spawned server (the real
  ``tensorflow_model_server`` or the stand-in);
- ``standin/``: in-process unit tests of the stand-in, one folder per subpackage of
  ``fashion/serving``;
- ``reliability/``: faults, load and fuzzing against the spawned server;
- ``support/``: what the folders share, imported as ``tests.support``.

Every folder is a package, so test files of the same name in two folders do not clash. Tests
that spawn a server are marked ``server``; tests of seconds each are marked ``slow``.
"""
