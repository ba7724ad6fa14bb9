import os
import subprocess
import sys

import keras
import pytest

from keras_gen import cli


def test_help_lists_the_subcommands():
    result = subprocess.run(
        [sys.executable, "-m", "keras_gen.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert all(name in result.stdout for name in ("demo", "data", "generate"))


def test_demo_options_have_documented_defaults():
    args = cli.build_parser().parse_args(["demo"])
    assert (args.dataset, args.epochs, args.out, args.seed) == (
        "fashion_mnist",
        cli.DEMO_EPOCHS,
        "outputs",
        0,
    )


def test_data_command_reports_fashion_mnist(fashion_test, capsys):
    assert cli.main(["data"]) == 0
    assert "fashion_mnist  found" in capsys.readouterr().out


def test_bad_epochs_is_a_clear_error(capsys):
    assert cli.main(["demo", "--epochs", "0"]) == 2
    assert "Received: epochs=0" in capsys.readouterr().err


# The demo's outputs (samples, curves, progress grids, a loadable generator):
# tests/test_resume.py::test_demo_writes_samples_curves_and_a_loadable_generator,
# on the reference run that its resume test needs anyway.


def test_failed_save_leaves_no_partial_file(tmp_path):
    class Broken:
        def save(self, path):
            with open(path, "w") as handle:
                handle.write("half")
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        cli._save_atomically(Broken(), str(tmp_path / "generator.keras"))
    assert list(tmp_path.iterdir()) == []


def test_data_command_checks_the_training_files_too(
    fashion_test, tmp_path, capsys, monkeypatch
):
    """It said "checksums OK" with a corrupt training file (only test was read)."""
    from keras_gen import data

    source = data.find_data("fashion_mnist", download=False).location
    for stem in data._FASHION_FILES:
        name = f"{stem}.gz" if (source / f"{stem}.gz").exists() else stem
        os.symlink(source / name, tmp_path / name)
    damaged = next(tmp_path.glob("train-labels-idx1-ubyte*"))
    payload = bytearray(damaged.read_bytes())
    damaged.unlink()
    payload[len(payload) // 2] ^= 0xFF
    damaged.write_bytes(bytes(payload))
    monkeypatch.setenv("KERAS_GEN_DATA", str(tmp_path))
    assert cli.main(["data"]) == 1
    lines = capsys.readouterr().out.splitlines()
    fashion = next(line for line in lines if line.startswith("fashion_mnist"))
    assert "damaged" in fashion and str(damaged) in fashion
    assert "checksums OK" not in fashion


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory):
    """A tiny untrained GPT saved the way the shipped model is."""
    from keras_gen.pretrained import save_pretrained
    from keras_gen.tokenizers import CharTokenizer
    from keras_gen.transformer import build_gpt

    keras.utils.set_random_seed(0)
    tokenizer = CharTokenizer.train("abcdefgh ", byte_fallback=False)
    model = build_gpt(tokenizer.vocab_size, 32, 16, num_heads=2, num_layers=1)
    folder = str(tmp_path_factory.mktemp("cli") / "tiny")
    return save_pretrained(folder, model, tokenizer, {"name": "tiny"})


def test_generate_prints_the_prompt_and_its_continuation(model_folder, capsys):
    argv = ["generate", "--prompt", "abc", "--max-length", "12", "--model"]
    assert cli.main([*argv, model_folder]) == 0
    text = capsys.readouterr().out[:-1]  # print() adds one newline
    assert text.startswith("abc") and len(text) == 12
    assert cli.main([*argv, model_folder]) == 0  # greedy: the same again
    assert capsys.readouterr().out.rstrip("\n") == text


def test_generate_samples_when_asked_and_repeats_with_a_seed(model_folder, capsys):
    argv = ["generate", "--prompt", "ab", "--max-new-tokens", "20", "--model"]
    sampled = [*argv, model_folder, "--temperature", "3", "--top-k", "5"]
    outputs = []
    # The other seed's call also asks for two sequences. The calls reuse the
    # model the first generate call of this module loaded (cli._LOADED), and
    # its compiled decoding.
    for extra in (["1"], ["1"], ["2", "--num-return-sequences", "2"]):
        assert cli.main([*sampled, "--top-p", "0.99", "--seed", *extra]) == 0
        outputs.append(capsys.readouterr().out)
    first_of_two, second_of_two = outputs[2].split("-" * 40 + "\n")
    assert outputs[0] == outputs[1] != first_of_two
    assert second_of_two.startswith("ab") and second_of_two.endswith("\n")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--temperature", "0"], "Received: temperature=0.0"),
        (["--top-p", "1.5"], "Received: top_p=1.5"),
        (["--top-k", "0"], "Received: top_k=0"),
        (["--max-length", "2"], "Received: max_length=2"),
    ],
)
def test_generate_errors_are_clear(model_folder, capsys, extra, message):
    argv = ["generate", "--prompt", "abc", "--model", model_folder, *extra]
    assert cli.main(argv) == 2
    assert message in capsys.readouterr().err


def test_generate_reports_a_missing_model_folder(tmp_path, capsys):
    argv = ["generate", "--prompt", "abc", "--model", str(tmp_path / "nowhere")]
    assert cli.main(argv) == 2
    assert "not a folder" in capsys.readouterr().err


def test_generate_uses_the_shipped_model_by_default(capsys):
    from keras_gen.pretrained import DEFAULT_MODEL_DIR

    if not os.path.isdir(DEFAULT_MODEL_DIR):
        pytest.skip("the shipped model is not built (make pretrained)")
    prompt = "The future of AI in healthcare is"
    assert cli.main(["generate", "--prompt", prompt]) == 0
    text = capsys.readouterr().out[:-1]  # print() adds one newline
    assert text.startswith(prompt) and len(text) == len(prompt) + 50


def test_chat_once_prints_the_topic_and_a_reply(capsys):
    # The shipped help-desk model (data/pretrained/helpdesk-chat).
    assert cli.main(["chat", "--once", "how do I stop a loop early"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == '[topic: break] The "break" statement'
    assert out[1].startswith("Assistant: ") and len(out) == 2


def test_chat_reads_turns_until_quit(monkeypatch, capsys):
    import io

    from keras_gen.pretrained import DEFAULT_MODEL_DIR

    monkeypatch.setattr("sys.stdin", io.StringIO("what is pass\n\nquit\nnever read\n"))
    # TF-IDF alone: the loop is the same; loading and encoding the shipped
    # retriever (half of a chat's time) is tested by the --once test above.
    argv = ["chat", "--model", DEFAULT_MODEL_DIR, "--retriever", "tfidf"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert out.count("[topic: ") == 1 and "[topic: pass]" in out
    assert "never read" not in out


@pytest.mark.parametrize("argv, message", [
    (["chat", "--once", "  "], "non-empty question for --once"),
    (["chat", "--once", "two\nlines"], "on one line"),
    (["chat", "--model", "no/such/folder", "--once", "hi"], "not a folder"),
])
def test_chat_bad_input_is_a_clear_error(argv, message, capsys):
    assert cli.main(argv) == 2
    assert message in capsys.readouterr().err
