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
tanh-approximate GELU, tied embeddings, AdamW (beta2 0.99, weight decay 0.1
on matrices only), gradient clipping at 1.0, eager mode. The data are
windows of CPython's help text, like the Keras run; speed does not depend on
them. It needs only ``torch`` and the standard library, so keras_gen does not
depend on PyTorch.

Usage:
    python benchmarks/torch_reference.py --config 12x64 --steps 100
    # prints one JSON line: {"config": "12x64", "tokens_per_second": ...}
"""

from __future__ import annotations

import argparse
import json
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


def tokens_per_second(batch_size, context_length, steps, seed=0):
    """Steady-state training tokens/s (after 5 warm-up steps)."""
    torch.manual_seed(seed)
    ids, vocab_size = corpus_ids()
    model = GPT(vocab_size, context_length)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": 0.1},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=1e-3,
        betas=(0.9, 0.99),
    )

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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="12x64", help="BATCHxCONTEXT")
    parser.add_argument("--steps", type=int, default=100)
    args = parser.parse_args()
    batch_size, context_length = (int(n) for n in args.config.split("x"))
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
