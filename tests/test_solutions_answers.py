"""Each solution's main() runs and prints an answer built from what it measured."""

import re

import pytest

from solutions import nb00, nb01, nb02, nb03, nb04


@pytest.fixture
def eager():
    """Run tf.functions eagerly. These main()s train several new models for a
    few steps each: tracing each one's train and predict functions (5-10 s a
    model on 2 CPU cores) costs far more than the steps, and the tests check
    what main() prints, not the graph."""
    import tensorflow as tf

    tf.config.run_functions_eagerly(True)
    yield
    tf.config.run_functions_eagerly(False)


def test_nb00_main_prints_measured_answers(capsys):
    nb00.main(sizes=(16, 64), repeats=1)
    out = capsys.readouterr().out
    assert "no 'debian' place" in out
    by_hand, counted = re.search(r"([\d,]+) parameters by hand, ([\d,]+)", out).groups()
    assert by_hand == counted == "1,477,136"
    share = float(re.search(r"so ([\d.]+)% of that call was fixed cost", out).group(1))
    assert 0 <= share <= 100


def test_nb01_main_prints_measured_answers(capsys):
    nb01.main(steps=15, epochs=10)
    out = capsys.readouterr().out
    pattern = r"best k on held-out data: (\d+) .*, (\d+) with 2,000: it (\w+)"
    best = re.search(pattern, out)
    k300, k2000, change = int(best.group(1)), int(best.group(2)), best.group(3)
    assert change == ("rises" if k2000 > k300 else "falls" if k2000 < k300 else "does")
    assert out.count("of samples between blobs") == 2


def test_nb02_main_prints_measured_answers(capsys, eager):
    nb02.main(n_images=256, epochs=1)
    out = capsys.readouterr().out
    assert "class map" in out and "twice as wide: 4,282,640" in out
    # latent_map: a 10 x 10 grid of decoded images, one class name each
    grid = out.split("class map:\n")[1].split("   classes that sit")[0]
    assert [len(row) for row in grid.splitlines()] == [3 + 10 * 8 - 1] * 10
    diversity = re.findall(r"diversity ratio ([\d.]+)", out)
    assert len(diversity) == 2 and min(float(d) for d in diversity) > 0
    normal = re.search(r"normal .*d_real ([\d.]+), d_fake ([\d.]+)", out).groups()
    slow = re.search(r"10x slower .*d_real ([\d.]+), d_fake ([\d.]+)", out).groups()
    gap_normal = float(normal[0]) - float(normal[1])
    gap_slow = float(slow[0]) - float(slow[1])
    assert ("less well" in out) == (gap_slow < gap_normal)


def test_nb03_main_prints_measured_answers(capsys, fashion_test, eager):
    nb03.main(
        seconds=1.0,
        n_samples=128,
        subset=512,
        floor_sizes=(128, 256),
        latent_sizes=(2, 4),
    )
    out = capsys.readouterr().out
    assert "784 ln 2 = 543.4" in out
    assert out.count("floor x n") == 3  # two sizes and the conclusion
    assert ("same order" in out) != ("different orders" in out)
    # compare_latent_sizes: each VAE trained, scored by ELBO and Fréchet
    rows = re.findall(
        r"z= *(\d+): +(\d+) steps, test -ELBO +([\d.]+), Fréchet +([\d.]+)", out
    )
    assert [int(z) for z, *_ in rows] == [2, 4]
    assert all(int(steps) >= 1 and float(frechet) > 0 for _, steps, _, frechet in rows)


def test_nb04_main_prints_measured_answers(capsys, eager):
    from keras_gen.text import load_corpus

    nb04.main(
        steps=3, corpus=load_corpus()[:20_000], sizes=(270, 290), jit_compile=False
    )
    out = capsys.readouterr().out
    assert out.count("tokens/char") == len(nb04.SENTENCES)
    assert "Without positions, shuffling costs" in out


def test_nb05_main_prints_measured_answers(capsys, eager):
    from keras_gen.text import load_corpus
    from keras_gen.transformer import GPTConfig
    from solutions import nb05

    tiny = {"embed_dim": 16, "num_heads": 2, "num_layers": 1}
    nb05.main(
        corpus=load_corpus()[:30_000],
        text_sizes=(2_000, None),
        small_steps=4,
        baby_steps=2,
        small=tiny,
        baby=GPTConfig(vocab_size=1, context_length=64, **tiny),
        jit_compile=False,
        eval_batches=1,
    )
    out = capsys.readouterr().out
    val = [
        float(v)
        for v in re.findall(r"Validation loss goes from ([\d.]+) to ([\d.]+)", out)[0]
    ]
    assert ("more text generalises better" in out) == (val[1] < val[0])
    gaps = re.search(r"Gap ([-+][\d.]+) -> ([-+][\d.]+) nats: the gap (\w+)", out)
    before, after, word = float(gaps.group(1)), float(gaps.group(2)), gaps.group(3)
    expected = (
        "barely"
        if abs(after - before) < 0.01
        else ("shrinks" if after < before else "grows")
    )
    assert word == expected
    bpc = dict(re.findall(r"(characters|BPE 512) *: .* -> ([\d.]+) bits", out))
    best = re.search(r"by bits per character the (characters|BPE 512) model", out)
    assert best.group(1) == min(bpc, key=lambda name: float(bpc[name]))
