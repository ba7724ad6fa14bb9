"""The same baby GPT written in plain PyTorch, timed on this machine.

``benchmarks/gpt_pretrain.py`` compares the Keras model with a PyTorch
implementation "on the same machine". A figure measured on another machine
cannot be compared honestly (these shared VMs vary by 20-30%), so this script
trains the same architecture with the same recipe in PyTorch and prints its
steady-state tokens/s. ``gpt_pretrain.py`` runs it between its own timing
rounds, with any Python that has ``torch`` installed:

    .venv/bin/python benchmarks/gpt_pretrain.py --torch-python /path/to/python

It is written the way a PyTorch user would write it (nanoGPT's ``model.py``
shrunk to the parts the Keras model has): ``nn.Linear`` with biases,
pre-LayerNorm blocks, ``F.scaled_dot_product_attention(is_causal=True)``,
tanh-approximate GELU, tied embeddings, nanoGPT's weight initialisation,
AdamW (beta2 0.99, weight decay 0.1 on matrices only), gradient clipping at
1.0, eager mode. The data are
windows of CPython's help text, like the Keras run; speed does not depend on
them. It needs only ``torch`` and the standard library, so keras_gen does not
depend on PyTorch.

For time to quality (``benchmarks/gpt_time_to_quality.py``), ``--to-quality``
trains nanoGPT's CPU recipe for the baby GPT on the exact token ids the Keras
run uses (passed as a file, so both see the same split): 2000 steps, AdamW at
1e-3 with 100 warm-up steps and cosine decay to 1e-4 (nanoGPT's ``get_lr``),
dropout 0. Every ``--eval-every`` steps it measures the validation loss on
the same non-overlapping windows the Keras run uses; the clock is paused
while it does.

Usage:
    python benchmarks/torch_reference.py --config 12x64 --steps 100
    # prints one JSON line: {"config": "12x64", "tokens_per_second": ...}
    python benchmarks/torch_reference.py --to-quality ids.bin --steps 2000
    # prints one JSON line: {"curve": [[step, seconds, val_loss], ...], ...}
"""

from __future__ import annotations

import argparse
import array
import json
import math
import time

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812 (PyTorch's usual name)

EMBED_DIM, NUM_HEADS, NUM_LAYERS = 128, 4, 4


class Block(nn.Module):
    """Pre-LayerNorm block: x + attn(LN(x)), then x + mlp(LN(x))."""

    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(EMBED_DIM)
        self.qkv = nn.Linear(EMBED_DIM, 3 * EMBED_DIM)
        self.out = nn.Linear(EMBED_DIM, EMBED_DIM)
        self.ln2 = nn.LayerNorm(EMBED_DIM)
        self.fc = nn.Linear(EMBED_DIM, 4 * EMBED_DIM)
        self.proj = nn.Linear(4 * EMBED_DIM, EMBED_DIM)

    def forward(self, x):
        batch, seq_len, _ = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(EMBED_DIM, dim=2)
        # (batch, heads, seq_len, head_dim)
        q, k, v = (
            t.view(batch, seq_len, NUM_HEADS, -1).transpose(1, 2) for t in (q, k, v)
        )
        context = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        context = context.transpose(1, 2).reshape(batch, seq_len, EMBED_DIM)
        x = x + self.out(context)
        return x + self.proj(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class GPT(nn.Module):
    """Token + position embedding, blocks, final LayerNorm, tied output."""

    def __init__(self, vocab_size, context_length):
        super().__init__()
        self.token = nn.Embedding(vocab_size, EMBED_DIM)
        self.position = nn.Embedding(context_length, EMBED_DIM)
        self.blocks = nn.ModuleList(Block() for _ in range(NUM_LAYERS))
        self.final_norm = nn.LayerNorm(EMBED_DIM)
        # nanoGPT's initialisation (GPT-2's): N(0, 0.02) weights, zero biases,
        # and the two projections back into the residual stream scaled down by
        # sqrt(2 * layers). PyTorch's defaults (N(0, 1) embeddings, which are
        # also the tied output layer here) start far worse and would make the
        # reference slow to learn for a reason that has nothing to do with
        # the framework.
        self.apply(self._init_weights)
        for name, parameter in self.named_parameters():
            if name.endswith(("out.weight", "proj.weight")):
                nn.init.normal_(parameter, std=0.02 / math.sqrt(2 * NUM_LAYERS))

    @staticmethod
    def _init_weights(module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, ids, targets):
        positions = torch.arange(ids.shape[1])
        x = self.token(ids) + self.position(positions)  # (batch, seq_len, embed)
        for block in self.blocks:
            x = block(x)
        logits = self.final_norm(x) @ self.token.weight.T  # (batch, seq, vocab)
        return F.cross_entropy(logits.flatten(0, 1), targets.flatten())


def corpus_ids():
    """CPython's help text as character ids (the Keras run's default corpus)."""
    from pydoc_data.topics import topics

    text = "".join(topics.values())
    vocab = sorted(set(text))
    index = {ch: i for i, ch in enumerate(vocab)}
    return torch.tensor([index[ch] for ch in text]), len(vocab)


def adamw(model):
    """AdamW, beta2 0.99, weight decay 0.1 on matrices only (nanoGPT's)."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    return torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": 0.1},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=1e-3,
        betas=(0.9, 0.99),
    )


def tokens_per_second(batch_size, context_length, steps, seed=0):
    """Steady-state training tokens/s (after 5 warm-up steps)."""
    torch.manual_seed(seed)
    ids, vocab_size = corpus_ids()
    model = GPT(vocab_size, context_length)
    optimizer = adamw(model)

    offsets = torch.arange(context_length + 1)

    def batch():
        starts = torch.randint(len(ids) - context_length - 1, (batch_size, 1))
        windows = ids[starts + offsets]  # (batch, context + 1), one gather
        return windows[:, :-1], windows[:, 1:]

    def step():
        inputs, targets = batch()
        loss = model(inputs, targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

    for _ in range(5):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * batch_size * context_length / (time.perf_counter() - start)


def read_ids(path):
    """``(train, validation, vocab_size)`` from the file the Keras run wrote.

    The file is three int32 arrays in native byte order: a header
    ``[vocab_size, len(train), len(validation)]``, then the two id sequences.
    """
    values = array.array("i")
    with open(path, "rb") as file:
        values.frombytes(file.read())
    vocab_size, n_train, n_val = values[:3]
    ids = torch.tensor(values[3:], dtype=torch.long)
    return ids[:n_train], ids[n_train : n_train + n_val], vocab_size


def nanogpt_lr(step, steps, peak=1e-3, minimum=1e-4, warmup=100):
    """nanoGPT's ``get_lr``: linear warm-up, then cosine decay to ``minimum``."""
    if step < warmup:
        return peak * (step + 1) / (warmup + 1)
    progress = min(1.0, (step - warmup) / max(1, steps - warmup))
    return minimum + 0.5 * (1.0 + math.cos(math.pi * progress)) * (peak - minimum)


@torch.no_grad()
def validation_loss(model, val_ids, context_length, batch_size=32, max_batches=100):
    """Mean loss over non-overlapping windows, full batches only (as Keras)."""
    model.eval()
    num_windows = (len(val_ids) - context_length - 1) // context_length + 1
    num_batches = min(num_windows // batch_size, max_batches)
    offsets = torch.arange(context_length + 1)
    losses = []
    for b in range(num_batches):
        starts = torch.arange(b * batch_size, (b + 1) * batch_size) * context_length
        windows = val_ids[starts[:, None] + offsets]  # (batch, context + 1)
        losses.append(model(windows[:, :-1], windows[:, 1:]).item())
    model.train()
    return sum(losses) / len(losses)


def train_to_quality(path, batch_size, context_length, steps, eval_every, seed=0):
    """Train the reference recipe; the validation curve against training time."""
    torch.manual_seed(seed)
    train_ids, val_ids, vocab_size = read_ids(path)
    model = GPT(vocab_size, context_length)
    optimizer = adamw(model)
    offsets = torch.arange(context_length + 1)
    curve, seconds = [], 0.0
    for step in range(steps):
        start = time.perf_counter()
        for group in optimizer.param_groups:
            group["lr"] = nanogpt_lr(step, steps)
        starts = torch.randint(len(train_ids) - context_length - 1, (batch_size, 1))
        windows = train_ids[starts + offsets]  # (batch, context + 1)
        loss = model(windows[:, :-1], windows[:, 1:])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        seconds += time.perf_counter() - start
        if (step + 1) % eval_every == 0 or step + 1 == steps:
            loss = validation_loss(model, val_ids, context_length)
            curve.append([step + 1, round(seconds, 3), round(loss, 5)])
    return curve


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="12x64", help="BATCHxCONTEXT")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument(
        "--to-quality", metavar="IDS_FILE", help="train to quality on these ids"
    )
    parser.add_argument("--eval-every", type=int, default=100)
    args = parser.parse_args()
    batch_size, context_length = (int(n) for n in args.config.split("x"))
    if args.to_quality:
        curve = train_to_quality(
            args.to_quality, batch_size, context_length, args.steps, args.eval_every
        )
        print(
            json.dumps(
                {
                    "config": args.config,
                    "curve": curve,
                    "torch": torch.__version__,
                    "threads": torch.get_num_threads(),
                }
            )
        )
        return
    rate = tokens_per_second(batch_size, context_length, args.steps)
    print(
        json.dumps(
            {
                "config": args.config,
                "tokens_per_second": rate,
                "torch": torch.__version__,
                "threads": torch.get_num_threads(),
            }
        )
    )


if __name__ == "__main__":
    main()
