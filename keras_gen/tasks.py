"""The two fine-tuning tasks of notebook 07, as data.

The article: LLMs are "pre-trained on diverse datasets, followed by
fine-tuning for specific tasks". :mod:`keras_gen.finetune` does the
fine-tuning; this module makes the tasks' examples:

* **generation** (prompt in, text out), like the article's Codex example:
  :func:`make_code_pairs` pairs a plain-English request with a one-line
  Python expression; :func:`split_pairs` holds some out for testing.
* **classification** (text in, label out), like the article's sentiment
  analysis: :func:`load_docstring_topics` reads the first sentences of real
  docstrings from Python's standard library, labelled by the part of the
  library they document (:data:`DOCSTRING_TOPICS`);
  :func:`few_shot_split` draws a class-balanced handful of them for training.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re

import numpy as np

from keras_gen._files import data_path, utf8_error_where

# --------------------------------------------------------------------------
# Generation task: a request in English -> one line of Python
# --------------------------------------------------------------------------

#: Variable names used in the code task (learners can add their own).
CODE_VARIABLES = (
    "xs", "ys", "nums", "items", "values", "data", "scores", "prices", "ages",
    "sizes", "counts", "points", "words", "names", "rows", "lines", "parts",
    "keys", "marks", "weights",
)  # fmt: skip

#: ``(request, code)`` templates; ``{v}`` is a variable, ``{n}`` a digit.
CODE_TEMPLATES = (
    ("the number of items in {v}", "len({v})"),
    ("the sum of {v}", "sum({v})"),
    ("the largest item of {v}", "max({v})"),
    ("the smallest item of {v}", "min({v})"),
    ("{v} sorted from small to large", "sorted({v})"),
    ("{v} sorted from large to small", "sorted({v}, reverse=True)"),
    ("{v} in reverse order", "{v}[::-1]"),
    ("the first {n} items of {v}", "{v}[:{n}]"),
    ("the last {n} items of {v}", "{v}[-{n}:]"),
    ("the item at index {n} of {v}", "{v}[{n}]"),
    ("each item of {v} squared", "[x ** 2 for x in {v}]"),
    ("each item of {v} times {n}", "[x * {n} for x in {v}]"),
    ("each item of {v} plus {n}", "[x + {n} for x in {v}]"),
    ("the items of {v} greater than {n}", "[x for x in {v} if x > {n}]"),
    ("the distinct items of {v}", "set({v})"),
    ("the mean of {v}", "sum({v}) / len({v})"),
    ("how often {n} occurs in {v}", "{v}.count({n})"),
    ("whether {n} is in {v}", "{n} in {v}"),
    ("the position of {n} in {v}", "{v}.index({n})"),
    ("{v} as a tuple", "tuple({v})"),
)

#: How a code-task prompt looks: a Python comment, then a new line.
CODE_PROMPT = "# {request}\n"


def make_code_pairs(variables=CODE_VARIABLES, templates=CODE_TEMPLATES, digits=9):
    r"""Every ``(prompt, completion)`` pair of the code task, in a fixed order.

    A prompt is a Python comment asking for a value; its completion is the
    one-line expression that computes it, ending with a new line (the stop
    sign for generation). Each template is filled with every variable and,
    where it has ``{n}``, every digit ``1 .. digits``.

    Args:
        variables: Variable names to fill ``{v}``.
        templates: ``(request, code)`` pairs with ``{v}`` and optional ``{n}``.
        digits: Fill ``{n}`` with ``1 .. digits``.

    Returns:
        A list of ``(prompt, completion)`` string pairs.

    Example:
        >>> pairs = make_code_pairs(variables=("xs",), digits=2)
        >>> pairs[1]
        ('# the sum of xs\n', 'sum(xs)\n')
        >>> pairs[7]
        ('# the first 1 items of xs\n', 'xs[:1]\n')
    """
    pairs = []
    for request, code in templates:
        numbers = range(1, digits + 1) if "{n}" in request else [None]
        for v in variables:
            for n in numbers:
                prompt = CODE_PROMPT.format(request=request.format(v=v, n=n))
                pairs.append((prompt, code.format(v=v, n=n) + "\n"))
    return pairs


def split_pairs(pairs, test_size: int, seed: int = 0):
    """Shuffle pairs with ``seed`` and hold out ``test_size`` of them.

    Returns:
        ``(train, test)`` lists; no prompt appears in both.

    Example:
        >>> train, test = split_pairs(make_code_pairs(), 100)
        >>> len(test), len(set(train) & set(test))
        (100, 0)
    """
    if not 0 < test_size < len(pairs):
        raise ValueError(
            f"Expected 0 < test_size < {len(pairs)} (the number of pairs). "
            f"Received: test_size={test_size}"
        )
    order = np.random.default_rng(seed).permutation(len(pairs))
    shuffled = [pairs[i] for i in order]
    return shuffled[test_size:], shuffled[:test_size]


# --------------------------------------------------------------------------
# Classification task: which part of the standard library a docstring is from
# --------------------------------------------------------------------------

#: The classes and the standard-library modules whose docstrings make them.
DOCSTRING_TOPICS = {
    "maths": (
        "math", "cmath", "statistics", "random", "_random", "decimal",
        "_decimal", "_pydecimal", "fractions", "numbers", "_statistics",
    ),
    "files": (
        "os", "posix", "posixpath", "shutil", "pathlib", "glob", "fnmatch",
        "tempfile", "filecmp", "io", "_io", "zipfile", "tarfile", "stat",
        "fileinput", "gzip", "bz2", "lzma", "_pyio", "genericpath",
    ),
    "network": (
        "socket", "_socket", "http", "urllib", "email", "smtplib", "ftplib",
        "imaplib", "poplib", "ssl", "_ssl", "ipaddress", "xmlrpc",
        "socketserver", "mailbox",
    ),
    "concurrency": (
        "threading", "_thread", "multiprocessing", "asyncio", "_asyncio",
        "concurrent", "queue", "_queue", "subprocess", "signal", "selectors",
    ),
}  # fmt: skip

#: Modules imported to collect docstrings (their classes' methods included).
_TOPIC_IMPORTS = (
    "math cmath statistics random decimal fractions numbers "
    "os shutil pathlib glob fnmatch tempfile filecmp io zipfile tarfile stat "
    "fileinput gzip bz2 lzma "
    "socket http.client http.server http.cookies http.cookiejar urllib.request "
    "urllib.parse urllib.robotparser email.message email.utils email.parser "
    "email.header email.generator email.policy email.headerregistry smtplib "
    "ftplib imaplib poplib ssl ipaddress xmlrpc.client xmlrpc.server "
    "socketserver mailbox "
    "threading multiprocessing multiprocessing.pool multiprocessing.managers "
    "multiprocessing.connection asyncio concurrent.futures queue subprocess "
    "signal selectors"
).split()

#: The columns :func:`load_docstring_topics` reads (others, such as
#: ``name``, are ignored).
TOPIC_COLUMNS = ("topic", "text")
#: The shipped copy of the classification data (see ``data/README.md``).
DOCSTRING_TOPICS_FILE = data_path("tasks", "stdlib_docstring_topics.tsv")


def _first_sentence(doc: str) -> str:
    para = inspect.cleandoc(doc).split("\n\n")[0]
    para = re.sub(r"\s+", " ", para).strip()
    match = re.match(r"(.+?\.)(\s|$)", para)
    return match.group(1) if match else para


def docstring_topics_from_stdlib(min_chars: int = 24, max_chars: int = 150):
    """Collect labelled docstring sentences from the installed standard library.

    For every public function, class, method and property of the modules in
    :data:`DOCSTRING_TOPICS`, the first sentence of its docstring is labelled
    with the topic of the module that *defines* it (re-exported names are
    skipped). Sentences that occur under two topics, signature lines such as
    ``"f(x) -> int"``, and sentences outside ``[min_chars, max_chars]`` are
    dropped. ``tools/make_task_data.py`` writes the result to
    :data:`DOCSTRING_TOPICS_FILE`, so every Python version reads the same data.

    Returns:
        A sorted list of ``(topic, qualified_name, sentence)`` triples.
    """
    root_topic = {r: t for t, roots in DOCSTRING_TOPICS.items() for r in roots}
    found: dict[str, dict] = {}
    seen = set()
    for name in _TOPIC_IMPORTS:
        module = importlib.import_module(name)
        for attr, obj in sorted(vars(module).items()):
            if attr.startswith("_") or id(obj) in seen:
                continue
            if not (inspect.isclass(obj) or inspect.isroutine(obj)):
                continue
            seen.add(id(obj))
            owner = getattr(obj, "__module__", None)
            topic = root_topic.get(str(owner).split(".")[0])
            if topic is None:
                continue
            members = [(attr, obj)]
            if inspect.isclass(obj):
                members += [
                    (f"{attr}.{a}", m)
                    for a, m in sorted(vars(obj).items())
                    if not a.startswith("_")
                    and (inspect.isroutine(m) or isinstance(m, property))
                ]
            for qualname, member in members:
                doc = getattr(member, "__doc__", None)
                if not isinstance(doc, str):
                    continue
                sentence = _first_sentence(doc)
                if not min_chars <= len(sentence) <= max_chars:
                    continue
                if re.match(r"^[\w.]+\(.*\)\s*->", sentence) or "-- " in sentence:
                    continue
                entry = found.setdefault(sentence, {"topics": set(), "name": ""})
                entry["topics"].add(topic)
                entry["name"] = entry["name"] or f"{owner}.{qualname}"
    rows = [
        (next(iter(e["topics"])), e["name"], s)
        for s, e in found.items()
        if len(e["topics"]) == 1
    ]
    return sorted(rows)


def load_docstring_topics(path: str | None = None):
    """Load the docstring-topic classification data shipped in ``data/tasks``.

    Args:
        path: A TSV file with ``topic``, ``name`` and ``text`` columns; default
            :data:`DOCSTRING_TOPICS_FILE`.

    Returns:
        ``(texts, labels, class_names)``: a list of sentences, an int array of
        class indices and the topic names in class-index order.

    Example:
        >>> texts, labels, classes = load_docstring_topics()
        >>> classes
        ['maths', 'files', 'network', 'concurrency']
        >>> len(texts) == len(labels) > 1000
        True
    """
    path = DOCSTRING_TOPICS_FILE if path is None else os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"Expected the task data file {path!r}. Regenerate it with "
            "`python tools/make_task_data.py`."
        )
    class_names = list(DOCSTRING_TOPICS)
    fix = "Regenerate it with `python tools/make_task_data.py`."
    try:
        with open(path, encoding="utf-8") as f:
            lines = [
                (number, line.rstrip("\n"))
                for number, line in enumerate(f, start=1)
                if not line.startswith("#")
            ]
    except UnicodeDecodeError as error:
        raise ValueError(
            f"Expected the task data file {path} to be UTF-8 text. Received: "
            f"{utf8_error_where(path, error)}. {fix}"
        ) from error
    if not lines:
        raise ValueError(
            f"Expected the task data file {path} to start with a header line "
            f"holding the columns {list(TOPIC_COLUMNS)}. Received: an empty file. "
            f"{fix}"
        )
    header = lines[0][1].split("\t")
    missing = [c for c in TOPIC_COLUMNS if c not in header]
    if missing:
        raise ValueError(
            f"Expected the columns {list(TOPIC_COLUMNS)} in the header of {path}. "
            f"Received: {header!r:.300}, without {missing}. {fix}"
        )
    texts, labels = [], []
    for number, line in lines[1:]:
        fields = line.split("\t")
        if len(fields) != len(header):
            raise ValueError(
                f"Expected {len(header)} tab-separated fields in {path}, line "
                f"{number}. Received: {len(fields)} fields {fields!r:.300}. {fix}"
            )
        row = dict(zip(header, fields, strict=True))
        if row["topic"] not in class_names:
            raise ValueError(
                f"Expected the topic in {path}, line {number} to be one of "
                f"{class_names}. Received: topic={row['topic']!r:.100}. {fix}"
            )
        texts.append(row["text"])
        labels.append(class_names.index(row["topic"]))
    if not texts:
        raise ValueError(
            f"Expected at least one row after the header of {path}. Received: "
            f"none. {fix}"
        )
    return texts, np.asarray(labels, "int32"), class_names


def few_shot_split(labels, per_class_train: int, per_class_test: int, seed: int = 0):
    """Indices of a class-balanced training set and a fixed test set.

    The test set depends only on ``seed`` and ``per_class_test``, so training
    sets of different sizes (for a learning curve) are scored on the same
    test examples; a smaller training set is the start of a larger one.

    Returns:
        ``(train_index, test_index)``, int arrays.

    Example:
        >>> labels = np.array([0] * 10 + [1] * 10)
        >>> train, test = few_shot_split(labels, 2, 3)
        >>> len(train), len(test), len(set(train) & set(test))
        (4, 6, 0)
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        if len(idx) < per_class_train + per_class_test:
            raise ValueError(
                f"Expected at least per_class_train + per_class_test = "
                f"{per_class_train + per_class_test} examples of class {c}. "
                f"Received: {len(idx)}. Ask for fewer examples per class."
            )
        test.extend(idx[:per_class_test])
        train.append(idx[per_class_test : per_class_test + per_class_train])
    # Interleave classes so the first k * num_classes rows stay balanced.
    train = np.stack(train, axis=1).reshape(-1)
    return train, np.asarray(test)
