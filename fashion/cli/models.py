"""``fashion train``, ``export`` and ``inspect``: making and reading model versions, no server.

Keras and TensorFlow are imported inside the commands, so ``fashion --help`` and the commands
that talk to a server do not wait for them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fashion.cli.options import CommandError, add_data_options, dataset, positive_int
from fashion.export import export_version, format_description, inspect
from fashion.model import MODEL_BUILDERS

__all__ = ["add_parsers"]


def add_parsers(commands: argparse._SubParsersAction) -> None:
    """``train``, ``export`` and ``inspect``, in the order ``--help`` lists them."""
    train = commands.add_parser("train", help="train a model, optionally save and export it")
    add_data_options(train)
    train.add_argument(
        "--model", choices=sorted(MODEL_BUILDERS), default="seed-v1", help="default seed-v1"
    )
    train.add_argument("--epochs", type=positive_int, default=5, help="default 5")
    train.add_argument("--batch-size", type=positive_int, default=64, help="default 64")
    train.add_argument("--seed", type=int, default=0, help="weights and shuffling (default 0)")
    train.add_argument("--output", type=Path, help="save the Keras model here (.keras)")
    train.add_argument(
        "--export-base", type=Path, help="export a SavedModel version under this base path"
    )
    train.add_argument(
        "--version", type=positive_int, default=1, help="version to export (default 1)"
    )
    train.add_argument("--overwrite", action="store_true", help="replace an existing version")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(handler=_train)

    export = commands.add_parser("export", help="export a saved Keras model as a version")
    export.add_argument(
        "model_file", type=Path, help="a .keras file written by 'fashion train --output'"
    )
    export.add_argument("base_path", type=Path, help="the model's base path")
    export.add_argument("version", type=positive_int, help="a positive integer")
    export.add_argument("--overwrite", action="store_true", help="replace an existing version")
    export.set_defaults(handler=_export)

    show = commands.add_parser(
        "inspect", help="show a SavedModel's signatures like saved_model_cli"
    )
    show.add_argument("path", type=Path, help="a SavedModel (version) directory")
    show.add_argument(
        "--tag-set", default="serve", help="the MetaGraph's tags, comma-separated (default serve)"
    )
    show.set_defaults(handler=_inspect)


def _train(args: argparse.Namespace) -> int:
    from fashion.model import build, train

    data = dataset(args)
    print(f"data: {data.source}" + (" (SYNTHETIC, not Fashion-MNIST)" if data.synthetic else ""))
    model = build(args.model, data.num_classes, seed=args.seed)
    result = train(
        model,
        data,
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
        verbose=0 if args.quiet else "auto",
    )
    print(f"validation accuracy: {result.final_val_accuracy:.4f}")
    if args.output:
        model.save(args.output)
        print(f"saved Keras model: {args.output}")
    if args.export_base:
        path = export_version(model, args.export_base, args.version, overwrite=args.overwrite)
        print(f"exported version {args.version}: {path}")
    return 0


def _export(args: argparse.Namespace) -> int:
    if not args.model_file.is_file():
        raise CommandError(f"{args.model_file}: no such file")
    import keras

    try:
        model = keras.models.load_model(args.model_file)
    # Keras reports a damaged or foreign file with whatever its format readers raise.
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise CommandError(
            f"{args.model_file}: not a Keras model file Keras can load "
            f"({type(exc).__name__}{': ' + reason[:200] if reason else ''})"
        ) from exc
    path = export_version(model, args.base_path, args.version, overwrite=args.overwrite)
    print(f"exported version {args.version}: {path}")
    return 0


def _inspect(args: argparse.Namespace) -> int:
    print(format_description(inspect(args.path, args.tag_set), args.tag_set))
    return 0
