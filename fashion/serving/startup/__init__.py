"""How the stand-in process starts: ``tensorflow_model_server``'s command line.

Owns the flag table and usage text (``main.cc``), parsing flags with TensorFlow's rules, the
start-up checks on the parsed options (``server.cc``) and the TensorFlow environment settings
made before TensorFlow is imported. May import ``logs`` and ``status`` only; nothing here
imports TensorFlow.
"""

__all__ = [
    "flag_table",
    "flags",
    "option_checks",
    "tf_env",
]
