"""The Neovim plugin (editor-clients/neovim) in a real, headless Neovim against the real server.

One Neovim session (tests/data/neovim/driver.lua) opens `shapes/circle.py` of a copy of
tests/data/pyrepo with the server on the tiny test model, waits until the root is indexed
and the model loaded, then at the hole the e2e tests use:

1. enters insert mode, types and deletes a character, waits for the ghost text (the typing
   pause path), presses the dismiss key;
2. enters insert mode again, calls `require("bowerbird").complete()`, waits for the ghost
   text, presses the accept key;
3. runs `:checkhealth bowerbird`, `:Bowerbird status` and a declined `:Bowerbird forget`.

The tests below check its record and the server's feedback store. A second session on the
same store runs `:Bowerbird reindex` and a confirmed `:Bowerbird forget`. Server-less sessions
give setup() bad options and run the ghost-text logic against a scripted server; on Neovim
0.12+ one more session checks the built-in `vim.lsp.inline_completion` path (skipped before).
Neovim 0.7.2 (Debian bookworm) is what CI runs. Without `nvim` on PATH the tests skip,
unless BOWERBIRD_REQUIRE_NVIM=1 makes that a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = ROOT / "editor-clients" / "neovim"
DRIVER = Path(__file__).parent / "data" / "neovim" / "driver.lua"
FIXTURE = Path(__file__).parent / "data" / "pyrepo"
HOLE = ("shapes/circle.py", 16, 15)  # `        return |math.pi * self.radius ** 2`
KEYMAPS = {"accept": "<M-l>", "dismiss": "<C-]>"}
STEP_TIMEOUT_MS = 30_000  # any one wait inside Neovim
SESSION_TIMEOUT_S = 90  # the whole Neovim run; the process is killed after this


def nvim_binary() -> str:
    found = shutil.which("nvim")
    if found:
        return found
    reason = "nvim is not on PATH (apt-get install neovim); the Neovim plugin test needs it"
    if os.environ.get("BOWERBIRD_REQUIRE_NVIM") == "1":
        pytest.fail(f"{reason}, and BOWERBIRD_REQUIRE_NVIM=1 requires it")
    pytest.skip(reason)


def run_nvim(tmp: Path, params: dict, timeout_s: float) -> dict:
    """Runs the driver in a headless Neovim; its JSON result (fails on error or timeout)."""
    nvim = nvim_binary()
    out = tmp / f"{params['scenario']}-result.json"
    params = {**params, "out": str(out), "timeout_ms": int(timeout_s * 1000) - 5000,
              "step_timeout_ms": STEP_TIMEOUT_MS, "keymaps": KEYMAPS}
    params_file = tmp / f"{params['scenario']}-params.json"
    params_file.write_text(json.dumps(params))
    home = tmp / "nvim-home"
    env = {**os.environ, "BOWERBIRD_NVIM_PARAMS": str(params_file), "HOME": str(home),
           "XDG_CONFIG_HOME": str(home / "config"), "XDG_DATA_HOME": str(home / "data"),
           "XDG_STATE_HOME": str(home / "state"), "XDG_CACHE_HOME": str(home / "cache")}
    command = [nvim, "--headless", "--clean", "--cmd", f"set rtp^={PLUGIN}", "-c", f"luafile {DRIVER}"]
    try:
        run = subprocess.run(command, env=env, cwd=tmp, stdin=subprocess.DEVNULL, capture_output=True,
                             text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired as error:
        partial = out.read_text() if out.exists() else "no result file"
        pytest.fail(f"Neovim did not finish within {timeout_s} s ({partial}); stderr: {error.stderr}")
    if not out.exists():
        pytest.fail(f"Neovim wrote no result (exit {run.returncode}); stdout: {run.stdout!r} stderr: {run.stderr!r}")
    result = json.loads(out.read_text())
    assert result["error"] is None, f"{result['error']} (steps: {result['steps']}, notifications: {result['notifications']})"
    assert run.returncode == 0, run.stderr
    return result


def expected_candidates(repo: Path, tmp: Path, model: Path, path: str, line: int, col: int) -> list[str]:
    """The server's pipeline, run here on the same index and model (as in the e2e tests)."""
    from bowerbird.analysis.repo import RepoView
    from bowerbird.analysis.store import IndexStore, index_path_for
    from bowerbird.learners.lm.loading import load_backend
    from bowerbird.server.options import CompletionOptions
    from bowerbird.server.pipeline import Pipeline

    root = repo.resolve()
    store = IndexStore(index_path_for(root, tmp / "index"), root)
    try:
        pipeline = Pipeline(RepoView(store), load_backend("transformers", str(model)),
                            CompletionOptions(backend="transformers", model=str(model), debounce_ms=0, max_tokens=8))
        return [c.text for c in pipeline.complete(path, (root / path).read_text(), line, col).candidates]
    finally:
        store.close()


def server_setup(tmp: Path, model: Path, **ghost_text) -> tuple[Path, dict]:
    """A copy of the fixture repository and the plugin's setup() options for the real server."""
    repo = tmp / "repo"
    shutil.copytree(FIXTURE, repo, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return repo, {
        "cmd": [sys.executable, "-m", "bowerbird", "serve"],
        "init_options": {
            "indexDir": str(tmp / "index"), "dataDir": str(tmp / "data"), "developerId": "tester",
            "completion": {"backend": "transformers", "model": str(model), "debounceMs": 0, "maxTokens": 8},
        },
        "ghost_text": {"debounce_ms": 50, **ghost_text},
        "keymaps": KEYMAPS,
    }


def recorded_choices(tmp: Path) -> list[tuple]:
    db = sqlite3.connect(tmp / "data" / "feedback.sqlite")
    try:
        return db.execute("SELECT s.id, s.developer, s.path, s.line, s.col, c.candidate, c.kind "
                          "FROM shown s JOIN choices c ON c.shown_id = s.id ORDER BY c.time").fetchall()
    finally:
        db.close()


@pytest.fixture(scope="module")
def session(tmp_path_factory, tiny_model) -> dict:
    """One Neovim session through the scenario above, with what it saw."""
    nvim_binary()
    tmp = tmp_path_factory.mktemp("neovim")
    repo, setup = server_setup(tmp, tiny_model, use_builtin=False)  # the plugin's own path on 0.12+ too
    path, line, col = HOLE
    result = run_nvim(tmp, {"scenario": "session", "setup": setup, "file": str(repo / path), "hole": [line, col]},
                      SESSION_TIMEOUT_S)
    expected = expected_candidates(repo, tmp, tiny_model, path, line, col)
    assert expected, "the tiny model left nothing after post-processing at this hole"
    return {"result": result, "expected": expected, "choices": recorded_choices(tmp), "repo": repo, "tmp": tmp,
            "setup": setup}


def test_the_client_attaches_at_the_repository_root(session):
    result = session["result"]
    assert result["filetype"] == "python"
    assert Path(result["root_dir"]).resolve() == session["repo"].resolve()  # pyproject.toml marks it
    assert result["status"]["roots"][0]["indexed"] and result["status"]["model"]["loaded"]


def test_ghost_text_shows_the_servers_first_candidate_and_accepting_inserts_it(session):
    result, expected = session["result"], session["expected"]
    path, line, col = HOLE
    shown = result["accept"]["shown"]
    first = expected[0].split("\n")
    assert shown["lines"][0] == first[0]
    assert shown["lines"] == first
    assert (shown["row"], shown["col"]) == (line, col)
    before = result["line_before"]
    prefix, suffix = before[:col], before[col:]
    assert result["accept"]["lines"] == [prefix + first[0] + (suffix if len(first) == 1 else "")] + first[1:-1] + (
        [first[-1] + suffix] if len(first) > 1 else [])
    assert result["accept"]["cursor"] == [line + len(first), (col if len(first) == 1 else 0) + len(first[-1].encode())]
    feedback = result["accept"]["feedback"]
    assert feedback["recorded"] is True and feedback["id"] == result["accept"]["current"]["id"]
    accepted = [row for row in session["choices"] if row[6] == "accepted"]
    assert accepted == [(feedback["id"], "tester", path, line, col, 0, "accepted")]


def test_dismissing_hides_the_ghost_text_and_records_one_rejection(session):
    result, expected = session["result"], session["expected"]
    path, line, col = HOLE
    dismiss = result["dismiss"]
    assert dismiss["shown"]["lines"][0] == expected[0].split("\n")[0]  # shown after a pause in typing
    assert dismiss.get("after") is None  # the extmark is gone
    assert dismiss["line"] == result["line_before"]  # nothing inserted
    assert dismiss["feedback"]["recorded"] is True
    assert dismiss["feedback_after_leaving"] is None  # leaving insert mode sent nothing more
    rejected = [row for row in session["choices"] if row[6] == "rejected"]
    assert rejected == [(dismiss["current"]["id"], "tester", path, line, col, None, "rejected")]


def test_checkhealth_status_and_forget_commands(session):
    result = session["result"]
    health = "\n".join(result["health"])
    assert "ERROR" not in health, health
    assert "Neovim 0.7" in health or "Neovim 0." in health
    assert "server command found" in health
    assert "server running" in health
    assert "index of" in health and "files" in health
    assert "loaded on cpu" in health
    assert "diagnostics" in health
    status = result["status_notifications"][0]["message"]
    assert "indexed" in status and "model" in status
    assert result["confirm_asked"], "forget must ask first"
    assert [n["message"] for n in result["forget_notifications"]] == ["Bowerbird: nothing deleted"]


def test_reindex_and_a_confirmed_forget(session):
    """A second Neovim on the same index and feedback store: :Bowerbird reindex, then
    :Bowerbird forget (confirmed) deletes what the first session recorded."""
    tmp, repo = session["tmp"], session["repo"]
    shown = len({row[0] for row in session["choices"]})
    db = sqlite3.connect(tmp / "data" / "feedback.sqlite")
    try:
        before = db.execute("SELECT count(*) FROM shown WHERE developer = 'tester'").fetchone()[0]
    finally:
        db.close()
    assert before >= shown >= 2
    result = run_nvim(tmp, {"scenario": "commands", "setup": session["setup"], "file": str(repo / HOLE[0])}, 60)
    messages = [n["message"] for n in result["notifications"]]
    assert any(m.startswith("Bowerbird: reindexed") and "indexed, 9 files" in m for m in messages), messages
    assert f"Bowerbird: forgot {before} completions of developer tester" in messages
    assert result["confirm_asked"][0].startswith("Delete everything Bowerbird recorded about you")
    assert recorded_choices(tmp) == []


def test_a_planted_misuse_gives_a_diagnostic_and_its_quick_fix_repairs_it(tmp_path, tiny_model):
    from tiny_misuse_model import BUG, BUGGY, train_tiny_misuse_model

    misuse_model = train_tiny_misuse_model(tmp_path / "misuse-model")
    repo, setup = server_setup(tmp_path, tiny_model)
    setup["init_options"]["diagnostics"] = {"model": str(misuse_model), "debounceMs": 0}
    (repo / "stats.py").write_text(BUGGY)
    result = run_nvim(tmp_path, {"scenario": "diagnostics", "setup": setup, "file": str(repo / "stats.py")}, 60)
    d = result["diagnostic"]
    assert (d["lnum"], d["col"], d["end_col"]) == (BUG["line"] - 1, BUG["col"] - 1, BUG["end_col"] - 1)
    assert d["message"].startswith("`total` may be the wrong variable here — did you mean `count`?")
    assert d["source"] == "bowerbird" and d["severity"] == 2  # vim.diagnostic.severity.WARN
    assert result["action_title"] == "Replace `total` with `count`", result.get("code_action_error")
    assert result["fixed_line"] == "        return total / count"


def test_bad_options_give_one_clear_warning_and_no_error(tmp_path):
    file = tmp_path / "example.py"
    file.write_text("x = 1\n")
    setup = {
        "bogus": True,
        "ghost_text": {"debounce_ms": "soon", "colour": "red"},
        "keymaps": {"accept": 42},
        "init_options": {"completion": {"maxToken": 3, "backend": "gpt"}},
        "cmd": ["/nonexistent/bowerbird", "serve"],
    }
    result = run_nvim(tmp_path, {"scenario": "bad_options", "setup": setup, "file": str(file)}, 30)
    assert result["string_setup"]["ok"] and result["setup"]["ok"], result
    assert result["edit"]["ok"] and result["command"]["ok"], result
    warnings = [n["message"] for n in result["notifications"] if n["level"] == 3]  # vim.log.levels.WARN
    text = "\n".join(warnings)
    assert "setup() takes a table" in text
    for fragment in ("unknown option bogus", "ghost_text.debounce_ms should be a whole number",
                     "unknown option ghost_text.colour", "keymaps.accept should be a key sequence",
                     "unknown option init_options.completion.maxToken",
                     "init_options.completion.backend should be one of embedded, transformers, openai",
                     '"/nonexistent/bowerbird" is not an executable', "no Bowerbird server is running"):
        assert fragment in text, f"{fragment!r} not in {warnings}"
    assert result["options"]["debounce_ms"] == 75 and result["options"]["accept_key"] == "<M-l>"
    assert result["globals"] == []


def test_ghost_text_logic_against_a_scripted_server(tmp_path):
    """Drawing, cycling, typing through, partial accepts, stale answers and dismissals, with
    the plugin's LSP calls answered by the driver (no server process)."""
    result = run_nvim(tmp_path, {"scenario": "scripted"}, 30)
    record = result["record"]
    first_request = result["requests"][0]
    assert first_request["method"] == "textDocument/inlineCompletion"
    assert first_request["params"]["position"] == {"line": 1, "character": 11}
    assert first_request["params"]["context"] == {"triggerKind": 1}  # invoked
    multi = record["multi"]
    assert multi["lines"] == ["h(", "        x)"]
    assert record["next"] is True
    if record["inline"]:  # 0.10+: inline virtual text pushes `g(x)` to the right
        assert (multi["row"], multi["col"], multi["pos"]) == (1, 11, "inline")
        assert multi["virt_text"] == [["h(", "BowerbirdGhost"]]
        assert multi["virt_lines"] == [[["        x)", "BowerbirdGhost"]]]
        assert record["second"]["virt_text"] == [["k(x) + ", "BowerbirdGhost"]]
    else:
        # Before 0.10, a two-line suggestion in the middle of `    return |g(x)`: the first line
        # over the text after the cursor (hidden with spaces), the rest below, `g(x)` after it.
        assert (multi["row"], multi["col"], multi["pos"]) == (1, 11, "overlay")
        assert multi["virt_text"] == [["h(", "BowerbirdGhost"], ["  ", "BowerbirdGhostSuffix"]]
        assert multi["virt_lines"] == [[["        x)", "BowerbirdGhost"], ["g(x)", "BowerbirdGhostSuffix"]]]
        # The second candidate, one line: drawn followed by the text after the cursor.
        assert record["second"]["virt_text"] == [["k(x) + ", "BowerbirdGhost"], ["g(x)", "BowerbirdGhostSuffix"]]
    assert record["first_again"]["lines"] == ["h(", "        x)"]
    # Typing the suggestion's first character keeps the rest on screen.
    assert record["typed_through"]["lines"] == ["(", "        x)"] and record["typed_through"]["col"] == 12
    # Accepting line by line; the text after the cursor ends up after the last line.
    assert record["accept_line"] is True and record["accept_line_2"] is True
    assert record["after_first_line"]["lines"] == ["def f(x):", "    return h(g(x)"]
    assert record["after_first_line"]["shown"]["lines"] == ["", "        x)"]
    after = record["after_all"]
    assert after["lines"] == ["def f(x):", "    return h(", "        x)g(x)"]
    assert after["cursor"] == [3, 10] and after["shown"] is None
    assert after["commands"] == [{"command": "bowerbird.acceptCompletion", "arguments": ["c1", 0]}]  # once
    # Answers that arrive after the text changed or the cursor moved are not shown.
    assert record["stale"] == {"shown": None, "requests": 2}
    assert record["moved"] == {"shown": None, "requests": 3}
    # Word by word, then the rest.
    assert record["words"] == [{"line": "value = alpha_beta", "rest": ".gamma(1)"},
                               {"line": "value = alpha_beta.", "rest": "gamma(1)"}]
    assert record["words_done"] == {"line": "value = alpha_beta.gamma(1)", "shown": None, "cursor": [1, 27]}
    # Leaving insert mode dismisses: one rejection; nothing is sent for the stale ones.
    assert record["after_leaving"] is None
    assert result["commands"] == [
        {"command": "bowerbird.acceptCompletion", "arguments": ["c1", 0]},
        {"command": "bowerbird.acceptCompletion", "arguments": ["c3", 0]},
        {"command": "bowerbird.rejectCompletion", "arguments": ["c4"]},
    ]
    # With nothing shown the accept key is passed on as if it were not mapped.
    assert record["fallthrough"]["line"] != "value = alpha_beta.gamma(1)"
    assert result["notifications"] == []


def test_builtin_inline_completion_on_neovim_0_12(tmp_path, tiny_model):
    """0.12+ only (skipped on CI's 0.7): vim.lsp.inline_completion draws, the accept key inserts
    and runs the item's command."""
    repo, setup = server_setup(tmp_path, tiny_model)
    path, line, col = HOLE
    result = run_nvim(tmp_path, {"scenario": "builtin", "setup": setup, "file": str(repo / path), "hole": [line, col]},
                      SESSION_TIMEOUT_S)
    if result.get("skipped"):
        pytest.skip(result["skipped"])
    assert result["path"] == "builtin"
    expected = expected_candidates(repo, tmp_path, tiny_model, path, line, col)
    first = expected[0].split("\n")[0]
    assert "".join(chunk[0] for chunk in result["virt_text"]).startswith(first)
    before = result["line_before"]
    if "\n" not in expected[0]:
        assert result["line_after"] == before[:col] + expected[0] + before[col:]
    assert [row[5:] for row in recorded_choices(tmp_path)] == [(0, "accepted")]
