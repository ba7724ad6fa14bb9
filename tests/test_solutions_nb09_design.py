"""The design exercises of notebook 09 run and do what they claim."""

import numpy as np
import pytest

from keras_gen import conditional as cond
from solutions import nb09_design


def test_design_confusions_by_hand():
    confusion = np.array([[0.7, 0.3, 0.0], [0.1, 0.9, 0.0], [0.0, 0.0, np.nan]])
    mistakes = nb09_design.design_confusions(confusion, ["a", "b", "c"], top=2)
    assert mistakes == [("a", "b", 0.3), ("b", "a", pytest.approx(0.1))]


def test_temperature_one_is_generate_and_zero_is_one_design():
    model = cond.ConditionalVAE(
        cond.build_conditional_encoder(4, hidden_units=(8,)),
        cond.build_conditional_decoder(4, hidden_units=(8,)),
    )
    np.testing.assert_allclose(
        nb09_design.generate_with_temperature(model, [5, 7], n=3, seed=2),
        cond.generate(model, [5, 7], n=3, seed=2),
        atol=1e-6,
    )
    frozen = nb09_design.generate_with_temperature(model, "Sandal", 3, temperature=0)
    np.testing.assert_allclose(frozen[0], frozen[2], atol=1e-6)
    with pytest.raises(ValueError, match="Expected temperature >= 0"):
        nb09_design.generate_with_temperature(model, 5, temperature=-1.0)
