"""Where the time of one GPT training step goes, op by op (TensorFlow + XLA).

``gpt_pretrain.py`` says how fast a step is; this script says why. It trains
the reference "baby GPT" with ``fit()`` (the same compiled step as the
benchmark) under TensorFlow's profiler, with XLA's per-op trace switched on
(``--xla_cpu_enable_xprof_traceme``), and groups the compiled program's ops:

* matrix multiplies (XLA ``dot``: the dense layers, attention, the tied
  output layer, and their gradients); their GFLOP/s uses the model FLOPs of
  ``gpt_pretrain.py`` (6 N + 12 L T E per token), which are all matmul work;
* reductions (sums for bias gradients, LayerNorm, softmax, the gradient norm);
* element-wise fusions (GELU, softmax, LayerNorm, residual adds, AdamW);
* copies and transposes (moving heads in and out of attention), and the rest.

Op times are wall-clock spans per op. With two cores XLA sometimes runs two
independent ops at once, so a span can include waiting for a core; the shares
are a guide to where the time goes, not exact accounts.

Usage (run it as a script: it imports the model set-up from its sibling
``gpt_pretrain.py``, so the profiled step is the benchmarked one):
    .venv/bin/python benchmarks/profile_gpt_step.py
        [--batch 12] [--context 64] [--steps 40]
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import glob
import os
import re
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Must be set before TensorFlow starts: XLA then records each op it runs.
os.environ["XLA_FLAGS"] = (
    os.environ.get("XLA_FLAGS", "") + " --xla_cpu_enable_xprof_traceme=true"
).strip()

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from gpt_pretrain import REFERENCE, build  # noqa: E402
from tensorflow.tsl.profiler.protobuf import xplane_pb2  # noqa: E402

from keras_gen.profiling import gpt_flops_per_token  # noqa: E402
from keras_gen.text import (  # noqa: E402
    load_corpus,
    make_next_token_dataset,
    split_corpus,
)
from keras_gen.tokenizers import CharTokenizer  # noqa: E402

CATEGORIES = (
    ("matrix multiplies", re.compile(r"^(MatMul|dot|BatchMatMul|Einsum)")),
    ("reductions", re.compile(r"reduce")),
    ("copies, transposes", re.compile(r"^(copy|transpose|concat|slice|pad)")),
    ("element-wise fusions", re.compile(r"fusion$")),
)


def category(op_name: str) -> str:
    """Group an XLA op name such as ``wrapped_reduce-window.74``."""
    name = re.sub(r"\.\d+$", "", op_name).removeprefix("wrapped_")
    for label, pattern in CATEGORIES:
        if pattern.search(name):
            return label
    return "other"


def op_times(logdir: str) -> dict[str, tuple[float, int]]:
    """Seconds and op count per category, from the profiler's XSpace file."""
    paths = glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True)
    space = xplane_pb2.XSpace()
    with open(max(paths, key=os.path.getmtime), "rb") as file:
        space.ParseFromString(file.read())
    seconds, counts = collections.Counter(), collections.Counter()
    for plane in space.planes:
        hlo_stat = {k for k, v in plane.stat_metadata.items() if v.name == "hlo_op"}
        for line in plane.lines:
            for event in line.events:
                if not any(stat.metadata_id in hlo_stat for stat in event.stats):
                    continue  # not an XLA op (Python, tf.data, the executor)
                label = category(plane.event_metadata[event.metadata_id].name)
                seconds[label] += event.duration_ps * 1e-12
                counts[label] += 1
    return {label: (seconds[label], counts[label]) for label in seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=REFERENCE.batch_size)
    parser.add_argument("--context", type=int, default=REFERENCE.context_length)
    parser.add_argument("--steps", type=int, default=40)
    args = parser.parse_args()
    cfg = dataclasses.replace(
        REFERENCE,
        name=f"reference {args.batch}x{args.context}",
        batch_size=args.batch,
        model=dataclasses.replace(REFERENCE.model, context_length=args.context),
    )
    text = load_corpus()
    tokenizer = CharTokenizer.train(text, byte_fallback=False)
    train_ids, _ = split_corpus(tokenizer.encode(text), 0.1)
    model = build(cfg, tokenizer.vocab_size, total_steps=10_000)
    data = make_next_token_dataset(
        train_ids, cfg.context_length, cfg.batch_size, repeat=True
    )
    model.fit(data, steps_per_epoch=5, epochs=1, verbose=0)  # compile first

    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        start = time.perf_counter()
        model.fit(data, steps_per_epoch=args.steps, epochs=1, verbose=0)
        wall = (time.perf_counter() - start) / args.steps
        tf.profiler.experimental.stop()
        times = op_times(logdir)

    tokens = cfg.batch_size * cfg.context_length
    model_gflop = gpt_flops_per_token(model) * tokens / 1e9
    total = sum(seconds for seconds, _ in times.values()) / args.steps
    print(
        f"{cfg.name}: {tokens} tokens/step, {model_gflop:.2f} GFLOP/step; "
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}"
    )
    print(
        f"wall clock {wall * 1e3:.1f} ms/step ({tokens / wall:,.0f} tokens/s, "
        f"profiler on); XLA ops {total * 1e3:.1f} ms/step"
    )
    print(f"{'':22s} {'ms/step':>8s} {'share':>6s} {'ops/step':>9s}")
    for label, (seconds, count) in sorted(times.items(), key=lambda kv: -kv[1][0]):
        per_step = seconds / args.steps
        extra = ""
        if label == "matrix multiplies":
            extra = f"  {model_gflop / per_step:6.1f} GFLOP/s"
        print(
            f"{label:22s} {per_step * 1e3:8.2f} {per_step / total:6.0%} "
            f"{count / args.steps:9.0f}{extra}"
        )


if __name__ == "__main__":
    main()
