import pytest

from keras_gen import env


@pytest.mark.parametrize(
    "value, expected",
    [
        ("1", True),
        ("yes", True),
        ("", False),
        ("0", False),
        ("false", False),
        ("no", False),
        ("off", False),
        ("On", True),
    ],
)
def test_fast_mode_reads_the_variable(monkeypatch, value, expected):
    monkeypatch.setenv("KERAS_GEN_FAST", value)
    assert env.fast_mode() is expected
    assert env.pick(full=30, fast=1) == (1 if expected else 30)


def test_an_unclear_flag_is_an_error_not_a_guess(monkeypatch):
    monkeypatch.setenv("KERAS_GEN_FAST", "fast please")
    with pytest.raises(ValueError, match="Received: KERAS_GEN_FAST='fast please'"):
        env.fast_mode()


def test_describe_reports_versions_backend_and_devices():
    facts = env.describe()
    assert facts["backend"] == "tensorflow"
    assert "CPU" in facts["devices"]
    for key in ("python", "keras", "tensorflow", "numpy", "cpu cores"):
        assert facts[key]
