"""Misuse data: bug synthesis invariants (checked against the program-graph builder), the rules
for sites and replacements, determinism, size caps, the JSON Lines files and the CLI."""

from __future__ import annotations

import gzip
import json
import random
import sysconfig
import textwrap
from pathlib import Path

import pytest

from bowerbird.analysis.graphs import Access, NodeType, build_graphs, graph_for_function
from bowerbird.cli import main
from bowerbird.learners.misuse.data import (
    Bug,
    MisuseExample,
    from_json,
    read_examples,
    to_json,
    write_examples,
)
from bowerbird.learners.misuse.synthesis import (
    Site,
    analyse,
    count_tokens,
    file_examples,
    file_functions,
    paired_examples,
    replace_name,
    synthesize,
)

FUNCTIONS = [
    """\
    def total(items, start):
        count = start
        for item in items:
            count = count + item
        return count
    """,
    """\
    def scale(self, values, factor=2):
        out = []
        for value in values:
            out.append(value * factor + self.offset)
        return out
    """,
    """\
    def pairs(xs, ys, limit):
        found = [(x, y) for x in xs for y in ys if x + y < limit]
        n = len(found)
        while n > limit:
            n -= 1
            last = found[n]
        return n, found
    """,
    """\
    def parse(text, sep):
        try:
            head, tail = text.split(sep, 1)
        except ValueError as error:
            raise ValueError(text) from error
        with open(head) as stream:
            data = stream.read()
        if (size := len(data)) > len(tail):
            return data[:size]
        return tail
    """,
    """\
    @decorate(option=True)
    def fancy(alpha, beta, *rest, gamma=None, **extra):
        label = "ééé" + alpha\t+ beta + alpha
        def inner(z):
            return z + alpha
        return inner(label) if gamma else (rest, extra, label, alpha)
    """,
]
FUNCTIONS = [textwrap.dedent(f) for f in FUNCTIONS]


def function_graph(source: str):
    graphs = build_graphs(source)
    assert graphs[1].kind == "function"
    return graphs[1]


def name_nodes(source: str) -> dict[tuple[int, int], dict]:
    return {(d["line"], d["col"]): d for _, d in function_graph(source).graph.nodes(data=True)
            if d["ast_type"] == "Name"}  # fmt: skip


class Pick(random.Random):
    """An rng that makes the example buggy at a given site with a given replacement."""

    def __init__(self, site: Site, wrong: str) -> None:
        super().__init__(0)
        self.site, self.wrong = site, wrong

    def random(self) -> float:
        return 0.0

    def choice(self, seq):  # type: ignore[override]
        return self.site if self.site in seq else self.wrong


def every_bug(source: str, replacements_per_site: int | None = None) -> list[MisuseExample]:
    """One buggy example per (site, replacement) of a function (or the first and last few)."""
    analysis = analyse(source)
    out = []
    for site in analysis.sites:
        wrongs = site.replacements
        if replacements_per_site is not None and len(wrongs) > replacements_per_site:
            wrongs = wrongs[:1] + wrongs[-(replacements_per_site - 1) :]
        for wrong in wrongs:
            out.append(synthesize(source, Pick(site, wrong), function="f", analysis=analysis))
    return out


def check_bug(example: MisuseExample, original: str) -> None:
    """The invariants of one buggy example, against the graph built from its source."""
    bug = example.bug
    assert bug is not None and bug.wrong != bug.correct
    nodes = name_nodes(example.source)  # the buggy source parses (build_graphs would raise)
    site = nodes[(bug.line, bug.col)]
    assert site["text"] == bug.wrong
    assert site["access"] is Access.READ  # the bug site is a read
    assert example.repair_targets
    for target in example.repair_targets:
        assert nodes[target]["text"] == bug.correct
        assert nodes[target]["access"] is not Access.NONE
    assert bug.wrong in example.candidates and bug.correct in example.candidates
    assert list(example.candidates) == sorted(set(example.candidates))
    assert "self" not in example.candidates and "cls" not in example.candidates
    assert replace_name(example.source, bug.line, bug.col, bug.wrong, bug.correct) == original
    graph = function_graph(example.source)
    ast_nodes = sum(1 for _, d in graph.graph.nodes(data=True) if d["node_type"] in (NodeType.SYNTAX, NodeType.TOKEN))
    assert example.nodes == ast_nodes


@pytest.mark.parametrize("source", FUNCTIONS, ids=lambda s: s.split("(")[0].split()[-1])
def test_every_synthesized_bug_parses_points_at_names_and_reverts(source):
    bugs = every_bug(source)
    assert bugs
    for example in bugs:
        check_bug(example, source)


def test_positions_count_characters_and_later_names_on_the_bug_line_shift():
    source = FUNCTIONS[4]  # `label = "ééé" + alpha\t+ beta + alpha`
    analysis = analyse(source)
    site = next(s for s in analysis.sites if (s.line, s.col) == (3, 20))
    assert site.correct == "alpha"
    example = synthesize(source, Pick(site, "beta"), analysis=analysis)
    assert example.source.splitlines()[2] == '    label = "ééé" + beta\t+ beta + alpha'
    assert (3, 34) in example.repair_targets  # the later `alpha` (column 35), moved by 4 - 5
    check_bug(example, source)


def test_stdlib_functions_give_valid_bugs_and_the_graph_agrees_on_the_function():
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    checked = 0
    for name in ("textwrap.py", "shlex.py", "fnmatch.py"):
        for function in file_functions((stdlib / name).read_text(encoding="utf-8"), name):
            if count_tokens(function.source) > 512 or analyse(function.source).nodes > 400:
                continue
            graph = graph_for_function(function.source, function.qualname.split(".")[-1])
            assert graph.qualname == function.qualname.split(".")[-1]
            for example in every_bug(function.source, replacements_per_site=2):
                check_bug(example, function.source)
                checked += 1
    assert checked > 200


def test_a_variable_bound_only_after_the_site_is_never_the_replacement():
    source = textwrap.dedent(
        """\
        def f(items):
            total = len(items)
            return total
        """
    )
    analysis = analyse(source)
    # `items` on line 2: `total` is bound by that same statement, after the read
    assert [(s.line, s.correct, s.replacements) for s in analysis.sites] == [(3, "total", ("items",))]
    for seed in range(20):
        example = synthesize(source, random.Random(seed))
        assert example.bug is None or (example.bug.line, example.bug.wrong) == (3, "items")


def test_bound_before_on_some_path_follows_the_control_flow():
    source = textwrap.dedent(
        """\
        def f(flag, n):
            prev = 0
            while n:
                use(prev)
                cur = n
                n -= 1
            if flag:
                a = 1
                return a + prev
            else:
                b = 2
                return b + prev
        """
    )
    sites = {(s.line, s.col): s for s in analyse(source).sites}
    assert "cur" in sites[(4, 12)].replacements  # bound later in source order, but around the loop
    assert "a" not in sites[(12, 15)].replacements  # bound on the other branch only
    assert "b" not in sites[(9, 15)].replacements
    assert "b" in sites[(12, 19)].replacements


def test_never_self_cls_globals_imports_builtins_or_nested_scopes():
    source = textwrap.dedent(
        """\
        def method(self, cls, a):
            import os
            global G
            G = a
            b = len(a)
            def helper():
                return a
            ys = [b + k for k in a]
            n = 1
            zs = [a + n for n in range(b)]
            lam = lambda q: q + b
            return os.path.join(self.x, cls.y, a, b, ys, zs, lam, helper)
        """
    )
    analysis = analyse(source)
    assert analysis.variables == ("a", "b", "lam", "n", "ys", "zs")
    for site in analysis.sites:
        assert site.correct not in ("self", "cls", "k", "q")
        assert not {"self", "cls", "os", "G", "len", "helper", "k", "q"} & set(site.replacements)
    # in `[a + n for n in range(b)]` the local `n` is shadowed: never written in there
    inside = next(s for s in analysis.sites if (s.line, s.col) == (10, 10))
    assert inside.correct == "a" and "n" not in inside.replacements
    # the comprehension's own `n` is neither a site nor a repair target of the local `n`
    assert analysis.occurrences["n"] == ((9, 4),)
    for example in every_bug(source):
        check_bug(example, source)


def test_half_of_the_corruptible_functions_are_buggy():
    text = "\n\n".join(
        f"def f{i}(a, b):\n    c = a + b\n    return c * a\n" for i in range(400)
    ) + "\n\ndef lonely(x):\n    return x\n"  # fmt: skip
    examples, counts = file_examples(text, "m.py", "m", seed=3)
    assert counts["functions"] == 401 and counts["not_corruptible"] == 1
    assert counts["buggy"] + counts["clean"] == 401 == len(examples)
    assert 160 <= counts["buggy"] <= 240
    lonely = next(e for e in examples if e.function == "lonely")
    assert lonely.bug is None and lonely.candidates == ("x",) and lonely.repair_targets == ()


def test_examples_are_deterministic_per_seed_and_differ_between_seeds():
    text = "\n\n".join(FUNCTIONS * 10)
    first, _ = file_examples(text, "m.py", "m", seed=7)
    again, _ = file_examples(text, "m.py", "m", seed=7)
    other, _ = file_examples(text, "m.py", "m", seed=8)
    assert first == again
    assert first != other
    assert [e.id for e in first[:6]] == ["m.py:total", "m.py:scale", "m.py:pairs", "m.py:parse", "m.py:fancy",
                                         "m.py:fancy.<locals>.inner"]  # fmt: skip
    assert first[6].id == "m.py:total#2"


def test_functions_are_cut_out_dedented_with_decorators():
    text = textwrap.dedent(
        '''\
        class A:
            # a comment
            @property
            def f(self, x):
                """doc
        at column 0"""
                return x  # trailing
        '''
    )
    (function,) = file_functions(text)
    assert function.qualname == "A.f" and function.line == 3
    assert function.source == '@property\ndef f(self, x):\n    """doc\nat column 0"""\n    return x  # trailing\n'
    plain = text.replace("at column 0", "    at column 0")
    assert file_functions(plain)[0].source == textwrap.dedent("\n".join(plain.splitlines()[2:]) + "\n")


def test_size_caps_are_counted():
    big = "def big(a):\n" + "".join(f"    v{i} = a + {i}\n" for i in range(60)) + "    return a\n"
    text = FUNCTIONS[0] + "\n" + big
    assert count_tokens(big) > 300
    _, counts = file_examples(text, "m.py", "m", seed=0, max_tokens=300)
    assert (counts["too_large_tokens"], counts["too_large_nodes"], counts["functions"]) == (1, 0, 2)
    examples, counts = file_examples(text, "m.py", "m", seed=0, max_tokens=10_000, max_nodes=100)
    assert (counts["too_large_tokens"], counts["too_large_nodes"]) == (0, 1)
    assert [e.function for e in examples] == ["total"] and examples[0].nodes <= 100
    assert examples[0].tokens == count_tokens(FUNCTIONS[0])


def test_jsonl_round_trip(tmp_path):
    examples, _ = file_examples("\n\n".join(FUNCTIONS * 3), "pkg/m.py", "pkg", seed=1)
    assert any(e.bug for e in examples) and any(e.bug is None for e in examples)
    path = tmp_path / "out" / "train.jsonl.gz"
    assert write_examples(path, examples) == len(examples)
    assert read_examples(path) == examples
    assert [from_json(json.loads(json.dumps(to_json(e)))) for e in examples] == examples
    assert not [p.name for p in path.parent.iterdir() if p.name != "train.jsonl.gz"]  # no temporary left
    bug = Bug(4, 16, "start", "count")
    assert to_json(MisuseExample("t.py:f", "t", "t.py", "f", "x", bug, ((2, 4),), ("count", "start"), 3, 5))[
        "bug"] == {"line": 4, "col": 16, "wrong": "start", "correct": "count"}  # fmt: skip


def test_a_corrupt_or_truncated_file_is_a_clear_value_error(tmp_path):
    examples, _ = file_examples("\n\n".join(FUNCTIONS * 20), "m.py", "m", seed=1)
    good = tmp_path / "good.jsonl.gz"
    write_examples(good, examples)
    data = good.read_bytes()
    truncated = tmp_path / "truncated.jsonl.gz"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"truncated\.jsonl\.gz: line \d+: "):
        read_examples(truncated)
    garbage = tmp_path / "garbage.jsonl.gz"
    garbage.write_bytes(b"not gzip at all\n")
    with pytest.raises(ValueError, match=r"garbage\.jsonl\.gz: line 1: corrupt or truncated"):
        read_examples(garbage)
    bad_line = tmp_path / "bad.jsonl.gz"
    lines = gzip.decompress(data).split(b"\n")
    lines[2] = b'{"id": "x"}'
    bad_line.write_bytes(gzip.compress(b"\n".join(lines)))
    with pytest.raises(ValueError, match=r"bad\.jsonl\.gz: line 3: not a misuse example \(missing field"):
        read_examples(bad_line)
    cut_line = tmp_path / "cut.jsonl.gz"
    cut_line.write_bytes(gzip.compress(gzip.decompress(data)[:-5]))
    with pytest.raises(ValueError, match=rf"cut\.jsonl\.gz: line {len(examples)}: truncated"):
        read_examples(cut_line)


REPO = {
    "pkg/__init__.py": "",
    "pkg/calc.py": FUNCTIONS[0] + "\n\n" + FUNCTIONS[2] + "\n\ndef lonely(x):\n    return x\n",
    "pkg/text.py": FUNCTIONS[3] + "\n\n" + FUNCTIONS[4],
    "tool.py": FUNCTIONS[1].replace("def scale(self,", "def scale(this,"),
    "broken.py": "def oops(:\n    pass\n",
}


@pytest.fixture
def repo(tmp_path) -> Path:
    root = tmp_path / "repo"
    for name, text in REPO.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    (root / "latin.py").write_bytes(b"x = '\xe9'\n")  # not UTF-8, no coding cookie
    return root


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_makes_the_data_of_a_repo(repo, tmp_path, capsys):
    out = tmp_path / "data"
    code, stdout, _ = run_cli(["train", "misuse", "--make-data", "--out", str(out), "--repo", str(repo),
                               "--seed", "4", "--json"], capsys)  # fmt: skip
    assert code == 0
    manifest = json.loads(stdout)
    assert json.loads((out / "manifest.json").read_text()) == manifest
    assert manifest["settings"]["source"] == "repo" and manifest["settings"]["seed"] == 4
    counts = manifest["splits"]["repo"]
    assert counts["file"] == "repo.jsonl.gz"
    assert (counts["available_files"], counts["files"], counts["unparsable_files"], counts["unreadable_files"]) == (
        6, 4, 1, 1)  # fmt: skip
    assert counts["functions"] == 7  # total, pairs, lonely, parse, fancy, fancy.<locals>.inner, scale
    assert counts["not_corruptible"] == 2  # lonely, fancy.<locals>.inner (one variable each)
    examples = read_examples(out / "repo.jsonl.gz")
    assert counts["examples"] == len(examples) == 7 == counts["buggy"] + counts["clean"]
    assert counts["buggy"] == sum(1 for e in examples if e.bug)
    assert {e.package for e in examples} == {"pkg", "tool"} and counts["packages"] == 2
    assert {e.id for e in examples} >= {"pkg/calc.py:total", "pkg/text.py:fancy.<locals>.inner", "tool.py:scale"}
    originals = {f"{p}:{f.qualname}": f.source for p, text in REPO.items() if p != "broken.py"
                 for f in file_functions(text)}  # fmt: skip
    for example in examples:
        if example.bug:
            check_bug(example, originals[example.id])
        else:
            assert example.source == originals[example.id]

    same = tmp_path / "same"
    assert run_cli(["train", "misuse", "--make-data", "--out", str(same), "--repo", str(repo), "--seed", "4"],
                   capsys)[0] == 0  # fmt: skip
    for name in ("repo.jsonl.gz", "manifest.json"):
        assert (same / name).read_bytes() == (out / name).read_bytes()
    capped = tmp_path / "capped"
    code, stdout, _ = run_cli(["train", "misuse", "--make-data", "--out", str(capped), "--repo", str(repo),
                               "--functions", "2", "--json"], capsys)  # fmt: skip
    assert json.loads(stdout)["splits"]["repo"]["examples"] == len(read_examples(capped / "repo.jsonl.gz")) == 2


def test_cli_without_make_data_says_training_is_a_separate_step(tmp_path, capsys):
    code, _, err = run_cli(["train", "misuse"], capsys)
    assert code == 2 and "--make-data --out DIR" in err and "--data DIR" in err
    code, _, err = run_cli(["train", "misuse", "--make-data"], capsys)
    assert code == 2 and "--out" in err
    code, _, err = run_cli(["train", "misuse", "--make-data", "--out", str(tmp_path), "--repo", str(tmp_path / "no")],
                           capsys)  # fmt: skip
    assert code == 2 and "no such directory" in err


def test_paired_examples_keep_the_function_clean_and_bug_it_at_distinct_sites():
    source = textwrap.dedent(FUNCTIONS[0])
    analysis = analyse(source)
    assert len(analysis.sites) >= 3
    examples = paired_examples(source, random.Random(1), 2, path="m.py", function="total", example_id="m.py:total")
    clean, *buggy = examples
    assert clean.bug is None and clean.source == source and clean.id == "m.py:total"
    assert [e.id for e in buggy] == ["m.py:total~1", "m.py:total~2"]
    assert len({(e.bug.line, e.bug.col) for e in buggy}) == 2
    for example in buggy:
        check_bug(example, source)
    again = paired_examples(source, random.Random(1), 2, path="m.py", function="total", example_id="m.py:total")
    assert again == examples
    # more bugs asked than there are sites: one per site
    assert len(paired_examples(source, random.Random(1), 99)) == 1 + len(analysis.sites)


def test_bugs_per_function_pairs_corruptible_functions_and_leaves_the_rest_alone():
    text = "\n\n".join(f"def f{i}(a, b):\n    c = a + b\n    return c * a\n" for i in range(20))
    text += "\n\ndef lonely(x):\n    return x\n"
    examples, counts = file_examples(text, "m.py", "m", seed=3, bugs_per_function=1)
    assert counts["functions"] == 21 and counts["not_corruptible"] == 1
    assert (counts["buggy"], counts["clean"]) == (20, 21) and len(examples) == 41
    for i in range(20):
        clean, bug = (e for e in examples if e.function == f"f{i}")
        assert clean.bug is None and bug.bug is not None and bug.id == clean.id + "~1"


def test_cli_bugs_per_function_pairs_the_repo_split(repo, tmp_path, capsys):
    out = tmp_path / "paired"
    code, stdout, _ = run_cli(["train", "misuse", "--make-data", "--out", str(out), "--repo", str(repo),
                               "--bugs-per-function", "1", "--json"], capsys)  # fmt: skip
    assert code == 0
    manifest = json.loads(stdout)
    assert manifest["settings"]["train_bugs_per_function"] == 1
    counts = manifest["splits"]["repo"]
    assert (counts["functions"], counts["not_corruptible"]) == (7, 2)
    assert (counts["buggy"], counts["clean"], counts["examples"]) == (5, 7, 12)
    code, _, err = run_cli(["train", "misuse", "--make-data", "--out", str(out), "--repo", str(repo),
                            "--bugs-per-function", "-1"], capsys)  # fmt: skip
    assert code == 2 and "--bugs-per-function" in err
