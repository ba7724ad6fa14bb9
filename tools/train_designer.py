"""Train the class-conditional "designer" that ships with keras-gen.

``make pretrained`` runs this script (``data/pretrained/fashion-designer``).
It trains a conditional GAN or a conditional VAE from
:mod:`keras_gen.conditional` on the 60,000 Fashion-MNIST training images, a
fixed number of steps of 128 images with a fixed seed, measures prompt
adherence on 200 images per class every ``--eval-every`` steps (noise at
temperature 1, first judge), and at the end the truncation trade-off:
adherence on both judges of :mod:`keras_gen.classifier` and the Fréchet
distance (first judge) of 1,000 images per class (seed 1) at each noise
temperature in :data:`TEMPERATURES`. The card records the command, that
sweep, the sampling temperature the designer is used at (``--temperature``),
the full table of :func:`keras_gen.adherence.design_report` at it, and both
judges' accuracy on the real test images. ``tests/test_conditional.py``
re-measures the shipped model's adherence on both judges.

The shipped designer is still the cVAE (``--kind cvae``), sampled at noise
temperature 0.8, the warmest at which it cleared 90% on the first judge (89.3%
at temperature 1). It does not clear it on the second judge (about 86%,
sandals about 22%; issue 22). Its candidate replacement is the cGAN whose
discriminator also *projects* the class (``--kind cgan --discriminator
projection``, :func:`keras_gen.conditional.build_projection_discriminator`):
after 12,000 steps it drew 85.8% of its images in the class asked (first
judge, temperature 1; the plain cGAN 82.9%) at half the demo GAN's Fréchet
distance (12.4 against 23.4), but at temperature 0.6 the second judge accepts
only 86.2% (pullovers 11.6%), so it does not replace the cVAE yet.

``--remeasure FOLDER`` measures a saved designer again (with this script's
measurement and the current judges) and rewrites its card, keeping what the
training recorded (curve, minutes); ``--temperature`` there changes the
temperature the designer is used at, and the card's command follows.

Usage:
    PYTHONPATH=. .venv/bin/python tools/train_designer.py [--kind cgan]
        [--discriminator projection] [--steps 12000] [--eval-every 2000]
        [--seed 0] [--temperature 0.8] [--out data/pretrained/fashion-designer]
        [--quick]
    PYTHONPATH=. .venv/bin/python tools/train_designer.py --remeasure FOLDER
        [--temperature 0.7]

``--out`` and ``--temperature`` are checked before any work
(``tools/_common.py``), and exactly ``--steps`` steps are trained (the last
chunk between two measurements is shorter when ``--eval-every`` does not
divide ``--steps``).
"""

from __future__ import annotations

import os
import re
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from _common import card_command, parse_training_args, training_parser  # noqa: E402

from keras_gen import classifier, conditional, data, model_folder  # noqa: E402
from keras_gen.adherence import design_report, prompt_adherence  # noqa: E402
from keras_gen.env import build_record, folder_megabytes  # noqa: E402
from keras_gen.training import fit_steps  # noqa: E402

BATCH_SIZE = 128
#: Images per class in the final report (all of a class's test images).
REPORT_PER_CLASS = 1000
REPORT_SEED = 1
#: Noise temperatures of the truncation sweep in the card.
TEMPERATURES = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5)
#: The default noise temperature the designer is used at (``card["temperature"]``).
SAMPLING_TEMPERATURE = 0.8


def _parser():
    parser = training_parser(
        __doc__.splitlines()[0],
        steps=12000,
        out=conditional.DEFAULT_DESIGNER_DIR,
        quick_steps=20,
        eval_every=2000,
    )
    parser.add_argument("--kind", choices=("cvae", "cgan"), default="cvae")
    parser.add_argument(
        "--discriminator",
        choices=("concat", "projection"),
        default="concat",
        help="cgan only: the class concatenated to the image, or also projected",
    )
    parser.add_argument(
        "--temperature",
        type=float,
        default=None,
        help=f"the noise temperature the designer is used at (default "
        f"{SAMPLING_TEMPERATURE}; with --remeasure, the card's)",
    )
    parser.add_argument("--remeasure", metavar="FOLDER", help="measure, do not train")
    return parser


def train(kind, discriminator, steps, eval_every, seed):
    """Train as the card says; returns ``(model, curve, minutes)``."""
    images, labels = data.load_images("fashion_mnist", "train")
    dataset = conditional.labelled_dataset(images, labels, BATCH_SIZE, seed=seed)
    keras.utils.set_random_seed(seed)
    if kind == "cgan":
        model = conditional.build_conditional_gan(
            seed=seed, projection=discriminator == "projection"
        )
    else:
        model = conditional.build_conditional_vae(seed=seed)
    print(f"Training a {kind} ({model.count_params():,} parameters), {steps} steps.")
    curve, start = [], time.perf_counter()
    probe = np.repeat(np.arange(10), 200)

    def measure_chunk(chunk, logs):
        step = min((chunk + 1) * eval_every, steps)  # the last chunk may be short
        adherence = prompt_adherence(
            conditional.generate(model, range(10), n=200, seed=REPORT_SEED), probe
        )["overall"]
        logs = {k: round(float(v), 4) for k, v in (logs or {}).items()}
        curve.append({"step": step, "adherence": adherence, **logs})
        print(
            f"step {step:6d}  {time.perf_counter() - start:6.0f} s"
            f"  adherence {adherence:.3f}  {logs}",
            flush=True,
        )

    fit_steps(  # exactly `steps` steps, measured every `eval_every`
        model,
        dataset,
        steps,
        eval_every,
        callbacks=[keras.callbacks.LambdaCallback(on_epoch_end=measure_chunk)],
    )
    return model, curve, (time.perf_counter() - start) / 60


def measure(model, temperature: float) -> dict:
    """The card's measured part: the truncation sweep and the report at use."""
    requested = np.repeat(np.arange(10), REPORT_PER_CLASS)
    reports = {
        t: design_report(
            conditional.generate(
                model, range(10), n=REPORT_PER_CLASS, seed=REPORT_SEED, temperature=t
            ),
            requested,
        )
        for t in sorted({*TEMPERATURES, temperature}, reverse=True)
    }
    print("temperature  adherence  2nd judge  Fréchet")
    for t, r in reports.items():
        o = r.overall
        print(
            f"{t:11.1f}  {o['adherence']:9.1%}  {o['adherence_second']:9.1%}  "
            f"{o['frechet']:7.2f}"
        )
    report = reports[temperature]
    print(f"At temperature {temperature}:\n{report}")
    keys = ("adherence", "adherence_second", "frechet")
    return {
        "report_per_class": REPORT_PER_CLASS,
        "report_seed": REPORT_SEED,
        "judges_test_accuracy": {
            judge: round(classifier.judge_accuracy(judge=judge), 4)
            for judge in classifier.JUDGES
        },
        "truncation": [
            {"temperature": t, **{k: round(float(r.overall[k]), 4) for k in keys}}
            for t, r in reports.items()
        ],
        "temperature": temperature,
        "report": [
            {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}
            for row in report.rows()
        ],
    }


def remeasure(folder: str, temperature: float | None) -> dict:
    """Measure a saved designer again and rewrite its card (keeps training facts)."""
    model, card = conditional.load_designer(folder)
    temperature = card["temperature"] if temperature is None else temperature
    card = {k: v for k, v in card.items() if k not in ("sha256", "machine", "versions")}
    if card["kind"] == "cgan":  # cards older than the projection lack it
        projected = model.discriminator.name == "projection_discriminator"
        card["discriminator"] = "projection" if projected else "concat"
    card.update(measure(model, temperature))
    card["command"] = with_temperature(card["command"], temperature)
    conditional.save_designer(folder, model, {**card, **build_record()})
    return card


def with_temperature(command: str, temperature: float) -> str:
    """``command`` naming ``--temperature`` once, as ``temperature``.

    Example:
        >>> with_temperature("python t.py --temperature=0.7 --quick", 0.6)
        'python t.py --quick --temperature 0.6'
    """
    command = re.sub(r" --temperature[ =]\S+", "", command)
    return f"{command} --temperature {temperature}"


def main(argv=None) -> int:
    """Train (or load), measure, save; print the curve and the final table."""
    parser = _parser()
    # Before any work: a bad --out fails now, not after 45 minutes of training.
    args = parse_training_args(
        parser, argv, allowed_files=(model_folder.MODEL_FILE, model_folder.CARD_FILE)
    )
    if args.temperature is not None and not 0 < args.temperature <= 2:
        parser.error(
            "Expected 0 < --temperature <= 2. "
            f"Received: --temperature={args.temperature}"
        )
    if args.remeasure:
        card = remeasure(args.remeasure, args.temperature)
        print(f"Rewrote the card of {args.remeasure}: {card['command']}")
        return 0
    temperature = SAMPLING_TEMPERATURE if args.temperature is None else args.temperature
    steps, eval_every = args.steps, args.eval_every
    model, curve, minutes = train(
        args.kind, args.discriminator, steps, eval_every, args.seed
    )
    measured = measure(model, temperature)
    card = {
        "name": "fashion-designer",
        "kind": args.kind,
        **({"discriminator": args.discriminator} if args.kind == "cgan" else {}),
        "description": (
            f"Class-conditional {args.kind} trained by keras-gen on the "
            "Fashion-MNIST training split (keras_gen.conditional)."
        ),
        # --out does not change the model, so the command leaves it out; it
        # names the temperature the designer is used at even when defaulted.
        "command": with_temperature(
            card_command("tools/train_designer.py", argv, "make pretrained"),
            temperature,
        ),
        "steps": steps,
        "batch_size": BATCH_SIZE,
        "seed": args.seed,
        "parameters": model.count_params(),
        "latent_dim": model.latent_dim,
        "curve": [{k: round(v, 4) for k, v in row.items()} for row in curve],
        **measured,
        "train_minutes": round(minutes, 1),
        **build_record(),
    }
    conditional.save_designer(args.out, model, card)
    megabytes = folder_megabytes(args.out)
    overall = measured["report"][-1]
    print(
        f"Adherence {overall['adherence']:.1%} (second judge "
        f"{overall['adherence_second']:.1%}) at temperature {temperature} after "
        f"{steps} steps in {minutes:.1f} min. Wrote {args.out} ({megabytes:.1f} MB)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
