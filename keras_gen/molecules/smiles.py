"""Molecules as text: MOSES SMILES, a SMILES tokenizer, and a GPT that writes them.

The article says Gen AI "assists in drug discovery by simulating molecular
structures". This module makes that claim small and measurable: a molecule is
written as a SMILES string (``c1ccccc1O`` is phenol), the project's own GPT
(:mod:`keras_gen.transformer`) learns to write SMILES like those of the MOSES
benchmark, and :mod:`keras_gen.molecules.metrics` checks the proposals with
RDKit as MOSES does.

* :func:`load_moses`: the vendored subset of MOSES in ``data/moses/``
  (100,000 training and 5,000 test molecules, canonical SMILES, drawn with
  seed 0 by ``tools/vendor_moses.py``), checked against pinned SHA-256s.
* :class:`SmilesTokenizer`: one token per atom or symbol, where multi-letter
  atoms (``Cl``, ``Br``) and bracket atoms (``[nH]``, ``[C@@H]``) are single
  tokens; it round-trips exactly.
* :func:`make_smiles_dataset`: one molecule per training window, as
  ``<bos> tokens <eos> <eos> ...``, through
  :func:`keras_gen.text.make_next_token_dataset`.
* :func:`sample_smiles`: new molecules from a trained GPT through
  :func:`keras_gen.decoding.generate_ids` (the project's one decoding path).
* :func:`load_smiles_gpt` / :func:`save_smiles_gpt`: the model that ships in
  ``data/pretrained/moses-smiles-gpt`` (``tools/train_moses_gpt.py``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence

import numpy as np

from keras_gen import _checks
from keras_gen._files import data_path, read_verified
from keras_gen.tokenizers import Tokenizer, register_tokenizer
from keras_gen.transformer import GPTConfig

#: Where ``tools/vendor_moses.py`` writes the MOSES subset.
MOSES_DIR = data_path("moses")
#: SHA-256 of each file's decompressed text, and its molecule count.
MOSES_FILES = {
    "train": (
        "train.txt.gz",
        "3c44917afa99e2bc63f04b0978e3ecace0e2c994bb7ff527fb0a42b395e44753",
        100_000,
    ),
    "test": (
        "test.txt.gz",
        "281e4360d8ba1b81553c90c2bb646df3388962e08e9defa412245b72a1050536",
        5_000,
    ),
}
#: The shipped SMILES GPT (``make pretrained`` rebuilds it).
SMILES_GPT_DIR = data_path("pretrained", "moses-smiles-gpt")
#: Bytes of each file's decompressed text (:func:`load_moses` reads no more).
MOSES_SIZES = {"train": 3_683_924, "test": 184_768}

#: The shipped SMILES GPT's shape: 4 blocks, 4 heads, 128 wide (the "baby"
#: GPT's width and depth, :meth:`GPTConfig.preset`), 56 tokens of context (the
#: longest MOSES molecule here is 52 tokens, plus ``<bos>`` and ``<eos>``).
SMILES_GPT_SHAPE = GPTConfig.preset("baby", vocab_size=25, context_length=56)

#: SMILES tokens: a bracket atom, a two-letter halogen, then single symbols.
#: The regular expression of Schwaller et al. 2019 ("Molecular Transformer"),
#: used by most SMILES language models; ``Br``/``Cl`` come before ``B``/``C``.
SMILES_TOKEN_PATTERN = re.compile(
    r"(\[[^\]]+]|Br?|Cl?|N|O|S|P|F|I|b|c|n|o|s|p|\(|\)|\.|=|#|-|\+|\\|/|:|~|@|"
    r"\?|>|\*|\$|%[0-9]{2}|[0-9])"
)
BOS = "<bos>"
EOS = "<eos>"


def _rdkit_quiet():
    """RDKit's Chem with its parse warnings off (invalid samples are expected)."""
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    return Chem


def load_moses(split: str = "train", limit: int | None = None, data_dir=None):
    """The vendored MOSES molecules of one split, as canonical SMILES.

    Args:
        split: ``"train"`` (100,000 molecules) or ``"test"`` (5,000, held out:
            MOSES's own test split, never seen in training).
        limit: Return only the first ``limit`` molecules (the files are in a
            seeded random order, so any prefix is a random sample).
        data_dir: Folder of the files; default ``data/moses``.

    Returns:
        A list of SMILES strings.

    Raises:
        FileNotFoundError: The file is missing (rebuild it with
            ``tools/vendor_moses.py``).
        keras_gen._files.FileFormatError: (a ``ValueError``) The file is
            damaged (not gzip, a flipped byte, truncated, too long) or its
            SHA-256 differs from the pinned one.

    Example:
        >>> test = load_moses("test")
        >>> len(test), test[0]
        (5000, 'CC(=O)N(C)Cc1cccc(NC(=O)CNC(=O)CC(C)(C)C)c1')
    """
    _checks.check_choice("split", split, tuple(MOSES_FILES))
    if limit is not None:
        limit = _checks.check_int("limit", limit, minimum=1)
    name, expected, count = MOSES_FILES[split]
    path = os.path.join(MOSES_DIR if data_dir is None else os.fspath(data_dir), name)
    remake = "Run `python tools/vendor_moses.py` (or `git checkout data/moses`)."
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"Expected the MOSES {split} file at {path}. Received: no such file. "
            + remake
        )
    raw = read_verified(path, expected, MOSES_SIZES[split], remake=remake)
    smiles = raw.decode("ascii").split()
    assert len(smiles) == count  # implied by the hash
    return smiles if limit is None else smiles[:limit]


def split_smiles(smiles: str) -> list[str]:
    """Cut one SMILES string into its tokens.

    Raises:
        ValueError: ``smiles`` is not a non-empty string or holds characters
            no token matches (such as a space or a lone ``]``).

    Example:
        >>> split_smiles("Clc1ccc[nH]1")
        ['Cl', 'c', '1', 'c', 'c', 'c', '[nH]', '1']
    """
    if not isinstance(smiles, str) or not smiles:
        raise ValueError(
            "Expected smiles to be a non-empty str. Received: "
            f"smiles={smiles!r} of type {type(smiles).__name__}"
        )
    tokens = SMILES_TOKEN_PATTERN.findall(smiles)
    if "".join(tokens) != smiles:
        position = 0
        for token in tokens:  # the first place where the tokens skip a character
            if not smiles.startswith(token, position):
                break
            position += len(token)
        raise ValueError(
            f"Expected a SMILES string made of atoms, bonds, rings and branches. "
            f"Received: {smiles!r}, which has {smiles[position]!r} at position "
            f"{position} that no SMILES token matches."
        )
    return tokens


class SmilesTokenizer(Tokenizer):
    """SMILES tokens to ids: ``<bos>`` is 0, ``<eos>`` is 1, then the vocabulary.

    Build it from training molecules with :meth:`train`. ``encode`` gives the
    ids of the tokens only (no ``<bos>``/``<eos>``), so
    ``decode(encode(s)) == s`` exactly; :meth:`encode_molecule` adds the start
    and end tokens the model learns to write.

    Args:
        tokens: The vocabulary (distinct SMILES tokens, without the two
            special tokens).

    Example:
        >>> tok = SmilesTokenizer.train(["CCl", "c1ccccc1Br", "C[nH]"])
        >>> tok.encode("ClCBr")
        [5, 4, 3]
        >>> tok.decode(tok.encode_molecule("C[nH]Cl"))
        'C[nH]Cl'
    """

    kind = "smiles"
    spec_keys = ("tokens",)

    def __init__(self, tokens: Sequence[str]):
        tokens = list(tokens) if isinstance(tokens, (list, tuple)) else tokens
        if not isinstance(tokens, list) or not tokens:
            raise ValueError(
                "Expected tokens to be a non-empty list of SMILES tokens. "
                f"Received: tokens of type {type(tokens).__name__}"
            )
        for token in tokens:
            one = isinstance(token, str) and SMILES_TOKEN_PATTERN.fullmatch(token)
            if not one:
                raise ValueError(
                    f"Expected every token to be one SMILES token. Received: {token!r}"
                )
        if len(set(tokens)) != len(tokens):
            raise ValueError("Expected distinct tokens. Received: repeated tokens.")
        self.tokens = [BOS, EOS, *tokens]
        self._index = {t: i for i, t in enumerate(self.tokens)}
        self.bos_id, self.eos_id = 0, 1

    @classmethod
    def train(cls, smiles: Iterable[str]) -> SmilesTokenizer:
        """The distinct tokens of ``smiles``, sorted."""
        seen = set()
        for s in smiles:
            seen.update(split_smiles(s))
        if not seen:
            raise ValueError("Expected at least one SMILES string. Received: none.")
        return cls(sorted(seen))

    @property
    def vocab_size(self) -> int:  # noqa: D102
        return len(self.tokens)

    def encode(self, text: str) -> list[int]:
        """Token ids of one SMILES string, without start and end tokens."""
        ids = []
        for token in split_smiles(text):
            index = self._index.get(token)
            if index is None:
                raise ValueError(
                    f"Expected only SMILES tokens from the tokenizer's vocabulary. "
                    f"Received: {token!r} in {text!r}, which the training "
                    "molecules never used."
                )
            ids.append(index)
        return ids

    def encode_molecule(self, smiles: str) -> list[int]:
        """``[<bos>] + encode(smiles) + [<eos>]``: what the model reads."""
        return [self.bos_id, *self.encode(smiles), self.eos_id]

    def decode(self, ids: Iterable[int]) -> str:
        """The SMILES of ``ids``: a leading ``<bos>`` is skipped, ``<eos>`` ends it."""
        ids = [int(i) for i in np.asarray(list(ids)).reshape(-1)]
        for i in ids:
            if not 0 <= i < self.vocab_size:
                raise ValueError(
                    f"Expected token ids in [0, {self.vocab_size}). Received: {i}"
                )
        if ids and ids[0] == self.bos_id:
            ids = ids[1:]
        out = []
        for i in ids:
            if i == self.eos_id:
                break
            out.append(self.tokens[i] if i != self.bos_id else "")
        return "".join(out)

    def to_dict(self) -> dict:  # noqa: D102
        return {"tokens": self.tokens[2:]}


register_tokenizer(SmilesTokenizer)  # tokenizer_from_dict rebuilds kind 'smiles'


def molecule_windows(
    smiles: Sequence[str], tokenizer: SmilesTokenizer, context_length: int
) -> tuple[np.ndarray, int]:
    """Lay molecules out end to end, one per block of ``context_length + 1`` ids.

    Each block is ``<bos> tokens <eos>`` followed by more ``<eos>`` up to the
    block length, so a window starting at a block holds exactly one molecule
    from its first position, as at sampling time. Molecules too long for a
    block are left out (and counted).

    Returns:
        ``(ids, skipped)``: int32 ``(num_molecules * (context_length + 1),)``
        and the number of molecules left out.

    Example:
        >>> tok = SmilesTokenizer.train(["CO"])
        >>> molecule_windows(["CO", "OC"], tok, 4)[0].tolist()
        [0, 2, 3, 1, 1, 0, 3, 2, 1, 1]
    """
    context_length = _checks.check_int("context_length", context_length, minimum=2)
    block = context_length + 1
    rows, skipped = [], 0
    for s in smiles:
        ids = tokenizer.encode_molecule(s)
        if len(ids) > block:
            skipped += 1
            continue
        rows.append(ids + [tokenizer.eos_id] * (block - len(ids)))
    if not rows:
        raise ValueError(
            f"Expected at least one molecule of at most {context_length - 1} "
            f"tokens. Received: {len(smiles)} molecules, all longer. Use a larger "
            "context_length."
        )
    return np.asarray(rows, "int32").reshape(-1), skipped


def make_smiles_dataset(
    smiles: Sequence[str],
    tokenizer: SmilesTokenizer,
    context_length: int,
    batch_size: int,
    shuffle: bool = True,
    seed: int = 0,
    repeat: bool = False,
):
    """``(input, next-token)`` batches, one molecule per window.

    :func:`molecule_windows` lays the molecules out; the windows come from
    :func:`keras_gen.text.make_next_token_dataset` with a stride of one block.

    Returns:
        A ``tf.data.Dataset`` of int32 ``(batch_size, context_length)`` pairs.

    Example:
        >>> tok = SmilesTokenizer.train(["CCO", "c1ccccc1"])
        >>> ds = make_smiles_dataset(["CCO", "c1ccccc1"], tok, 12, 2, shuffle=False)
        >>> x, y = next(iter(ds))
        >>> tok.decode(x[1]), x.shape
        ('c1ccccc1', TensorShape([2, 12]))
    """
    from keras_gen.text import make_next_token_dataset

    ids, _ = molecule_windows(smiles, tokenizer, context_length)
    return make_next_token_dataset(
        ids,
        context_length,
        batch_size,
        shuffle=shuffle,
        stride=context_length + 1,
        seed=seed,
        repeat=repeat,
    )


def sample_smiles(
    model,
    tokenizer: SmilesTokenizer,
    num_samples: int,
    temperature: float = 1.0,
    seed: int = 0,
    batch_size: int = 500,
    verbose: bool | None = False,
    jit: bool = True,
) -> list[str]:
    """Ask ``model`` for ``num_samples`` new molecules (SMILES, maybe invalid).

    Every sample starts from ``<bos>`` and is drawn token by token with
    :func:`keras_gen.decoding.generate_ids` until ``<eos>`` or the end of
    the context window. Nothing checks chemistry here: that is what
    :func:`keras_gen.molecules.metrics.validity` measures.

    Args:
        model: A :class:`~keras_gen.transformer.GPT` trained on SMILES windows.
        tokenizer: Its :class:`SmilesTokenizer`.
        num_samples: How many molecules.
        temperature: Softmax temperature (``1.0``: the model's own
            distribution, as MOSES samples).
        seed: Sampling seed; the same seed gives the same molecules.
        batch_size: Rows decoded together.
        verbose: Progress bar.
        jit: Compile the decoding steps with XLA (seconds per model, which
            pay off for many samples); ``False`` for a few samples.

    Returns:
        A list of ``num_samples`` SMILES strings (possibly empty or invalid).

    Example:
        >>> from keras_gen.transformer import build_gpt
        >>> tok = SmilesTokenizer.train(["CCO"])
        >>> model = build_gpt(tok.vocab_size, 8, 16, 2, 1)
        >>> len(sample_smiles(model, tok, 3, jit=False))  # 3 samples: no XLA
        3
    """
    from keras_gen.decoding import generate_ids

    if not isinstance(tokenizer, SmilesTokenizer):
        raise ValueError(
            "Expected a SmilesTokenizer. Received: tokenizer of type "
            f"{type(tokenizer).__name__}"
        )
    num_samples = _checks.check_int("num_samples", num_samples, minimum=1)
    if model.vocab_size != tokenizer.vocab_size:
        raise ValueError(
            f"Expected the model's vocab_size ({model.vocab_size}) to equal the "
            f"tokenizer's ({tokenizer.vocab_size}). Use the tokenizer the model "
            "was trained with."
        )
    prompts = np.full((num_samples, 1), tokenizer.bos_id, "int32")  # (n, 1)
    ids = generate_ids(
        model,
        prompts,
        model.context_length - 1,
        do_sample=True,
        temperature=temperature,
        seed=seed,
        batch_size=batch_size,
        verbose=verbose,
        jit=jit,
    )  # (n, context_length)
    return [tokenizer.decode(row) for row in ids]


def save_smiles_gpt(folder, model, tokenizer: SmilesTokenizer, card: dict) -> str:
    """Save a SMILES GPT with :func:`keras_gen.pretrained.save_pretrained`."""
    from keras_gen.pretrained import save_pretrained

    return save_pretrained(folder, model, tokenizer, card)


def load_smiles_gpt(folder=None):
    """Load a folder saved by :func:`save_smiles_gpt` (default: the shipped one).

    The same checks as :func:`keras_gen.pretrained.load_pretrained`: every
    file present, SHA-256s as the card records, ``safe_mode`` on.

    Returns:
        A :class:`keras_gen.pretrained.Pretrained` (model, tokenizer, card).

    Example:
        >>> shipped = load_smiles_gpt()
        >>> shipped.tokenizer.vocab_size == shipped.model.vocab_size
        True
    """
    from keras_gen import pretrained

    folder = SMILES_GPT_DIR if folder is None else os.fspath(folder)
    return pretrained.load_pretrained(folder, tokenizer_loader=SmilesTokenizer.load)


#: The largest cell :func:`draw_molecules` draws, in pixels per side.
MAX_DRAW_SIZE = 2000
#: The most pixels in one :func:`draw_molecules` picture (about 64 MB as RGBA).
MAX_DRAW_PIXELS = 16_000_000


def draw_molecules(
    smiles: Sequence[str], mols_per_row: int = 4, size: int = 200, legends=None
):
    """A grid picture of the valid molecules among ``smiles`` (RDKit, headless).

    Args:
        smiles: SMILES strings; invalid ones are skipped.
        mols_per_row: Molecules per row.
        size: Width and height of each cell in pixels, ``16 ..``
            :data:`MAX_DRAW_SIZE`; the whole picture holds at most
            :data:`MAX_DRAW_PIXELS`.
        legends: Optional captions, one per entry of ``smiles``.

    Returns:
        A PIL image from ``rdkit.Chem.Draw.MolsToGridImage`` (Jupyter shows
        it when it is a cell's last value).

    Example:
        >>> draw_molecules(["CCO", "c1ccccc1", "C1CC"], mols_per_row=2).size
        (400, 200)
    """
    from rdkit.Chem import Draw

    from keras_gen.molecules.metrics import to_molecule

    mols_per_row = _checks.check_int("mols_per_row", mols_per_row, minimum=1)
    size = _checks.check_int("size", size, minimum=16, maximum=MAX_DRAW_SIZE)
    if isinstance(smiles, str):
        raise ValueError(
            "Expected smiles to be a list of SMILES strings. Received: one str; "
            "wrap it in a list."
        )
    smiles = list(smiles)
    if legends is not None and len(legends) != len(smiles):
        raise ValueError(
            f"Expected one legend per molecule. Received: {len(legends)} legends "
            f"for {len(smiles)} molecules."
        )
    chosen = [(to_molecule(s), i) for i, s in enumerate(smiles)]
    chosen = [(mol, i) for mol, i in chosen if mol is not None]
    if not chosen:
        raise ValueError(
            f"Expected at least one valid molecule to draw. Received: {len(smiles)} "
            "SMILES, none valid."
        )
    # RDKit's grid is mols_per_row cells wide even with fewer molecules.
    rows = -(-len(chosen) // mols_per_row)
    pixels = mols_per_row * rows * size * size
    if pixels > MAX_DRAW_PIXELS:
        raise ValueError(
            f"Expected a picture of at most {MAX_DRAW_PIXELS:,} pixels. Received: "
            f"{rows} row(s) of mols_per_row={mols_per_row} cells of size={size}, "
            f"{pixels:,} pixels. Draw fewer molecules, or lower mols_per_row or "
            "size."
        )
    return Draw.MolsToGridImage(
        [mol for mol, _ in chosen],
        molsPerRow=mols_per_row,
        subImgSize=(size, size),
        legends=None if legends is None else [str(legends[i]) for _, i in chosen],
    )
