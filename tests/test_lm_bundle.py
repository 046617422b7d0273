"""Training data for the code model: the bundle that carries it to another machine, the packed
plain windows, the per-package cap, and a schedule fitted to the time (tiny settings)."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import numpy as np
import pytest

from bowerbird.cli import main
from bowerbird.learners.lm.bundle import BundleError, read_bundle, write_bundle
from bowerbird.learners.lm.corpus import CorpusFile, cap_per_package
from bowerbird.learners.lm.data import EOT, build_sequences
from bowerbird.learners.lm.train import TrainConfig, fitted_steps, learning_rate, snapshot_steps, train

TEXTS = [f"def f{i}(x):\n    return x + {i}\n\n\nclass C{i}:\n    value = {i}\n" for i in range(40)]


@pytest.fixture(scope="module")
def tokenizer(tiny_model):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model)


def _corpus(root: Path) -> list[CorpusFile]:
    files = []
    for package, count in (("alpha", 3), ("beta", 5)):
        for i in range(count):
            path = root / package / f"m{i}.py"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"# {package} {i}\n" + "x = 1\n" * 50)
            files.append(CorpusFile(package, path, root))
    return files


def test_bundle_round_trip_keeps_texts_examples_and_packages(tmp_path):
    files = _corpus(tmp_path / "lib")
    out = tmp_path / "data.tar.xz"
    manifest = write_bundle(out, files, ["ctx\n<fim_prefix>a = <fim_suffix><fim_middle>1\n", "two"], {"python": "3.11"})
    assert manifest["files"] == 8 and manifest["rlpg_examples"] == 2 and manifest["packages"] == ["alpha", "beta"]
    bundle = read_bundle(out)
    assert bundle.manifest["python"] == "3.11" and bundle.manifest["files"] == 8
    assert bundle.rlpg == ["ctx\n<fim_prefix>a = <fim_suffix><fim_middle>1\n", "two"]
    assert sorted(p for p, _ in bundle.texts) == ["alpha"] * 3 + ["beta"] * 5
    assert ("beta", files[3].path.read_text()) in bundle.texts
    assert not out.with_name(out.name + ".partial").exists()


@pytest.mark.parametrize("content", [b"", b"not an archive", None])
def test_a_file_that_is_not_a_bundle_is_a_clear_error(tmp_path, content):
    path = tmp_path / "bad.tar.xz"
    if content is None:  # a real archive without a manifest
        with tarfile.open(path, "w:xz") as archive:
            archive.add(__file__, arcname="corpus/x/y.py")
    else:
        path.write_bytes(content)
    with pytest.raises(BundleError, match="bundle"):
        read_bundle(path)


def test_train_lm_refuses_a_bad_or_missing_bundle(tmp_path, capsys):
    (tmp_path / "bad.tar.xz").write_text("nope")
    assert main(["train", "lm", "--run", str(tmp_path / "run"), "--bundle", str(tmp_path / "bad.tar.xz")]) == 2
    assert "not a readable training bundle" in capsys.readouterr().err
    assert main(["train", "lm", "--run", str(tmp_path / "run2"), "--bundle", str(tmp_path / "missing.tar.xz")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["train", "lm", "--run", str(tmp_path / "run3"), "--fit-schedule"]) == 2
    assert "--minutes" in capsys.readouterr().err
    for shares in (["--rlpg-share", "0.6", "--fim-share", "0.5"], ["--rlpg-share", "1.5"], ["--fim-share", "-0.1"]):
        assert main(["train", "lm", "--run", str(tmp_path / "run4"), *shares]) == 2
        assert "share" in capsys.readouterr().err
    assert not (tmp_path / "run4").exists()  # refused before any work
    (tmp_path / "ok.tar.xz").write_text("not read: refused before")
    assert main(["train", "lm", "--run", str(tmp_path / "run5"), "--bundle", str(tmp_path / "ok.tar.xz"),
                 "--rlpg-context", "useful"]) == 2
    assert "--rlpg-context: these shape RLPG examples composed here" in capsys.readouterr().err


def test_cap_per_package_keeps_at_most_the_cap_of_each_package(tmp_path):
    files = _corpus(tmp_path)
    size = files[0].path.stat().st_size
    kept = cap_per_package(files, max_bytes=2 * size, seed=0)
    assert [f.package for f in kept].count("alpha") == 2 and [f.package for f in kept].count("beta") == 2
    assert kept == [f for f in files if f in kept]  # order kept
    assert cap_per_package(files, max_bytes=1, seed=0) and len(cap_per_package(files, 1, 0)) == 2  # one each at least
    assert cap_per_package(files, max_bytes=10**9) == files


def test_plain_windows_are_a_packed_stream_of_whole_files(tokenizer):
    eot = tokenizer.convert_tokens_to_ids(EOT)
    sequences = build_sequences(tokenizer, TEXTS, 12, 32, mix=(1.0, 0.0, 0.0), seed=0)
    assert sequences.shape == (12, 32) and sequences.dtype == np.uint16
    for row in sequences.tolist():  # no padding: files follow each other, one end-of-text between
        assert not any(a == b == eot for a, b in zip(row, row[1:]))
        pieces = tokenizer.decode(row).split(EOT)
        if len(pieces) == 1:  # inside one file
            assert any(pieces[0] in t for t in TEXTS)
            continue
        assert any(t.endswith(pieces[0]) for t in TEXTS) and any(t.startswith(pieces[-1]) for t in TEXTS)
        assert all(piece in TEXTS for piece in pieces[1:-1])


def test_rlpg_examples_repeat_when_fewer_than_the_mix_asks(tokenizer):
    examples = ["# a\nalpha = 1\n", "# b\nbeta = 2\n"]
    sequences = build_sequences(tokenizer, TEXTS, 10, 32, mix=(0.0, 0.0, 1.0), rlpg=examples, seed=0)
    decoded = sorted(tokenizer.decode([t for t in row if t != tokenizer.convert_tokens_to_ids(EOT)]) for row in sequences)
    assert decoded == sorted(examples * 5)


def test_no_texts_is_an_error(tokenizer):
    with pytest.raises(ValueError, match="no training texts"):
        build_sequences(tokenizer, [], 4, 32)


def test_fitted_schedule_and_snapshot_steps():
    assert fitted_steps(done=23, seconds_per_step=0.5, seconds_left=100, warmup=10) == 223
    assert fitted_steps(done=23, seconds_per_step=0.5, seconds_left=-5, warmup=10) == 24  # out of time: end now
    assert fitted_steps(done=3, seconds_per_step=1.0, seconds_left=2, warmup=50) == 51  # never inside the warm-up
    assert snapshot_steps(300, 2) == {100, 200}
    assert snapshot_steps(300, 0) == set() and snapshot_steps(2, 3) == {1}


def test_a_fitted_run_ends_its_schedule_in_time_and_keeps_snapshots(tmp_path, tokenizer, one_torch_thread):
    sequences = build_sequences(tokenizer, TEXTS, 16, 32, mix=(1.0, 0.0, 0.0), seed=0)
    config = TrainConfig(layers=1, width=16, heads=2, block=32, batch=4, steps=100000, lr=5e-3, warmup=2, checkpoint_every=10**6)
    state = train(tmp_path, sequences, tokenizer, config, device="cpu", max_minutes=0.5, fit_schedule=True, snapshots=2)
    steps = state["config"]["steps"]
    # The schedule was fitted to the time; the run ends with it, or (on a machine that slowed
    # down after the probe) near it, when the clock stops it.
    assert 23 < steps < 100000 and 0.5 * steps <= state["step"] <= steps
    assert learning_rate(steps - 1, TrainConfig(**state["config"])) == pytest.approx(5e-4, rel=0.01)  # at its floor
    kept = sorted(int(p.name.split("-")[1]) for p in (tmp_path / "snapshots").iterdir())
    assert kept == sorted(s for s in snapshot_steps(steps, 2) if s <= state["step"]) and kept
    snap = tmp_path / "snapshots" / f"step-{kept[0]}"
    assert json.loads((snap / "train_state.json").read_text())["step"] == kept[0]
    assert json.loads((snap / "config.json").read_text())["dtype"] == "float16"


@pytest.mark.parametrize("settings, forced, expected", [
    (None, None, "starcoder"),
    ('{"fill_in_the_middle": false}', None, None),
    ('{"fill_in_the_middle": false}', True, "starcoder"),
    (None, False, None),
    ("{not json", None, "starcoder"),  # a broken settings file is ignored, not fatal
    ("[1, 2]", None, "starcoder"),
])
def test_a_checkpoint_can_turn_fill_in_the_middle_off(tmp_path, tiny_model, settings, forced, expected):
    import shutil

    from bowerbird.learners.lm.loading import load_backend

    folder = tmp_path / "model"
    shutil.copytree(tiny_model, folder)
    if settings is not None:
        (folder / "bowerbird.json").write_text(settings)
    backend = load_backend("transformers", str(folder), fim=forced)
    assert (backend.fim.family if backend.fim else None) == expected
