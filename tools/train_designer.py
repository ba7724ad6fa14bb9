"""Train the class-conditional "designer" that ships with keras-gen.

``make pretrained`` runs this script (``data/pretrained/fashion-designer``).
It trains a conditional GAN or a conditional VAE from
:mod:`keras_gen.conditional` on the 60,000 Fashion-MNIST training images, a
fixed number of steps of 128 images with a fixed seed, measures prompt
adherence on 200 images per class every ``--eval-every`` steps (noise at
temperature 1), and at the end the truncation trade-off: adherence and
Fréchet distance of 1,000 images per class (seed 1) at each noise temperature
in :data:`TEMPERATURES`. The card records the command, that sweep, the
sampling temperature the designer is used at (:data:`SAMPLING_TEMPERATURE`)
and the full table of :func:`keras_gen.adherence.design_report` at it.
``tests/test_conditional.py`` re-measures the shipped model's adherence.

Why sample at 0.8: the shipped cVAE scored 89.3% adherence at temperature 1,
under the 90% target. Scaling the noise down keeps draws where the decoder saw
the most data; the sweep in the card shows what that costs in the Fréchet
distance (variety and realism), and 0.8 is the warmest temperature whose
adherence cleared 90% with a margin of about two points.

Usage:
    PYTHONPATH=. .venv/bin/python tools/train_designer.py [--kind cvae]
        [--steps 12000] [--eval-every 2000] [--seed 0]
        [--out data/pretrained/fashion-designer] [--quick]

``--out`` is checked before any work (``tools/_common.py``), and exactly
``--steps`` steps are trained (the last chunk between two measurements is
shorter when ``--eval-every`` does not divide ``--steps``).
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from _common import card_command, parse_training_args, training_parser  # noqa: E402

from keras_gen import conditional, data, model_folder  # noqa: E402
from keras_gen.adherence import design_report, prompt_adherence  # noqa: E402
from keras_gen.env import build_record, folder_megabytes  # noqa: E402
from keras_gen.training import fit_steps  # noqa: E402

BATCH_SIZE = 128
#: Images per class in the final report (all of a class's test images).
REPORT_PER_CLASS = 1000
REPORT_SEED = 1
#: Noise temperatures of the truncation sweep in the card.
TEMPERATURES = (1.0, 0.9, 0.8, 0.7, 0.5)
#: The noise temperature the designer is used at (``card["temperature"]``).
SAMPLING_TEMPERATURE = 0.8


def main(argv=None) -> int:
    """Train, measure, save; print the curve and the final table."""
    parser = training_parser(
        __doc__.splitlines()[0],
        steps=12000,
        out=conditional.DEFAULT_DESIGNER_DIR,
        quick_steps=20,
        eval_every=2000,
    )
    parser.add_argument("--kind", choices=("cvae", "cgan"), default="cvae")
    # Before any work: a bad --out fails now, not after 45 minutes of training.
    args = parse_training_args(
        parser, argv, allowed_files=(model_folder.MODEL_FILE, model_folder.CARD_FILE)
    )
    steps, eval_every = args.steps, args.eval_every
    images, labels = data.load_images("fashion_mnist", "train")
    dataset = conditional.labelled_dataset(images, labels, BATCH_SIZE, seed=args.seed)
    keras.utils.set_random_seed(args.seed)
    build = {
        "cvae": conditional.build_conditional_vae,
        "cgan": conditional.build_conditional_gan,
    }[args.kind]
    model = build(seed=args.seed)
    print(
        f"Training a {args.kind} ({model.count_params():,} parameters), {steps} steps."
    )
    curve, start = [], time.perf_counter()
    probe = np.repeat(np.arange(10), 200)

    def measure(chunk, logs):
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
        callbacks=[keras.callbacks.LambdaCallback(on_epoch_end=measure)],
    )
    minutes = (time.perf_counter() - start) / 60
    requested = np.repeat(np.arange(10), REPORT_PER_CLASS)
    reports = {
        t: design_report(
            conditional.generate(
                model, range(10), n=REPORT_PER_CLASS, seed=REPORT_SEED, temperature=t
            ),
            requested,
        )
        for t in TEMPERATURES
    }
    print("temperature  adherence  Fréchet")
    for t, r in reports.items():
        print(f"{t:11.1f}  {r.overall['adherence']:9.1%}  {r.overall['frechet']:7.2f}")
    report = reports[SAMPLING_TEMPERATURE]
    print(f"At temperature {SAMPLING_TEMPERATURE}:\n{report}")
    card = {
        "name": "fashion-designer",
        "kind": args.kind,
        "description": (
            f"Class-conditional {args.kind} trained by keras-gen on the "
            "Fashion-MNIST training split (keras_gen.conditional)."
        ),
        # --out does not change the model, so the command leaves it out.
        "command": card_command("tools/train_designer.py", argv, "make pretrained"),
        "steps": steps,
        "batch_size": BATCH_SIZE,
        "seed": args.seed,
        "parameters": model.count_params(),
        "latent_dim": model.latent_dim,
        "curve": [{k: round(v, 4) for k, v in row.items()} for row in curve],
        "report_per_class": REPORT_PER_CLASS,
        "report_seed": REPORT_SEED,
        "truncation": [
            {
                "temperature": t,
                **{k: round(float(r.overall[k]), 4) for k in ("adherence", "frechet")},
            }
            for t, r in reports.items()
        ],
        "temperature": SAMPLING_TEMPERATURE,
        "report": [
            {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}
            for row in report.rows()
        ],
        "train_minutes": round(minutes, 1),
        **build_record(),
    }
    conditional.save_designer(args.out, model, card)
    megabytes = folder_megabytes(args.out)
    print(
        f"Adherence {report.overall['adherence']:.1%} at temperature "
        f"{SAMPLING_TEMPERATURE} after {steps} steps in "
        f"{minutes:.1f} min. Wrote {args.out} ({megabytes:.1f} MB)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
