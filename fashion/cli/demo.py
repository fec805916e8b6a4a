"""``fashion demo``: the seed notebook's flow end to end against a model server.

The flow itself is :mod:`fashion.demo`; this module is its command line. TensorFlow is imported
quietly before it, so the demo's output starts with the demo, not with TensorFlow's banner.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fashion.cli.options import add_data_options, add_server_options, positive_int

__all__ = ["add_parser"]


def add_parser(commands: argparse._SubParsersAction) -> None:
    """``demo`` and its options."""
    demo = commands.add_parser("demo", help="the seed's flow end to end against a model server")
    add_data_options(demo)
    demo.add_argument("--epochs", type=positive_int, default=5, help="per version (default 5)")
    demo.add_argument("--model-dir", type=Path, help="keep the exported versions here")
    add_server_options(demo)
    demo.add_argument("--plot", type=Path, help="save the seed's picture of the 3 predictions")
    demo.add_argument("--quiet", action="store_true", help="no progress bars")
    demo.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    from fashion.quiet_tensorflow import import_tensorflow_quietly

    import_tensorflow_quietly()
    from fashion.demo import DemoOptions, run_demo

    return run_demo(
        DemoOptions(
            data_dir=args.data_dir,
            synthetic=args.synthetic,
            epochs=args.epochs,
            model_dir=args.model_dir,
            model_server=args.model_server,
            container_engine=args.container_engine,
            docker_pull=args.docker_pull,
            plot=args.plot,
            quiet=args.quiet,
        )
    )
