"""The design exercises of notebook 09 run and do what they claim."""

import numpy as np
import pytest

from keras_gen import conditional
from keras_gen import conditional as cond
from solutions import nb09_design


def test_design_confusions_by_hand():
    confusion = np.array([[0.7, 0.3, 0.0], [0.1, 0.9, 0.0], [0.0, 0.0, np.nan]])
    mistakes = nb09_design.design_confusions(confusion, ["a", "b", "c"], top=2)
    assert mistakes == [("a", "b", 0.3), ("b", "a", pytest.approx(0.1))]


def test_generate_temperature_scales_the_noise():
    model = cond.ConditionalVAE(
        cond.build_conditional_encoder(4, hidden_units=(8,)),
        cond.build_conditional_decoder(4, hidden_units=(8,)),
    )
    frozen = cond.generate(model, "Sandal", 3, temperature=0)
    np.testing.assert_allclose(frozen[0], frozen[2], atol=1e-6)
    warm = cond.generate(model, "Sandal", 3)
    assert not np.allclose(warm[0], warm[2], atol=1e-6)
    with pytest.raises(ValueError, match="Expected temperature >= 0"):
        cond.generate(model, 5, temperature=-1.0)


def test_truncation_tradeoff_on_the_shipped_designer():
    model, _ = conditional.load_designer()
    rows = nb09_design.truncation_tradeoff(model, (1.0, 0.3), n=128)
    assert [row["temperature"] for row in rows] == [1.0, 0.3]
    warm, cold = rows
    # Colder noise: more recognisable, less like the real spread of images.
    assert cold["adherence"] > warm["adherence"]
    assert cold["frechet"] > warm["frechet"]
    with pytest.raises(ValueError, match="at least one temperature"):
        nb09_design.truncation_tradeoff(model, ())


def test_main_prints_a_measured_answer_to_exercise_9_1(capsys):
    import re

    nb09_design.main(per_class=128, real_images=2000)
    out = capsys.readouterr().out
    rows = re.findall(r"judged .* ([\d.]+)% .*: +([\d.]+)% ", out)
    assert len(rows) == 3
    average = float(re.search(r"average mistake .* is ([\d.]+)%", out).group(1))
    alike = sum(float(on_real) > average for _, on_real in rows)
    # The verdict counts the mistakes the printed numbers call "alike".
    assert f"{alike} of the 3 mistakes" in out
    shares = [float(share) for share, _ in rows]
    assert shares == sorted(shares, reverse=True)
