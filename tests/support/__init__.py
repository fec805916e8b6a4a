"""What the test folders share: test models, config files, HTTP probes, shared servers.

Imported as ``tests.support`` (``pythonpath = ["."]`` in pyproject.toml puts the repository root
on ``sys.path``), never loaded by file path. Importing this package imports neither TensorFlow
nor the stand-in; its modules say what they import:

- ``savedmodels``: tiny SavedModels written with TensorFlow's TF1 builder (milliseconds each);
- ``example_models``: models that parse ``tf.Example``s, TF Serving's ``half_plus_two`` among
  them;
- ``config_files``: the one writer of ``--model_config_file`` files;
- ``rest_probe``: raw HTTP to a server's REST port, byte for byte;
- ``watched_server``: the conformance suite's server that polls its files;
- ``fault_server``, ``traffic``: the reliability tests' shared server and steady load.
"""

from __future__ import annotations

__all__: list[str] = []
