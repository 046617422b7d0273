"""The completion pipeline with a real (tiny) transformers model."""

from __future__ import annotations

import threading

import pytest

from bowerbird.learners.lm.backend import GenerationRequest
from bowerbird.learners.lm.fim import detect_template
from bowerbird.learners.lm.loading import BackendUnavailable, load_backend
from bowerbird.learners.lm.prompt import compose
from bowerbird.server.options import CompletionOptions
from bowerbird.server.pipeline import Pipeline
from bowerbird.server.postprocess import CursorContext, postprocess


@pytest.fixture(scope="module")
def backend(tiny_model):
    return load_backend("transformers", str(tiny_model))


def test_backend_reads_context_and_fim_template_from_the_model(backend):
    assert backend.context_tokens == 512
    assert backend.fim.family == "starcoder"
    assert backend.counter.count("def area(self):") == len(backend.tokenizer("def area(self):")["input_ids"])


def test_completion_text_is_the_models_greedy_continuation(pyrepo, backend):
    path = "shapes/circle.py"
    text = (pyrepo.root / path).read_text()
    line, col = 16, 15
    options = CompletionOptions(max_tokens=12)
    completion = Pipeline(pyrepo, backend, options).complete(path, text, line, col)
    # The same prompt, generated directly: the pipeline adds nothing of its own.
    lines = text.split("\n")
    prefix = "\n".join(lines[:line] + [lines[line][:col]])
    suffix = lines[line][col:] + "\n" + "\n".join(lines[line + 1 :])
    prompt = compose(backend, "", f"# {path}", prefix, suffix, 12)
    raw = backend.generate(GenerationRequest(prompt.text, max_new_tokens=12, single_line=True, heal=prompt.heal))
    expected = postprocess(raw[0].text, CursorContext(lines[line][:col], lines[line][col:], lines[line + 1]))
    assert [c.text for c in completion.candidates] == ([expected] if expected else [])
    assert completion.proposal == {"id": 62, "source": "in_file", "context_type": "default", "chosen_by": "fixed"}
    assert set(completion.timings_ms) == {"choose", "context", "prompt", "model", "rank", "total"}


def test_a_repeated_request_is_answered_from_the_cache(pyrepo, backend):
    path = "shapes/square.py"
    text = (pyrepo.root / path).read_text()
    pipeline = Pipeline(pyrepo, backend, CompletionOptions(max_tokens=8))
    first = pipeline.complete(path, text, 10, 8)
    again = pipeline.complete(path, text, 10, 8)
    assert again.cached and not first.cached
    assert again.candidates == first.candidates


def test_the_chosen_proposal_goes_into_the_prompt(pyrepo, backend):
    path = "shapes/circle.py"
    text = (pyrepo.root / path).read_text()
    completion = Pipeline(pyrepo, backend, CompletionOptions(max_tokens=4, proposal=14)).complete(path, text, 16, 15)
    assert completion.proposal == {"id": 14, "source": "import", "context_type": "method_names_and_bodies",
                                  "chosen_by": "fixed"}


def test_sampling_gives_several_distinct_candidates(backend):
    request = GenerationRequest("def area(self):\n    return ", max_new_tokens=6, candidates=4, temperature=1.0)
    candidates = backend.generate(request)
    assert 1 <= len(candidates) <= 4
    assert len({c.text for c in candidates}) == len(candidates)
    assert [c.score for c in candidates] == sorted((c.score for c in candidates), reverse=True)


def test_a_cancelled_request_stops_and_answers_nothing(backend):
    cancel = threading.Event()
    cancel.set()
    assert backend.generate(GenerationRequest("x = ", max_new_tokens=32, cancel=cancel)) == []


def test_prompt_fits_the_budget_and_keeps_the_code_next_to_the_cursor(backend):
    prefix = "\n".join(f"value_{i} = {i}" for i in range(400)) + "\nresult = "
    prompt = compose(backend, "# other.py\ndef helper(): pass", "# m.py", prefix, "\nprint(result)\n", 48, heal=False)
    assert prompt.tokens <= backend.context_tokens - 48
    assert prompt.text.startswith("<fim_prefix>") and prompt.text.endswith("<fim_middle>")
    assert "value_399 = 399\nresult = <fim_suffix>" in prompt.text
    assert "value_0 = 0\n" not in prompt.text
    healed = compose(backend, "# other.py\ndef helper(): pass", "# m.py", prefix, "\nprint(result)\n", 48)
    assert healed.heal == " " and "value_399 = 399\nresult =<fim_suffix>" in healed.text  # the space is the model's


def test_fim_templates_are_detected_from_vocabularies():
    assert detect_template({"<fim_prefix>", "<fim_suffix>", "<fim_middle>"}).family == "starcoder"
    assert detect_template({"<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"}).family == "qwen2.5-coder"
    assert detect_template({"▁<PRE>", "▁<SUF>", "▁<MID>"}).family == "codellama"
    assert detect_template({"def", "return"}) is None
    assert detect_template({"<fim-prefix>", "<fim-suffix>", "<fim-middle>"}).format("a", "b") == "<fim-prefix>a<fim-suffix>b<fim-middle>"


def test_unavailable_backends_say_what_to_do(tmp_path):
    with pytest.raises(BackendUnavailable, match="needs a model"):
        load_backend("transformers")
    with pytest.raises(BackendUnavailable, match="cannot load model"):
        load_backend("transformers", str(tmp_path / "missing"))


def test_the_embedded_model_ships_and_loads():
    backend = load_backend("embedded")
    assert backend.model.endswith("code-lm")
    assert backend.fim is None and backend.context_tokens == 512  # its bowerbird.json: left to right
    assert backend.counter.count("def area(self):") > 0
    assert load_backend("embedded", fim=True).fim.family == "starcoder"  # the tokenizer has the tokens


def test_complete_command_prints_the_design_shape(tiny_model, tmp_path, capsys):
    import json
    import shutil

    from bowerbird.cli import main

    repo = tmp_path / "repo"
    shutil.copytree(__import__("tiny_model").FIXTURE, repo)
    argv = ["complete", str(repo / "shapes/circle.py"), "--line", "16", "--col", "15", "--backend", "transformers",
            "--model", str(tiny_model), "--max-tokens", "6", "--index-dir", str(tmp_path / "idx"), "--json"]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) >= {"candidates", "proposal", "timings_ms"}
    assert set(result["timings_ms"]) == {"choose", "context", "prompt", "model", "rank", "total"}
    assert result["proposal"]["chosen_by"] == "fixed"  # no classifier was trained on the tiny model's vectors
    assert all(set(c) == {"text", "score"} for c in result["candidates"])


def test_complete_command_reports_a_missing_model_clearly(tmp_path, capsys):
    from bowerbird.cli import main

    source = tmp_path / "a.py"
    source.write_text("x = 1\n")
    argv = ["complete", str(source), "--line", "0", "--col", "4", "--index-dir", str(tmp_path / "i"),
            "--backend", "transformers", "--model", str(tmp_path / "no-such-model")]
    assert main(argv) == 2
    assert "cannot load model" in capsys.readouterr().err


def test_doctor_reports_the_model_and_a_test_completion(tiny_model, tmp_path, capsys):
    import json

    from bowerbird.cli import main

    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "pyproject.toml").write_text("")
    argv = ["doctor", str(tmp_path / "repo"), "--index-dir", str(tmp_path / "i"), "--json"]
    assert main([*argv, "--backend", "transformers", "--model", str(tiny_model)]) == 1  # not indexed yet
    report = json.loads(capsys.readouterr().out)
    assert report["model"]["loads"] is True and report["model"]["fim"] == "starcoder"
    assert report["model"]["test_completion"]["ms"] >= 0
    assert report["proposal_classifier"]["loaded"] is False and report["proposal_classifier"]["note"]  # not its model
    assert report["reward_ranking"]["loaded"] is False and report["reward_ranking"]["note"]  # not its model either
    assert report["problems"] == [f"{tmp_path / 'repo'} is not indexed yet: run `bowerbird index {tmp_path / 'repo'}` (the server also does it)"]
    assert main(["index", str(tmp_path / "repo"), "--index-dir", str(tmp_path / "i")]) == 0
    capsys.readouterr()
    assert main(argv) == 0  # indexed, and the embedded model loads
    report = json.loads(capsys.readouterr().out)
    assert report["index"]["exists"] is True
    assert report["problems"] == [] and report["model"]["name"].endswith("code-lm")
    assert report["proposal_classifier"]["loaded"] is True  # the shipped classifier is the embedded model's
    assert report["reward_ranking"]["loaded"] is True  # and so is the shipped reward model


def test_token_healing_can_be_turned_off(pyrepo, backend):
    path = "shapes/circle.py"
    text = (pyrepo.root / path).read_text()
    line, col = 16, 15
    lines = text.split("\n")
    prefix = "\n".join(lines[:line] + [lines[line][:col]])
    suffix = lines[line][col:] + "\n" + "\n".join(lines[line + 1 :])
    cursor = CursorContext(lines[line][:col], lines[line][col:], lines[line + 1])
    for healing in (True, False):
        completion = Pipeline(pyrepo, backend, CompletionOptions(max_tokens=12, token_healing=healing)).complete(
            path, text, line, col)
        prompt = compose(backend, "", f"# {path}", prefix, suffix, 12, heal=None if healing else False)
        assert bool(prompt.heal) == healing
        raw = backend.generate(GenerationRequest(prompt.text, max_new_tokens=12, heal=prompt.heal))
        expected = postprocess(raw[0].text, cursor)
        assert [c.text for c in completion.candidates] == ([expected] if expected else [])
