"""The ``keras-gen`` command line: the demo, the data check, generation, chat.

Examples:
    keras-gen demo                       # train the article's GAN, ~3 min on CPU
    keras-gen demo --epochs 5 --out /tmp/run --seed 1
    keras-gen demo --epochs 1 --train-size 1000   # a quick check
    (interrupted? run the same command again: it resumes from out/.resume)
    keras-gen data                       # where is Fashion-MNIST on this machine?
    keras-gen data --download            # fetch it into the Keras cache (online)
    keras-gen doctor                     # can this machine run the course?
    keras-gen generate --prompt "The future of AI in healthcare is"
    keras-gen generate --prompt "def " --max-new-tokens 80 --temperature 0.8 \
        --top-p 0.9 --seed 1             # sample instead of greedy
    keras-gen chat                       # the Python help desk; "quit" ends it
    keras-gen chat --once "how do I stop a loop early"
    keras-gen imagine --prompt "a dark ankle boot" --out grid.png --n 16 \
        --guidance 3 --seed 0            # the text-to-image model draws it
    keras-gen ask --table sales.csv "which region grew most?"   # the analyst
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import re
import sys
import tempfile
import time
import zipfile
import zlib

from keras_gen import doctor
from keras_gen._checks import check_int, check_seed
from keras_gen._files import check_writable_folder, replacing
from keras_gen._lock import FolderInUseError, OutputLock, sweep_partials

DEMO_EPOCHS = 15
#: The largest ``imagine --guidance``: the shipped model's class adherence
#: stops rising by 5 (benchmarks/RESULTS.md); far above, the guided noise
#: estimate leaves the range the model was trained on and drawings saturate.
MAX_GUIDANCE = 20.0

#: Start-up lines TensorFlow writes to stderr on every machine without a GPU
#: (before its logging reads ``TF_CPP_MIN_LOG_LEVEL``): not errors.
_TF_NOISE = re.compile(
    r"absl::InitializeLog|cudart_stub\.cc|cuda_platform\.cc|cuda_executor\.cc|"
    r"cpu_feature_guard\.cc|To enable the following instructions|"
    r"Unable to register cu(DNN|FFT|BLAS) factory|TF-TRT Warning|"
    r"failed call to cuInit|computation_placer\.cc|oneDNN custom operations"
)


@contextlib.contextmanager
def _stderr_without_tensorflow_noise():
    """Hold back what C++ code writes to stderr; replay all but :data:`_TF_NOISE`."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no file descriptor 2: nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            text = held.read().decode("utf-8", "replace")
            kept = [line for line in text.splitlines() if not _TF_NOISE.search(line)]
            if kept:
                print("\n".join(kept), file=sys.stderr)


def _quiet_tensorflow() -> None:
    """Import TensorFlow without the CUDA lines it prints on a CPU-only machine.

    ``TF_CPP_MIN_LOG_LEVEL=3`` (set by :func:`main`) silences TensorFlow's own
    logging, but not the lines printed before that logging starts (``I0000
    ... cudart_stub.cc ... Could not find cuda drivers``): a learner reads
    them as a failure. So TensorFlow is imported, and its devices listed
    (where ``cuInit`` fails), with stderr held back and replayed without them.
    """
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" in sys.modules or os.environ["KERAS_BACKEND"] != "tensorflow":
        return
    with _stderr_without_tensorflow_noise():
        import tensorflow as tf

        tf.config.list_physical_devices()


#: What a loader can raise on a file it cannot make sense of, besides its own
#: clear errors: turned into one line naming the file by :func:`_reading`.
_LOAD_ERRORS = (
    RecursionError, TypeError, AttributeError, KeyError, IndexError,
    UnicodeDecodeError,
)


@contextlib.contextmanager
def _naming_the_model(folder: str):
    """Add the model's folder to a NaN-weights error (``FloatingPointError``)."""
    try:
        yield
    except FloatingPointError as error:
        raise FloatingPointError(f"{error} (model: {folder})") from error


@contextlib.contextmanager
def _reading(what: str, path: str, fix: str):
    """Report a loader's unexpected exception as a damaged ``path``, in one line."""
    try:
        yield
    except _LOAD_ERRORS as error:
        from keras_gen._files import FileFormatError

        text = str(error)
        if "Exception encountered:" in text:  # Keras wraps the cause at the end
            text = text.rsplit("Exception encountered:", 1)[1]
        text = " ".join(text.split())
        text = text if len(text) <= 200 else text[:197] + "..."
        detail = (
            "nested too deeply" if isinstance(error, RecursionError)
            else f"{type(error).__name__}: {text}"
        )
        raise FileFormatError(
            f"Expected {what} {path} to load. Received: {detail}. It is damaged or "
            f"was not written by this version of keras_gen. {fix}"
        ) from error


def _epoch_batches(images, batch_size: int, seed: int, first_epoch: int, epochs: int):
    """Batches for epochs ``first_epoch..epochs-1``, the same after a resume.

    Each epoch's order is drawn from ``(seed, epoch)`` alone, so a resumed run
    sees the same batches as an uninterrupted one.

    Returns:
        A ``tf.data.Dataset`` of float32 ``(batch_size, 28, 28, 1)`` batches
        (tf.data: Keras 3 has no input pipeline of its own), and the steps
        per epoch.
    """
    import numpy as np
    import tensorflow as tf

    steps = len(images) // batch_size
    if steps < 1:
        raise ValueError(
            f"Expected at least batch_size={batch_size} training images. "
            f"Received: {len(images)}. Use a larger --train-size."
        )
    orders = [
        np.random.default_rng([seed, epoch]).permutation(len(images))[
            : steps * batch_size
        ]
        for epoch in range(first_epoch, epochs)
    ]
    indices = np.concatenate(orders).reshape(-1, batch_size)  # (epochs*steps, b)
    pixels = tf.constant(images)
    dataset = tf.data.Dataset.from_tensor_slices(indices).map(
        lambda batch: tf.gather(pixels, batch)  # (batch_size, 28, 28, 1)
    )
    return dataset.prefetch(tf.data.AUTOTUNE), steps


def run_demo(
    dataset: str,
    epochs: int,
    out: str,
    seed: int,
    batch_size: int = 128,
    train_size: int | None = None,
    jit_compile="auto",
):
    """Train the article's GAN and write samples, curves and the generator.

    The training state is backed up in ``out/.resume`` after every epoch: run
    the same command again after an interruption and it continues where it
    stopped, reaching the same weights as an uninterrupted run.

    ``out`` is locked for the whole run (:class:`keras_gen._lock.OutputLock`,
    the file ``out/.keras-gen.lock``): a second demo into it refuses at once
    with :class:`~keras_gen._lock.FolderInUseError`, and half-written files
    left in it by runs that have ended are deleted first.

    Args:
        dataset: ``"fashion_mnist"`` or ``"mnist"``.
        epochs: Passes over the training images.
        out: Output directory (created if needed; checked before any work).
        seed: Seed for weights, batch order, noise and the sample grid.
        batch_size: Images per step.
        train_size: Train on the first ``train_size`` of the 60,000 images
            (for quick checks); None for all.
        jit_compile: Passed to :meth:`keras_gen.gan.GAN.compile`: ``"auto"``
            (default: XLA, this GAN being dense), True or False. False skips
            the XLA compile (several seconds), quicker for runs of a few
            steps; a run resumes only with the setting it started with.

    Returns:
        Dict of the written paths: ``samples``, ``curves``, ``generator``,
        ``progress`` (a folder with one grid per epoch).
    """
    epochs = check_int("epochs", epochs, minimum=1)
    seed = check_seed("seed", seed)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    if train_size is not None:
        train_size = check_int("train_size", train_size, minimum=batch_size)
    if jit_compile not in ("auto", True, False):
        raise ValueError(
            "Expected jit_compile to be 'auto', True or False. "
            f"Received: jit_compile={jit_compile!r}"
        )
    check_writable_folder(out, "out")
    with OutputLock(out, "keras-gen demo") as lock:
        if lock.note:
            print(lock.note)
        return _run_demo_locked(
            dataset, epochs, out, seed, batch_size, train_size, jit_compile
        )


def _sweep_dead_partials(out: str) -> None:
    """Delete what killed runs left half-written in ``out`` (their owners are gone)."""
    removed = [
        path
        for folder in (out, os.path.join(out, "progress"), os.path.join(out, ".resume"))
        for path in sweep_partials(folder)
    ]
    if removed:
        print(f"Removed {len(removed)} partial file(s) left by ended runs in {out}.")


def _run_demo_locked(
    dataset, epochs, out, seed, batch_size, train_size, jit_compile="auto"
):
    """:func:`run_demo` once ``out`` is locked and the arguments checked."""
    _sweep_dead_partials(out)
    _quiet_tensorflow()
    import keras

    from keras_gen import data, gan, plotting
    from keras_gen.callbacks import EpochBackup

    keras.utils.set_random_seed(seed)
    images, _ = data.load_images(dataset, "train")
    images = images[:train_size]

    model = gan.GAN(gan.build_generator(), gan.build_discriminator(), seed=seed)
    model.compile(jit_compile=jit_compile)
    # Optimizer variables must exist before a backup can be loaded into them.
    model.d_optimizer.build(model.discriminator.trainable_variables)
    model.g_optimizer.build(model.generator.trainable_variables)
    settings = {
        "dataset": dataset,
        "seed": seed,
        "batch_size": batch_size,
        "train_size": len(images),
    }
    if jit_compile != "auto":  # recorded only when set, as older backups lack it
        settings["jit_compile"] = jit_compile
    backup = EpochBackup(os.path.join(out, ".resume"), settings)
    with _reading(
        "the interrupted run's backup", backup.latest() or backup.folder,
        f"Delete {backup.folder} to start again.",
    ):
        done = backup.restore(model)
    progress_dir = os.path.join(out, "progress")
    sample_grid = gan.SampleGrid(
        gan.latent_vectors(64, model.latent_dim, seed=seed), out_dir=progress_dir
    )
    if done:
        sample_grid.grids[0] = None  # the interrupted run drew epoch 0's grid
        print(f"Resuming the interrupted run in {out} after epoch {done}.")
    else:  # a fresh run: do not mix in the grids of an older, longer one
        for old in glob.glob(os.path.join(glob.escape(progress_dir), "*.png")):
            os.remove(old)
    print(
        f"Training the article's GAN on {dataset} ({len(images):,} images) for "
        f"{epochs} epochs; generator has {model.generator.count_params():,} parameters."
    )
    start = time.perf_counter()
    if done < epochs:
        batches, steps = _epoch_batches(images, batch_size, seed, done, epochs)
        model.fit(
            batches,
            epochs=epochs,
            initial_epoch=done,
            steps_per_epoch=steps,
            callbacks=[sample_grid, backup],
        )
    minutes = (time.perf_counter() - start) / 60

    paths = {
        "samples": plotting.save_image_grid(
            model.generate(64, seed=seed),
            os.path.join(out, "samples.png"),
            title=f"{dataset}: 64 samples after {epochs} epochs (seed {seed})",
        ),
        "curves": plotting.save_loss_curves(
            backup.history,
            os.path.join(out, "loss_curves.png"),
            title="Discriminator and generator losses",
        ),
        "generator": _save_atomically(
            model.generator, os.path.join(out, "generator.keras")
        ),
        "progress": progress_dir,
    }
    backup.discard()
    print(f"Trained in {minutes:.1f} min. Wrote:")
    for label, path in paths.items():
        print(f"  {label:9} {path}")
    return paths


def _save_atomically(model, path: str) -> str:
    """Save under a unique temporary name, then rename: never half a model file."""
    with replacing(path, suffix=".keras") as partial:
        model.save(partial)
    return path


def run_data_check(download: bool) -> int:
    """Print where each data set is found; optionally download Fashion-MNIST."""
    if download:  # through keras.utils.get_file, which imports TensorFlow
        _quiet_tensorflow()
    from keras_gen import data

    status = 0
    for name in data.DATASETS:
        try:
            source = data.find_data(name, download=download)
            for split in data.SPLITS:  # every file, not only the test split's
                data.load_images(
                    name, split, raw=True, data_dir=source.location, download=False
                )
            print(
                f"{name:14} found ({source.origin}): {source.location}  [checksums OK]"
            )
        except (data.DataNotFoundError, data.ChecksumError) as error:
            first_line = str(error).splitlines()[0]
            state = "damaged" if isinstance(error, data.ChecksumError) else "missing"
            print(f"{name:14} {state}: {first_line}")
            if name == "fashion_mnist":
                status = 1
    return status


#: Models that ``generate`` and ``chat`` loaded in this process, by folder,
#: with the folder's file names, sizes and times: a later call on the same,
#: unchanged folder reuses the model, and with it the decoding functions
#: :mod:`keras_gen.decoding` compiled for it (about 4 s a model), so
#: in-process callers (tests, notebooks) pay them once. The same weights:
#: the same tokens for the same seed.
_LOADED: dict = {}


def _load_pretrained_once(folder: str):
    """``load_pretrained(folder)``, reused while the folder's files are unchanged."""
    from keras_gen._files import folder_state
    from keras_gen.pretrained import load_pretrained

    path = os.path.realpath(folder)
    state = folder_state(path)
    cached = _LOADED.get(path)
    if cached is not None and cached[0] == state:
        return cached[1]
    loaded = load_pretrained(folder)
    _LOADED[path] = (state, loaded)
    return loaded


def run_generate(args) -> int:
    """Print text generated from ``args.prompt`` (the ``generate`` command).

    Greedy decoding unless a sampling option (``--temperature``, ``--top-k``,
    ``--top-p``) is given; with none given, ``--seed`` has nothing to seed.
    """
    _quiet_tensorflow()
    from keras_gen.generation import MAX_RETURN_SEQUENCES, pipeline

    # Checked before the model loads (the pipeline checks it again).
    check_int(
        "num_return_sequences", args.num_return_sequences, minimum=1,
        maximum=MAX_RETURN_SEQUENCES,
    )

    do_sample = any(
        value is not None for value in (args.temperature, args.top_k, args.top_p)
    )
    folder = args.model or "data/pretrained/pydoc-char-gpt"
    with _reading(
        "the model folder", folder,
        "Restore it (git checkout data/pretrained) or save it again.",
    ):
        from keras_gen.pretrained import DEFAULT_MODEL_DIR

        path = DEFAULT_MODEL_DIR if args.model is None else args.model
        model = _load_pretrained_once(path) if os.path.isdir(path) else args.model
        generator = pipeline("text-generation", model=model)
    with _naming_the_model(folder):
        outputs = generator(
            args.prompt,
            max_length=args.max_length,
            max_new_tokens=args.max_new_tokens,
            do_sample=do_sample,
            temperature=1.0 if args.temperature is None else args.temperature,
            top_k=args.top_k,
            top_p=args.top_p,
            num_return_sequences=args.num_return_sequences,
            seed=args.seed,
        )
    for i, output in enumerate(outputs):
        if i:
            print("-" * 40)
        print(output["generated_text"])
    return 0


#: What ends an interactive chat (besides end of input).
CHAT_QUIT_WORDS = ("quit", "exit")


def _print_answer(answer, by_id) -> None:
    title = by_id[answer.section_id].title
    print(f"[topic: {answer.section_id}] {title}")
    print(f"Assistant: {answer.reply}", flush=True)


def run_chat(args) -> int:
    """The ``chat`` command: the help desk, one question or a conversation.

    Each message retrieves its own help section (TF-IDF fused with the
    trained encoder, or TF-IDF alone with ``--retriever tfidf``); the model's
    reply is kept if it quotes the section, else the section's sentence that
    shares most words with the question answers instead. Interactive mode
    reads one message a line until end of input or a line that is ``quit``
    or ``exit``, and keeps the earlier turns as history (the latest that fit
    the 256-character context).
    """
    _quiet_tensorflow()
    from keras_gen.helpdesk.chat import format_chat
    from keras_gen.helpdesk.desk import (
        CHAT_MODEL_DIR,
        HelpDesk,
        check_question_length,
    )
    from keras_gen.pretrained import load_pretrained

    if args.once is not None:  # checked before the model loads
        if not args.once.strip():
            raise ValueError(
                "Expected a non-empty question for --once. Received: "
                f"--once={args.once!r}"
            )
        format_chat([{"role": "user", "content": _chat_message(args.once)}])
        check_question_length(args.once)
    folder = CHAT_MODEL_DIR if args.model is None else args.model
    if args.model is None and not os.path.isdir(folder):
        raise FileNotFoundError(
            f"Expected the help-desk model in {folder}. Received: no such folder. "
            "Rebuild it with `python tools/train_helpdesk_chat.py`, or pass "
            "--model data/pretrained/pydoc-char-gpt to chat with the base GPT "
            "(not fine-tuned: its replies rarely quote the help text)."
        )
    with _reading(
        "the model folder", folder,
        "Restore it (git checkout data/pretrained) or save it again.",
    ):
        loaded = (
            _load_pretrained_once(folder) if os.path.isdir(folder)
            else load_pretrained(folder)
        )
    index = None  # --retriever tfidf: the desk's own TF-IDF index
    if args.retriever == "fused":
        from keras_gen.helpdesk.encoder import RETRIEVER_DIR
        from keras_gen.helpdesk.retriever import shipped_index

        with _reading(
            "the retriever folder", RETRIEVER_DIR,
            "Restore it (git checkout data/pretrained) or pass --retriever tfidf.",
        ):
            index = shipped_index()
    # A reply that does not quote its passage gives way to the passage's
    # best sentence (benchmarks/helpdesk_chat.py: grounded 38.7% vs 13.0%).
    desk = HelpDesk(loaded.model, loaded.tokenizer, index=index, check_replies=True)
    if args.once is not None:
        with _naming_the_model(folder):
            _print_answer(desk.answer([args.once])[0], desk.by_id)
        return 0
    history = []
    print("Python help desk: ask about the language; 'quit' ends.", flush=True)
    reconfigure = getattr(sys.stdin, "reconfigure", None)
    if reconfigure is not None:  # bytes that are not UTF-8: report, do not crash
        reconfigure(errors="surrogateescape")
    while True:
        try:
            message = input("User: ").strip()
        except EOFError:
            print()
            return 0
        if message.lower() in CHAT_QUIT_WORDS:
            return 0
        if not message:
            continue
        try:  # one bad message is reported; the conversation goes on
            with _naming_the_model(folder):
                answer = desk.answer([_chat_message(message)], [list(history)])[0]
        except ValueError as error:
            print(f"keras-gen: error: {error}", file=sys.stderr, flush=True)
            continue
        _print_answer(answer, desk.by_id)
        history += [{"role": "user", "content": answer.question},
                    {"role": "assistant", "content": answer.reply or "..."}]


def _chat_message(message: str) -> str:
    """Refuse a message that is not text: bytes that are not UTF-8, or controls."""
    try:
        message.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(
            "Expected a message in UTF-8 text. Received: bytes that are not "
            "UTF-8 (a binary file, or a terminal set to another encoding). "
            "Type the question again."
        ) from None
    controls = sorted({c for c in message if ord(c) < 32 and c not in "\t\n\r"})
    if controls:
        raise ValueError(
            "Expected a message of printable text. Received: control "
            f"characters {''.join(controls)!r} (binary data?). Type the "
            "question again."
        )
    return message


def run_ask(args) -> int:
    """The ``ask`` command: the analyst writes a query, the query runs.

    Prints the table (when it is the demo one), the answer, and the query that
    computed it; says when the first query failed and the constrained retry
    answered, or when nothing could be computed.
    """
    _quiet_tensorflow()
    from keras_gen.summaries.analyst import (
        ANALYST_MODEL_DIR,
        MAX_QUESTION_CHARS,
        answer_questions,
        load_analyst,
    )
    from keras_gen.summaries.tablefile import read_table
    from keras_gen.summaries.tables import make_tables, render_table

    question = _chat_message(" ".join(args.question.split()))
    if not question or len(question) > MAX_QUESTION_CHARS:
        raise ValueError(
            f"Expected a question of 1 to {MAX_QUESTION_CHARS} characters. "
            f"Received: {len(question)} characters. Ask one short question."
        )
    if args.table is None:
        table = make_tables(1, seed=1)[0]
        print("No --table given: the demo table (make_tables(1, seed=1)):")
        print(render_table(table).rsplit("\n", 1)[0])
    else:
        table = read_table(args.table)
    folder = ANALYST_MODEL_DIR if args.model is None else args.model
    with _reading(
        "the model folder", folder,
        "Restore it (git checkout data/pretrained) or run tools/train_analyst.py.",
    ):
        loaded = load_analyst(folder)
    with _naming_the_model(folder):
        answer = answer_questions(loaded.model, loaded.tokenizer, [question],
                                  [table])[0]
    print(f"Answer: {answer.text}")
    if answer.route == "written":
        print(f"Code: {answer.query}")
    elif answer.route == "constrained":
        print(f"Code: {answer.query}  (fallback: the first query, "
              f"{answer.first_try.strip()!r}, did not run; retried held to the "
              "queries valid on this table)")
    else:
        print(f"Code: none ran (first query {answer.first_try.strip()!r}: "
              f"{answer.error})")
    return 0


def run_imagine(args) -> int:
    """Draw ``args.n`` images of ``args.prompt`` into a PNG grid (``imagine``)."""
    n = check_int("n", args.n, minimum=1, maximum=256)
    seed = check_seed("seed", args.seed)
    steps = check_int("steps", args.steps, minimum=1)
    from keras_gen._checks import check_float

    guidance = check_float("guidance", args.guidance)
    if not 0 <= guidance <= MAX_GUIDANCE:
        raise ValueError(
            f"Expected 0 <= guidance <= {MAX_GUIDANCE:g}. Received: "
            f"guidance={guidance:g}. 0 ignores the prompt, 3 (the default) "
            "follows it; the shipped model's adherence stops rising by 5, and far "
            "larger scales push the drawings out of the range it learned."
        )
    out = os.path.abspath(args.out)
    if not out.lower().endswith(".png"):
        raise ValueError(f"Expected --out to name a .png file. Received: {args.out!r}")
    if os.path.isdir(out):
        raise ValueError(
            f"Expected --out to name a .png file. Received: {args.out!r}, which is "
            "a folder. Name a file inside it, e.g. "
            f"{os.path.join(args.out, 'grid.png')!r}."
        )
    check_writable_folder(os.path.dirname(out), "out")
    from keras_gen.text_to_image.captions import describe_prompt

    print(describe_prompt(args.prompt), flush=True)
    _quiet_tensorflow()
    from keras_gen import plotting
    from keras_gen.text_to_image import model as text_to_image

    if args.model is None and not os.path.isdir(
        text_to_image.DEFAULT_TEXT_TO_IMAGE_DIR
    ):
        raise FileNotFoundError(
            "Expected the shipped text-to-image model in "
            f"{text_to_image.DEFAULT_TEXT_TO_IMAGE_DIR}. Received: no such folder. "
            "Run `make pretrained` to train it, or pass --model FOLDER."
        )
    with _reading(
        "the text-to-image folder",
        args.model or text_to_image.DEFAULT_TEXT_TO_IMAGE_DIR,
        "Restore it (git checkout data/pretrained) or rebuild it with "
        "`make pretrained`.",
    ):
        model, _ = text_to_image.load_text_to_image(args.model)
    images = model.generate(
        [args.prompt] * n, guidance_scale=guidance, num_steps=steps, seed=seed
    )
    plotting.save_image_grid(images, out, title=args.prompt)  # atomic
    print(f"Wrote {n} images of {args.prompt!r} to {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, exposed for tests and ``--help``."""
    parser = argparse.ArgumentParser(
        prog="keras-gen",
        description="Keras 3 generative models from the article 'Gen AI vs LLM'.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="train the article's dense GAN and write samples, curves and the model",
        description="Train the article's dense GAN (about 3 minutes on a 2-core CPU).",
    )
    demo.add_argument(
        "--dataset",
        choices=["fashion_mnist", "mnist"],
        default="fashion_mnist",
        help="image data set (default: %(default)s)",
    )
    demo.add_argument(
        "--epochs",
        type=int,
        default=DEMO_EPOCHS,
        help="passes over the training set (default: %(default)s)",
    )
    demo.add_argument(
        "--out",
        default="outputs",
        help="output directory (default: %(default)s); an interrupted run in it "
        "resumes when the same command is run again",
    )
    demo.add_argument(
        "--train-size",
        type=int,
        default=None,
        help="train on the first N of the 60,000 images (quick checks; "
        "default: all)",
    )
    demo.add_argument(
        "--seed",
        type=int,
        default=0,
        help="random seed; the same seed gives the same samples",
    )
    demo.add_argument(
        "--no-xla",
        action="store_true",
        help="skip the XLA compile (quicker for runs of a few steps)",
    )

    data_cmd = commands.add_parser(
        "data", help="show where the data sets are found (and verify checksums)"
    )
    data_cmd.add_argument(
        "--download",
        action="store_true",
        help="download Fashion-MNIST into the Keras cache if missing",
    )

    gen = commands.add_parser(
        "generate",
        help="continue a prompt with the pretrained GPT that ships with keras-gen",
        description="Continue a prompt with a pretrained keras_gen GPT: greedy "
        "decoding by default, sampling when --temperature, --top-k or --top-p "
        "is given. Lengths count tokens (characters for the shipped model).",
    )
    gen.add_argument("--prompt", required=True, help="the text to continue")
    length = gen.add_mutually_exclusive_group()
    length.add_argument(
        "--max-length",
        type=int,
        help="prompt plus new tokens, as in the article (default: prompt + 50)",
    )
    length.add_argument("--max-new-tokens", type=int, help="new tokens only")
    gen.add_argument(
        "--temperature", type=float, help="sample with this temperature (> 0)"
    )
    gen.add_argument("--top-k", type=int, help="sample among the K most likely")
    gen.add_argument(
        "--top-p", type=float, help="nucleus sampling: keep probability mass P"
    )
    gen.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    gen.add_argument(
        "--num-return-sequences",
        type=int,
        default=1,
        help="continuations to print (sampling only; default 1, at most 100)",
    )
    gen.add_argument(
        "--model",
        default=None,
        help="a folder saved by keras_gen (default: the shipped pydoc-char-gpt)",
    )

    chat_cmd = commands.add_parser(
        "chat",
        help="ask the Python help desk (retrieval + the fine-tuned GPT)",
        description="A help desk for Python users: each question retrieves the "
        "closest section of Python's help text (TF-IDF fused with a trained "
        "encoder) and the fine-tuned GPT "
        "replies by quoting it. Interactive until end of input or 'quit'.",
    )
    chat_cmd.add_argument(
        "--once", metavar="QUESTION",
        help="answer this one question, print the topic and the reply, and exit",
    )
    chat_cmd.add_argument(
        "--model",
        default=None,
        help="a folder saved by keras_gen (default: the shipped helpdesk-chat)",
    )
    chat_cmd.add_argument(
        "--retriever", choices=("fused", "tfidf"), default="fused",
        help="how the help section is found: TF-IDF fused with the trained "
        "encoder of data/pretrained/helpdesk-retriever (default), or TF-IDF alone",
    )
    imagine = commands.add_parser(
        "imagine",
        help="draw a prompt with the text-to-image model that ships with keras-gen",
        description="Draw Fashion-MNIST images of a caption such as 'a dark ankle "
        "boot' with the latent diffusion model (keras_gen.text_to_image.model).",
    )
    imagine.add_argument("--prompt", required=True, help="what to draw")
    imagine.add_argument(
        "--out", default="grid.png", help="PNG file (default: %(default)s)"
    )
    imagine.add_argument("--n", type=int, default=16, help="images (default 16)")
    imagine.add_argument(
        "--guidance", type=float, default=3.0,
        help=f"guidance scale, 0 to {MAX_GUIDANCE:g} (default 3)",
    )
    imagine.add_argument(
        "--steps", type=int, default=50, help="DDIM steps (default: %(default)s)"
    )
    imagine.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    imagine.add_argument(
        "--model",
        default=None,
        help=(
            "a folder saved by keras_gen.text_to_image.model "
            "(default: the shipped one)"
        ),
    )
    ask = commands.add_parser(
        "ask",
        help="ask a question about a sales table; the analyst writes and runs a query",
        description="The sales analyst: a fine-tuned GPT turns the question into "
        "one query of keras_gen.summaries.queries, which runs on the table; the "
        "answer is what the query returned, printed with the query. Without "
        "--table it answers about a demo table, which it prints first.",
    )
    ask.add_argument("question", help='e.g. "which region grew most?"')
    ask.add_argument(
        "--table", default=None,
        help="CSV file: header region,Jan,Feb,...; one row per region "
        "(default: a demo table)",
    )
    ask.add_argument(
        "--model", default=None,
        help="a folder saved by keras_gen (default: the shipped sales-analyst)",
    )
    doctor.add_parser(commands)
    return parser


def _one_line_error(error: BaseException) -> tuple[str, int] | None:
    """The message and exit status for an error a user can fix, else None.

    Bad arguments and damaged files exit with 2, failures of the machine
    (disk, memory) and a folder in use by another run with 1; anything else
    is a bug and keeps its traceback (a loader's ``TypeError``/``KeyError``
    on a damaged file is turned into a ``FileFormatError`` naming the file
    by :func:`_reading` first).
    """
    if isinstance(error, (zipfile.BadZipFile, zlib.error, EOFError)):
        return f"a file is damaged ({type(error).__name__}: {error})", 2
    if isinstance(error, FolderInUseError):
        return str(error), 1
    if isinstance(error, FloatingPointError):  # NaN weights: a damaged model
        return str(error), 2
    if isinstance(error, RecursionError):
        return (
            "a file is nested too deeply to read (RecursionError); it is damaged "
            "or not a keras_gen file.",
            2,
        )
    if isinstance(error, (ValueError, FileNotFoundError)):
        return str(error), 2
    if isinstance(error, OSError):
        where = f" ({error.filename})" if error.filename else ""
        return f"{error.strerror or error}{where}", 1
    if isinstance(error, MemoryError) or type(error).__name__ == (
        "ResourceExhaustedError"  # TensorFlow's out-of-memory error
    ):
        return (
            "out of memory. Ask for less: a smaller --train-size, "
            "--max-new-tokens or --num-return-sequences.",
            1,
        )
    return None


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``keras-gen`` console script."""
    # Before anything imports TensorFlow: its C++ logging reads this once.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    args = build_parser().parse_args(argv)
    try:
        if args.command == "demo":
            run_demo(
                args.dataset, args.epochs, args.out, args.seed,
                train_size=args.train_size,
                jit_compile=False if args.no_xla else "auto",
            )
            return 0
        if args.command == "generate":
            return run_generate(args)
        if args.command == "chat":
            return run_chat(args)
        if args.command == "imagine":
            return run_imagine(args)
        if args.command == "ask":
            return run_ask(args)
        if args.command == "doctor":
            _quiet_tensorflow()  # the doctor imports TensorFlow to list devices
            return doctor.main(args)
        return run_data_check(args.download)
    except KeyboardInterrupt:
        resume = " Run the same command to resume." if args.command == "demo" else ""
        print(f"keras-gen: interrupted.{resume}", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - reported in one line below
        reported = _one_line_error(error)
        if reported is None:
            raise
        message, status = reported
        print(f"keras-gen: error: {message}", file=sys.stderr)
        return status


if __name__ == "__main__":
    sys.exit(main())
