"""Text generation speed with and without the key/value cache.

Generates 256 new tokens (greedy) after a 32-token prompt with a GPT of the
shipped model's shape (4 blocks, 6 heads, 192 wide, vocabulary 350; about
1.9 M parameters) and prints tokens per second:

  * with the cache: one XLA-compiled single-token step per new token
    (:func:`keras_gen.decoding.generate_ids`, the pipeline's default);
  * with the cache, without XLA (a plain ``tf.function`` graph);
  * without a cache: the whole prefix recomputed for every new token;

then the speed-up of the cache over recomputation, and checks that both give
the same tokens. Weights are random: the cost of a step does not depend on
their values. The context is ``prompt + new tokens`` (288 by default), so the
whole run fits in one window; the shipped model's window of 256 would make
the last tokens slide the window, where the cache cannot help (see
:mod:`keras_gen.decoding`). Compilation happens in an untimed warm-up;
rounds are interleaved and the best of each kept, so a busy machine's noise
hits all variants alike.

Usage:
    .venv/bin/python benchmarks/generation.py [--new-tokens 256] [--rounds 3]
    .venv/bin/python benchmarks/generation.py --quick   # checks it runs
"""

from __future__ import annotations

import argparse
import os
import platform
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_gen.decoding import generate_ids  # noqa: E402
from keras_gen.transformer import build_gpt  # noqa: E402

#: The shipped model's shape (tools/train_pretrained.py), vocabulary rounded.
SHAPE = dict(vocab_size=350, embed_dim=192, num_heads=6, num_layers=4)

VARIANTS = {
    "cache, XLA step": dict(use_cache=True, jit=True),
    "cache, graph step": dict(use_cache=True, jit=False),
    "no cache (recompute)": dict(use_cache=False),
}


def tokens_per_second(model, prompt, new_tokens: int, **kwargs) -> float:
    start = time.perf_counter()
    generate_ids(model, prompt, new_tokens, **kwargs)
    return new_tokens / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--new-tokens", type=int, default=256)
    parser.add_argument("--prompt-tokens", type=int, default=32)
    parser.add_argument("--batch", type=int, default=1, help="sequences at once")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="16 tokens, 1 round")
    args = parser.parse_args()
    new_tokens = 16 if args.quick else args.new_tokens
    rounds = 1 if args.quick else args.rounds

    keras.utils.set_random_seed(0)
    context = args.prompt_tokens + new_tokens
    model = build_gpt(context_length=context, **SHAPE)
    rng = np.random.default_rng(0)
    prompt = rng.integers(0, SHAPE["vocab_size"], (args.batch, args.prompt_tokens))
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores; "
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}"
    )
    print(
        f"GPT {model.count_params():,} parameters, context {context}; batch "
        f"{args.batch}, prompt {args.prompt_tokens} tokens, {new_tokens} new "
        f"tokens (greedy), best of {rounds} rounds"
    )
    outputs = {}
    for name, kwargs in VARIANTS.items():  # warm-up: compile, not timed
        outputs[name] = generate_ids(model, prompt, new_tokens, **kwargs)
    same = all(
        (out == outputs["no cache (recompute)"]).all() for out in outputs.values()
    )
    rates = dict.fromkeys(VARIANTS, 0.0)
    for _ in range(rounds):
        for name, kwargs in VARIANTS.items():
            rate = tokens_per_second(model, prompt, new_tokens, **kwargs)
            rates[name] = max(rates[name], rate * args.batch)
    for name, rate in rates.items():
        print(f"{name:22}: {rate:8.1f} tokens/s")
    baseline = rates["no cache (recompute)"]
    for name in ("cache, XLA step", "cache, graph step"):
        print(f"speed-up of {name!r} over recomputation: {rates[name] / baseline:.1f}x")
    print(f"all variants generate the same tokens: {same}")


if __name__ == "__main__":
    main()
