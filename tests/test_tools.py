"""The training tools' shared arguments (tools/_common.py) and their step counts.

The tools are scripts: Python puts ``tools/`` on the path when it runs them,
so the tests do the same before importing them.
"""

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS = os.path.join(ROOT, "tools")
sys.path.insert(0, TOOLS)

import _common  # noqa: E402


class _Trained(Exception):
    """Raised by the stand-in for fit_steps: the test needs nothing after it."""


def _recording_fit_steps(module, monkeypatch, seen):
    # fit_steps itself is tested in tests/test_training.py (exactly `steps`
    # optimizer steps, the last chunk shorter); here: the tool hands it
    # --steps and --eval-every. Raising stops the tool before any training.
    def fit_steps(model, dataset, steps, chunk=None, **kwargs):
        seen.update(steps=steps, chunk=chunk, initial_chunk=kwargs["initial_chunk"])
        raise _Trained

    monkeypatch.setattr(module, "fit_steps", fit_steps)


@pytest.mark.parametrize("tool", ["train_pretrained", "train_moses_gpt"])
def test_tools_train_exactly_steps_when_eval_every_does_not_divide_them(
    tool, tmp_path, monkeypatch
):
    # The bug: 7 steps in chunks of 3 trained 6 while the card said 7.
    module = __import__(tool)
    seen = {}
    _recording_fit_steps(module, monkeypatch, seen)
    if hasattr(module, "load_moses"):  # 2,300 molecules, not 105,000: tokenizing
        # them all took a minute; the step count does not need them. (The first
        # 2,000 training ones hold every token of the first 300 test ones.)
        load_moses = module.load_moses
        limits = {"train": 2_000, "test": 300}
        monkeypatch.setattr(
            module, "load_moses", lambda split: load_moses(split, limit=limits[split])
        )
    argv = ["--steps", "7", "--eval-every", "3", "--out", str(tmp_path / "model")]
    with pytest.raises(_Trained):
        module.main(argv)
    assert seen == {"steps": 7, "chunk": 3, "initial_chunk": 0}


def _parser(**kwargs):
    return _common.training_parser(
        "a tool", steps=100, out="unused", quick_steps=5, **kwargs
    )


def test_parse_training_args_quick_and_eval_every(tmp_path):
    out = str(tmp_path / "model")
    args = _common.parse_training_args(
        _parser(eval_every=30), ["--quick", "--out", out], allowed_files=()
    )
    assert (args.steps, args.eval_every, args.seed) == (5, 5, 0)  # at most --steps
    assert args.out == os.path.abspath(out)
    args = _common.parse_training_args(
        _parser(eval_every=30), ["--steps", "70", "--out", out], allowed_files=()
    )
    assert (args.steps, args.eval_every) == (70, 30)


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--steps", "0"], "Expected --steps >= 1. Received: --steps=0"),
        (["--eval-every", "0"], "Expected --eval-every >= 1"),
    ],
)
def test_parse_training_args_errors(tmp_path, capsys, argv, fragment):
    with pytest.raises(SystemExit) as exit_:
        _common.parse_training_args(
            _parser(eval_every=10), [*argv, "--out", str(tmp_path / "m")],
            allowed_files=(),
        )
    assert exit_.value.code == 2
    assert fragment in capsys.readouterr().err


def test_out_problem(tmp_path):
    assert _common.out_problem(str(tmp_path / "new"), ("card.json",)) is None
    folder = tmp_path / "old"
    folder.mkdir()
    (folder / "card.json").write_text("{}")
    assert _common.out_problem(str(folder), ("card.json",)) is None
    (folder / "notes.txt").write_text("mine")
    assert "also holds 1 other entries (notes.txt)" in _common.out_problem(
        str(folder), ("card.json",)
    )
    (tmp_path / "file").write_text("x")
    assert "which is a file or a link" in _common.out_problem(
        str(tmp_path / "file"), ()
    )
    assert "the folder of --out" in _common.out_problem(
        str(tmp_path / "file" / "model"), ()
    )


@pytest.mark.parametrize(
    "tool",
    ["train_designer", "train_text_to_image", "train_pretrained", "train_moses_gpt",
     "train_helpdesk_chat"],
)
def test_tools_check_out_before_any_work(tool, tmp_path, monkeypatch, capsys):
    # The bug: train_designer and train_text_to_image found a bad --out only
    # after training (45 minutes). Any data loading now fails the test.
    from keras_gen import data, pretrained, text
    from keras_gen.helpdesk import sections as helpdesk
    from keras_gen.molecules import smiles as molecules

    def no_work(*args, **kwargs):
        raise AssertionError("work started before --out was checked")

    for module, name in [(data, "load_images"), (text, "load_corpus"),
                         (molecules, "load_moses"), (pretrained, "load_pretrained"),
                         (helpdesk, "load_questions")]:
        monkeypatch.setattr(module, name, no_work)
    module = __import__(tool)
    for name in ("load_images", "load_corpus", "load_moses", "load_pretrained",
                 "load_questions"):
        if hasattr(module, name):
            monkeypatch.setattr(module, name, no_work)
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "thesis.tex").write_text("years of work")
    with pytest.raises(SystemExit) as exit_:
        module.main(["--out", str(tmp_path / "taken")])
    assert exit_.value.code == 2
    assert "thesis.tex" in capsys.readouterr().err
    assert (tmp_path / "taken" / "thesis.tex").read_text() == "years of work"


def test_card_command_leaves_out_out():
    command = _common.card_command(
        "tools/train_designer.py", ["--kind", "cvae", "--out=/tmp/x", "--quick"],
        make="make pretrained",
    )
    assert command == (
        "make pretrained  # = python tools/train_designer.py --kind cvae --quick"
    )
    assert _common.card_command("tools/t.py", []) == "python tools/t.py"


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--judge", "first", "--out", "TAKEN"], "thesis.tex"),
        (["--judge", "second", "--epochs", "0"], "Expected --epochs >= 1"),
        (["--judge", "third"], "invalid choice: 'third'"),
    ],
)
def test_train_judges_checks_its_arguments_before_any_work(
    argv, fragment, tmp_path, monkeypatch, capsys
):
    from keras_gen import classifier

    def no_work(*args, **kwargs):
        raise AssertionError("training started before the arguments were checked")

    monkeypatch.setattr(classifier, "train_quality_classifier", no_work)
    monkeypatch.setattr(classifier, "train_second_judge", no_work)
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "thesis.tex").write_text("years of work")
    argv = [str(tmp_path / "taken") if a == "TAKEN" else a for a in argv]
    with pytest.raises(SystemExit) as exit_:
        __import__("train_judges").main(argv)
    assert exit_.value.code == 2
    assert fragment in capsys.readouterr().err
    assert (tmp_path / "taken" / "thesis.tex").read_text() == "years of work"


def test_train_judges_defaults_to_the_shipped_folders():
    from keras_gen import classifier

    train_judges = __import__("train_judges")
    for judge in classifier.JUDGES:
        args = train_judges.parse_args(["--judge", judge])
        assert args.out == str(classifier.shipped_folder(judge=judge))
        assert args.epochs == classifier.EPOCHS == 4
    assert train_judges.parse_args(["--judge", "second"]).seed == 1
    assert train_judges.parse_args(["--judge", "first", "--quick"]).epochs == 1
