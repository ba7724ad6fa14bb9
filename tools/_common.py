"""What the training tools share: their arguments, the early ``--out`` check
and the card's ``command`` entry.

Every ``tools/train_*.py`` takes ``--steps``, ``--seed``, ``--out`` and
``--quick`` (a tiny run that checks the script only), and most take
``--eval-every``. :func:`training_parser` declares them once and
:func:`parse_training_args` checks them *before any work*: a bad ``--out``
(a file, a link, a folder holding other files, or a place that cannot be
written) fails in the first second, not after 45 minutes of training.
:func:`card_command` writes the command that rebuilds a model for its card,
without ``--out`` (where a copy was written does not change the model).

The scripts import this module as ``_common`` (Python puts ``tools/`` first
on the path when it runs ``python tools/train_*.py``); tests put ``tools/``
on ``sys.path`` first.
"""

from __future__ import annotations

import argparse
import os
import sys

from keras_gen._files import check_writable_folder


def training_parser(
    description: str,
    *,
    steps: int,
    out: str,
    quick_steps: int,
    quick_help: str | None = None,
    eval_every: int | None = None,
    seed: int = 0,
) -> argparse.ArgumentParser:
    """An ``ArgumentParser`` with the arguments every training tool takes.

    Args:
        description: The tool's one-line description (``--help``).
        steps: Default ``--steps``.
        out: Default ``--out`` (the shipped model's folder).
        quick_steps: The steps of a ``--quick`` run.
        quick_help: ``--quick``'s help; default "N steps: checks the script
            only".
        eval_every: Default ``--eval-every``; ``None``: no such argument.
        seed: Default ``--seed``.

    Returns:
        The parser; add the tool's own arguments, then call
        :func:`parse_training_args`.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--steps", type=int, default=steps)
    parser.add_argument("--seed", type=int, default=seed)
    parser.add_argument("--out", default=out)
    parser.add_argument(
        "--quick",
        action="store_true",
        help=quick_help or f"{quick_steps} steps: checks the script only",
    )
    if eval_every is not None:
        parser.add_argument(
            "--eval-every",
            type=int,
            default=eval_every,
            help="steps between evaluations and backups (default: %(default)s); "
            "the last chunk is shorter when it does not divide --steps",
        )
    parser.set_defaults(quick_steps=quick_steps)
    return parser


def out_problem(out: str, allowed_files) -> str | None:
    """Why ``out`` cannot receive a model folder, or ``None`` if it can.

    A model folder is replaced as a whole, so ``out`` must be missing, an
    empty folder or a folder holding only ``allowed_files`` (an older copy
    of the same kind of model), in a folder that can be written.
    """
    out = os.path.abspath(out)
    if os.path.lexists(out):
        if not os.path.isdir(out) or os.path.islink(out):
            return (
                f"Expected --out to be a new folder or a model folder. Received: "
                f"--out={out!r}, which is a file or a link. Choose another path."
            )
        others = sorted(set(os.listdir(out)) - set(allowed_files))
        if others:
            shown = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
            return (
                "Expected --out to be a new or empty folder, or a model folder "
                f"(only {', '.join(sorted(allowed_files))}), since it is replaced "
                f"as a whole. Received: --out={out!r}, which also holds "
                f"{len(others)} other entries ({shown}). Choose a new folder."
            )
    try:
        check_writable_folder(os.path.dirname(out), "the folder of --out")
    except ValueError as error:
        return str(error)
    return None


def parse_training_args(parser, argv=None, *, allowed_files) -> argparse.Namespace:
    """Parse and check the training arguments before any work is done.

    ``args.steps`` becomes the ``--quick`` steps for a quick run,
    ``args.eval_every`` (if the tool has it) is at most ``args.steps``, and
    ``args.out`` is absolute. Any problem ends the tool at once with
    ``parser.error`` (exit status 2, the message on stderr).

    Args:
        parser: From :func:`training_parser`.
        argv: The arguments; ``None`` for ``sys.argv[1:]``.
        allowed_files: The files of the model folder ``--out`` may replace.

    Returns:
        The parsed arguments.
    """
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error(f"Expected --steps >= 1. Received: --steps={args.steps}")
    if args.quick:
        args.steps = args.quick_steps
    if getattr(args, "eval_every", None) is not None:
        if args.eval_every < 1:
            parser.error(
                f"Expected --eval-every >= 1. Received: --eval-every={args.eval_every}"
            )
        args.eval_every = min(args.eval_every, args.steps)
    problem = out_problem(args.out, allowed_files)
    if problem:
        parser.error(problem)
    args.out = os.path.abspath(args.out)
    return args


def without_out(argv) -> list[str]:
    """The command-line arguments minus ``--out`` and its value.

    Example:
        >>> without_out(["--steps", "20", "--out", "/tmp/x", "--out=/y", "--quick"])
        ['--steps', '20', '--quick']
    """
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--out":
            skip = True
        elif not arg.startswith("--out="):
            kept.append(arg)
    return kept


def card_command(script: str, argv=None, make: str | None = None) -> str:
    """The card's ``command``: what rebuilds the model, ``--out`` left out.

    Args:
        script: The tool, e.g. ``"tools/train_pretrained.py"``.
        argv: Its arguments; ``None`` for ``sys.argv[1:]``.
        make: The ``make`` target that runs it, if any.

    Example:
        >>> card_command("tools/train_pretrained.py", ["--steps", "20"],
        ...              make="make pretrained")
        'make pretrained  # = python tools/train_pretrained.py --steps 20'
    """
    argv = sys.argv[1:] if argv is None else argv
    command = " ".join(["python", script, *without_out(argv)])
    return f"{make}  # = {command}" if make else command
