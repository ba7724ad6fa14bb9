"""Write the classification data of notebook 07 from the installed stdlib.

``data/tasks/stdlib_docstring_topics.tsv`` holds the first sentence of
docstrings from Python's standard library, labelled by the part of the library
that defines them (maths, files, network, concurrency); see
:func:`keras_gen.tasks.docstring_topics_from_stdlib`. The file is shipped so
every Python version reads the same examples; this script regenerates it.
The text is from CPython (PSF License Version 2).

Usage:
    PYTHONPATH=. .venv/bin/python tools/make_task_data.py [--out PATH]
"""

from __future__ import annotations

import argparse
import collections
import platform

from keras_gen.tasks import DOCSTRING_TOPICS_FILE, docstring_topics_from_stdlib


def main(argv=None) -> int:
    """Collect the sentences and write them as a TSV file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=DOCSTRING_TOPICS_FILE)
    args = parser.parse_args(argv)
    rows = docstring_topics_from_stdlib()
    with open(args.out, "w", encoding="utf-8", newline="") as f:
        f.write(f"# docstrings of CPython {platform.python_version()}; PSF License\n")
        # Plain tab-separated lines: the sentences hold no tabs or new lines.
        for row in [("topic", "name", "text"), *rows]:
            f.write("\t".join(row) + "\n")
    counts = collections.Counter(topic for topic, _, _ in rows)
    print(f"wrote {len(rows)} sentences to {args.out}: {dict(sorted(counts.items()))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
