"""keras-gen doctor: passes here, and one clear FAIL line per broken condition."""

import collections
import shutil
from importlib import metadata

import pytest

from keras_gen import cli, doctor, env


def fails(findings):
    return [f for f in findings if f.status == doctor.FAIL]


def test_doctor_passes_on_this_machine(capsys):
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "FAIL" not in out
    for topic in ("python:", "keras:", "tensorflow:", "backend:", "devices:",
                  "fashion_mnist:", "models:", "cache:", "disk:", "speed:"):
        assert topic in out
    assert "checksums match" in out
    assert "9 shipped, hashes match" in out
    assert "02_gan" in out  # the notebooks' run-time estimates
    assert out.rstrip().splitlines()[-1].startswith("This machine can run the course")


def test_a_missing_fashion_mnist_folder_fails_with_its_fix(
    monkeypatch, tmp_path, capsys
):
    monkeypatch.setenv("KERAS_GEN_DATA", str(tmp_path / "no-such-folder"))
    findings = doctor.check_data()
    assert [f.topic for f in fails(findings)] == ["fashion_mnist"]
    line = findings[0].line()
    assert line.startswith("FAIL  fashion_mnist: not found.")
    assert "no-such-folder" in line and "which does not exist" in line
    assert "Fix: point it at the right folder (or unset KERAS_GEN_DATA)" in line
    # The command exits 1, and says so on its last line.
    assert cli.main(["doctor", "--no-speed"]) == 1
    out = capsys.readouterr().out
    assert out.count("FAIL") == 2  # the line and the verdict
    assert out.rstrip().endswith("1 problem(s) will stop the course: fix the "
                                 "FAIL lines above.")


def test_a_damaged_fashion_mnist_file_fails(monkeypatch, tmp_path, fashion_test):
    from keras_gen import data

    source = data.find_data("fashion_mnist", download=False)
    copy = tmp_path / "fashion"
    shutil.copytree(source.location, copy)
    victim = sorted(p for p in copy.iterdir() if p.name.startswith("t10k-labels"))[0]
    victim.write_bytes(victim.read_bytes()[:-1])
    monkeypatch.setenv("KERAS_GEN_DATA", str(copy))
    [finding] = doctor.check_data()
    assert finding.status == doctor.FAIL
    assert "damaged" in finding.message and victim.name in finding.message


@pytest.mark.parametrize(
    "folder, victim",
    [
        ("fashion-designer", "model.keras"),  # card: "sha256": "<hash>"
        ("pydoc-char-gpt", "tokenizer.json"),  # card: "sha256": {file: hash}
    ],
)
def test_a_damaged_model_file_fails_naming_it(tmp_path, folder, victim):
    shipped = doctor.PRETRAINED_ROOT / folder
    root = tmp_path / "pretrained"
    shutil.copytree(shipped, root / folder)
    assert doctor.check_models(root)[0].status == doctor.OK  # the intact copy
    path = root / folder / victim
    payload = bytearray(path.read_bytes())
    payload[len(payload) // 2] ^= 1  # one bit
    path.write_bytes(bytes(payload))
    findings = doctor.check_models(root)
    assert [f.topic for f in fails(findings)] == [f"model {folder}"]
    line = findings[0].line()
    assert f"{victim} is damaged or was changed" in line
    assert "Fix: restore it" in line
    (root / folder / victim).unlink()
    assert f"Missing: {victim}" in doctor.check_models(root)[0].message


def test_no_shipped_models_fails(tmp_path):
    [finding] = doctor.check_models(tmp_path / "empty")
    assert finding.status == doctor.FAIL and "no shipped models" in finding.message


def test_an_unwritable_cache_fails(monkeypatch, tmp_path):
    # A cache "folder" under a file cannot be created, even by root (for whom
    # a read-only mode would not stop a write).
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("KERAS_GEN_CACHE", str(blocker / "cache"))
    [finding] = doctor.check_cache()
    assert finding.status == doctor.FAIL
    assert "is not writable" in finding.message
    assert finding.fix == "set KERAS_GEN_CACHE to a folder you can write to"
    monkeypatch.setenv("KERAS_GEN_CACHE", str(tmp_path / "fresh"))
    assert doctor.check_cache()[0].status == doctor.OK
    assert [p.name for p in (tmp_path / "fresh" / "classifiers").iterdir()] == []


def fake_metadata(monkeypatch, versions, requires, python=">=3.11"):
    def version(name):
        if name not in versions:
            raise metadata.PackageNotFoundError(name)
        return versions[name]

    monkeypatch.setattr(metadata, "version", version)
    monkeypatch.setattr(metadata, "requires", lambda name: requires)
    monkeypatch.setattr(metadata, "metadata", lambda name: {"Requires-Python": python})


def test_a_too_old_library_fails_and_a_dev_one_warns(monkeypatch):
    fake_metadata(
        monkeypatch,
        {"keras": "3.9.0", "numpy": "2.0.0", "pytest": "7.4.0"},
        ["keras>=3.10,<4", "numpy>=1.26,<3", "matplotlib>=3.8,<4",
         'pytest<10,>=8; extra == "dev"', 'keras-hub>=0.20; extra == "hub"'],
    )
    findings = {f.topic: f for f in doctor.check_libraries()}
    assert sorted(findings) == ["keras", "matplotlib", "numpy", "pytest"]
    assert findings["keras"].line() == (
        'FAIL  keras: 3.9.0 is outside the supported range >=3.10,<4. '
        'Fix: pip install "keras>=3.10,<4"'
    )
    assert findings["numpy"].status == doctor.OK
    assert findings["matplotlib"].status == doctor.FAIL
    assert "not installed" in findings["matplotlib"].message
    assert findings["pytest"].status == doctor.WARN  # dev extra only
    assert "outside the supported range >=8,<10" in findings["pytest"].message


def test_an_unsupported_python_fails(monkeypatch):
    fake_metadata(monkeypatch, {}, [], python=">=3.99")
    [finding] = doctor.check_python()
    assert finding.status == doctor.FAIL
    assert "is outside the supported range >=3.99" in finding.message


def test_the_package_not_installed_fails(monkeypatch):
    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "requires", missing)
    monkeypatch.setattr(metadata, "metadata", missing)
    for check in (doctor.check_python, doctor.check_libraries):
        [finding] = check()
        assert finding.status == doctor.FAIL and "not installed" in finding.message
        assert "tools/course.py setup" in finding.fix


@pytest.mark.parametrize(
    "free_gb, status", [(0.2, doctor.FAIL), (2.0, doctor.WARN), (50.0, doctor.OK)]
)
def test_low_disk_space(monkeypatch, free_gb, status):
    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(
        shutil, "disk_usage", lambda path: usage(100e9, 100e9 - free_gb * 1e9,
                                                 free_gb * 1e9)
    )
    [finding] = doctor.check_disk()
    assert finding.status == status
    assert f"{free_gb:.1f} GB free" in finding.message
    if status == doctor.FAIL:
        assert "the course needs at least 1 GB" in finding.line()
    assert doctor.exit_status([finding]) == int(status == doctor.FAIL)


def test_speed_lists_every_notebook_and_warns_when_slow():
    runtimes = env.notebook_estimates(100.0)
    assert len(runtimes) >= 12 and "00_setup_check" in runtimes
    [fast] = doctor.check_speed(gflops=1000.0)
    assert fast.status == doctor.OK
    assert len(fast.details) == len(runtimes)
    [slow] = doctor.check_speed(gflops=5.0)
    assert slow.status == doctor.WARN and "fast mode" in slow.fix
    assert "all notebooks in full mode: about" in slow.message


def test_estimates_refuse_a_speed_that_is_not_positive():
    message = r"Expected gflops > 0 \(a measured speed\)\. Received: gflops=0\.0"
    with pytest.raises(ValueError, match=message):
        env.notebook_estimates(0.0, {})


def test_a_check_that_crashes_is_a_fail_line_not_a_traceback(monkeypatch):
    for name in ("check_python", "check_libraries", "check_backend", "check_data",
                 "check_models", "check_disk"):
        monkeypatch.setattr(doctor, name, lambda: [])

    def broken():
        raise RuntimeError("boom")

    monkeypatch.setattr(doctor, "check_cache", broken)
    [finding] = doctor.run_checks(speed=False)
    assert finding.status == doctor.FAIL
    assert "the check itself failed (RuntimeError: boom)" in finding.message
