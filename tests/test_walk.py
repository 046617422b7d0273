"""The walk: ignore files at every level, caller excludes, built-in exclusions, languages."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bowerbird.analysis.walk import DEFAULT_EXCLUDED_DIRS, IgnoreRules, walk


def make_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def walked(root: Path, exclude: tuple[str, ...] = ()) -> list[str]:
    return [f.path for f in walk(root, exclude).files]


def test_nested_gitignores_deeper_file_overrides_shallower(tmp_path):
    root = make_tree(tmp_path, {
        ".gitignore": "secret.py\nlocal_*.py\n",
        "a/.gitignore": "!secret.py\n",
        "a/b/.gitignore": "!local_keep.py\nonly_here.py\n",
        "secret.py": "",
        "local_x.py": "",
        "only_here.py": "",
        "a/secret.py": "",
        "a/local_y.py": "",
        "a/only_here.py": "",
        "a/b/secret.py": "",
        "a/b/local_keep.py": "",
        "a/b/local_z.py": "",
        "a/b/only_here.py": "",
        "a/b/c/only_here.py": "",
        "a/b/c/plain.py": "",
    })
    assert walked(root) == [
        "a/b/c/plain.py",
        "a/b/local_keep.py",  # re-included by a/b/.gitignore
        "a/b/secret.py",  # re-included by a/.gitignore, which applies below it too
        "a/only_here.py",  # a/b/.gitignore does not reach up
        "a/secret.py",
        "only_here.py",
    ]


def test_negation_within_one_file_last_match_wins(tmp_path):
    root = make_tree(tmp_path, {
        ".gitignore": "*.py\n!keep.py\n",
        "keep.py": "",
        "drop.py": "",
        "pkg/keep.py": "",
        "pkg/drop.py": "",
    })
    assert walked(root) == ["keep.py", "pkg/keep.py"]
    rules = IgnoreRules(root)
    assert rules.ignored("drop.py", is_dir=False) is True
    assert rules.ignored("keep.py", is_dir=False) is False


def test_directory_patterns_prune_at_any_depth_but_not_files(tmp_path):
    root = make_tree(tmp_path, {
        ".gitignore": "build/\n/top_only/\n",
        "build/x.py": "",
        "src/build/y.py": "",
        "src/build.py": "",  # `build/` matches directories only
        "top_only/z.py": "",
        "src/top_only/w.py": "",  # anchored pattern: only at the root
    })
    assert walked(root) == ["src/build.py", "src/top_only/w.py"]
    rules = IgnoreRules(root)
    assert rules.ignored("build", is_dir=True) is True
    assert rules.ignored("build", is_dir=False) is False


def test_ignored_directory_is_pruned_even_with_negated_file_inside(tmp_path):
    # As in git: a file cannot be re-included when its directory is excluded.
    root = make_tree(tmp_path, {
        ".gitignore": "out/\n!out/keep.py\n",
        "out/keep.py": "",
        "ok.py": "",
    })
    assert walked(root) == ["ok.py"]


def test_bowerbirdignore_adds_to_and_overrides_gitignore(tmp_path):
    root = make_tree(tmp_path, {
        ".gitignore": "gen_*.py\n",
        ".bowerbirdignore": "!gen_keep.py\nscratch.py\nfixtures/\n",
        "gen_a.py": "",
        "gen_keep.py": "",
        "scratch.py": "",
        "fixtures/f.py": "",
        "real.py": "",
        "sub/.bowerbirdignore": "*.java\n",
        "sub/A.java": "class A {}",
        "sub/b.py": "",
    })
    assert walked(root) == ["gen_keep.py", "real.py", "sub/b.py"]


def test_exclude_patterns_from_the_caller(tmp_path):
    root = make_tree(tmp_path, {
        "vendor/lib.py": "",
        "pkg/vendor/lib.py": "",
        "pkg/mod.py": "",
        "pkg/mod_test.py": "",
        "top.py": "",
        "pkg/top.py": "",
    })
    assert walked(root) == ["pkg/mod.py", "pkg/mod_test.py", "pkg/top.py", "pkg/vendor/lib.py", "top.py", "vendor/lib.py"]
    assert walked(root, ("vendor/", "*_test.py", "/top.py")) == ["pkg/mod.py", "pkg/top.py"]
    rules = IgnoreRules(root, ("vendor/",))
    assert rules.ignored("pkg/vendor", is_dir=True) is True
    assert rules.ignored("pkg/vendor.py", is_dir=False) is False


@pytest.mark.parametrize("name", [".git", "__pycache__", "node_modules", ".tox", ".mypy_cache", ".hypothesis"])
def test_default_excluded_dirs(tmp_path, name):
    assert name in DEFAULT_EXCLUDED_DIRS
    root = make_tree(tmp_path, {f"{name}/x.py": "", f"pkg/{name}/y.py": "", "pkg/z.py": ""})
    assert walked(root) == ["pkg/z.py"]


def test_virtualenvs_are_pruned_whatever_their_name(tmp_path):
    root = make_tree(tmp_path, {
        "env/pyvenv.cfg": "home = /usr/bin\n",
        "env/lib/python3.11/site-packages/dep.py": "",
        "tools/.venv-x/pyvenv.cfg": "",
        "tools/.venv-x/bin/activate_this.py": "",
        "tools/run.py": "",
        "pyvenv_cfg_is_not_a_dir/mod.py": "",
    })
    assert walked(root) == ["pyvenv_cfg_is_not_a_dir/mod.py", "tools/run.py"]


def test_results_are_sorted_and_describe_the_files(tmp_path):
    root = make_tree(tmp_path, {
        "z.py": "z = 1\n",
        "a.py": "",
        "a/b.py": "",
        "A/c.py": "",
        "m/n/o/p.py": "",
        "m/Main.java": "class Main {}",
        "a_b.py": "",
    })
    found = walk(root)
    paths = [f.path for f in found.files]
    assert paths == sorted(paths)
    assert set(paths) == {"z.py", "a.py", "a/b.py", "A/c.py", "m/n/o/p.py", "m/Main.java", "a_b.py"}
    z = next(f for f in found.files if f.path == "z.py")
    info = os.stat(root / "z.py")
    assert (z.abspath, z.size, z.mtime_ns, z.language) == (str(root / "z.py"), 6, info.st_mtime_ns, "python")
    assert not found.skipped


def test_language_detection_by_extension(tmp_path):
    root = make_tree(tmp_path, {
        "a.py": "",
        "B.java": "",
        "c.pyi": "",
        "d.pyc": "",
        "e.js": "",
        "f.txt": "",
        "Makefile": "",
        "g.PY": "",
        "h.py.bak": "",
        "java/I.java": "",
    })
    languages = {f.path: f.language for f in walk(root).files}
    assert languages == {"a.py": "python", "B.java": "java", "java/I.java": "java"}


def test_unknown_extension_is_not_counted_as_skipped(tmp_path):
    root = make_tree(tmp_path, {"a.txt": "", "b.js": "", "c.py": ""})
    result = walk(root)
    assert [f.path for f in result.files] == ["c.py"]
    assert sum(result.skipped.values()) == 0


def test_generated_file_names_are_skipped_by_the_walk(tmp_path):
    root = make_tree(tmp_path, {"msg_pb2.py": "", "msg_pb2_grpc.py": "", "ok_pb.py": "", "x.generated.java": ""})
    result = walk(root)
    assert [f.path for f in result.files] == ["ok_pb.py"]
    assert result.skipped["generated"] == 3


def test_ignore_file_with_invalid_utf8_is_still_read(tmp_path):
    root = make_tree(tmp_path, {"a.py": "", "b.py": ""})
    (root / ".gitignore").write_bytes(b"# caf\xe9\nb.py\n")
    assert walked(root) == ["a.py"]


def test_symlinked_directory_inside_root_is_walked_once(tmp_path):
    root = make_tree(tmp_path, {"real/m.py": "", "real/n.py": ""})
    os.symlink("real", root / "alias")
    result = walk(root)
    paths = [f.path for f in result.files]
    assert len(paths) == 2 and {p.rpartition("/")[0] for p in paths} in ({"real"}, {"alias"})
    assert sorted(p.rpartition("/")[2] for p in paths) == ["m.py", "n.py"]
    assert result.skipped["symlink_loop"] == 1
