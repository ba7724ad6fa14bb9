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
    ],
)
def test_fast_mode_reads_the_variable(monkeypatch, value, expected):
    monkeypatch.setenv("KERAS_GEN_FAST", value)
    assert env.fast_mode() is expected
    assert env.pick(full=30, fast=1) == (1 if expected else 30)


def test_describe_reports_versions_backend_and_devices():
    facts = env.describe()
    assert facts["backend"] == "tensorflow"
    assert "CPU" in facts["devices"]
    for key in ("python", "keras", "tensorflow", "numpy", "cpu cores"):
        assert facts[key]
