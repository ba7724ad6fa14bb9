"""Rebuild ``data/chorales/bach_soprano_melodies.json`` from music21's corpus.

For every chorale of ``music21.corpus.chorales.Iterator()`` (the 371 chorales
in Riemenschneider's order) this takes the soprano part, merges ties,
transposes it to C major / A minor (:func:`keras_gen.music.melodies.soprano_melody`)
and writes one line per piece. It skips pieces whose soprano has a note with
no token (a chord, a 1/32 note, an unusual tied length), and later
harmonisations of a tune already kept: Bach harmonised many hymn tunes more
than once, with small changes to the melody, and a version in training and
another in validation would flatter the model. A melody counts as the same
tune when it has the same pitches as one kept, or shares with one a run of
consecutive notes at least half its own length
(:class:`keras_gen.music.metrics.CopyIndex`). It then prints the file's SHA-256 and
whether it equals the one pinned in ``keras_gen/music.py``.

The corpus files are from music21 (BSD-3-Clause); the music is in the public
domain. Parsing takes about a minute.

Usage:
    PYTHONPATH=. .venv/bin/python tools/build_chorales.py [--out PATH]
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import os

from keras_gen._files import replacing
from keras_gen.music import melodies as music
from keras_gen.music import metrics as music_metrics


def build() -> tuple[list[music.Chorale], list[tuple[str, str]], str]:
    """Parse the corpus; return the chorales kept, those skipped, and the source."""
    import music21

    kept, skipped, seen = [], [], {}
    for name in music21.corpus.chorales.Iterator(returnType="filename"):
        try:
            melody, key, shift = music.soprano_melody(music21.corpus.parse(name))
        except ValueError as error:
            skipped.append((name, str(error).split(". Received")[0]))
            continue
        pitches = tuple(p for p, _ in melody)
        if pitches in seen:
            skipped.append((name, f"same melody as {seen[pitches]}"))
            continue
        index = music_metrics.CopyIndex([c.melody for c in kept]) if kept else None
        if index is not None and 2 * index.longest_run(melody) >= len(melody):
            skipped.append((name, "same tune: shares half its notes in a row"))
            continue
        seen[pitches] = name
        kept.append(music.Chorale(name, key, shift, melody))
    source = (
        f"music21 {music21.__version__} corpus, chorales.Iterator(), soprano part "
        "transposed to C major / A minor; music21 is BSD-3-Clause, the music "
        "is in the public domain"
    )
    return kept, skipped, source


def _reason(message: str) -> str:
    for short in ("same melody", "same tune", "duration", "pitch", "chord"):
        if short in message:
            return short
    return message


def main(argv=None) -> int:
    """Build the file, write it atomically, report its hash."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=music.CHORALES_FILE)
    args = parser.parse_args(argv)
    kept, skipped, source = build()
    payload = music.encode_chorales_file(kept, source)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with replacing(args.out) as tmp, open(tmp, "wb") as handle:
        handle.write(payload)
    digest = hashlib.sha256(payload).hexdigest()
    reasons = collections.Counter(_reason(r) for _, r in skipped)
    notes = sum(len(c.melody) for c in kept)
    print(f"wrote {len(kept)} melodies ({notes} notes, {len(payload):,} bytes) "
          f"to {args.out}")
    print(f"skipped {len(skipped)}: {dict(reasons)}")
    print(f"sha256 {digest}")
    if digest == music.CHORALES_SHA256:
        print("matches keras_gen.music.melodies.CHORALES_SHA256")
    else:
        print("differs from keras_gen.music.melodies.CHORALES_SHA256: update the "
              "constant if this rebuild is intended")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
