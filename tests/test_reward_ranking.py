"""The reward ranker and what it reads: hidden states kept by the decoding loop, features of
recorded events, checkpoints, and per-developer weights in the feedback store."""

from __future__ import annotations

import pytest
import torch

from bowerbird.learners.lm.backend import Candidate
from bowerbird.learners.lm.decoding import decode
from bowerbird.learners.lm.prompt import compose
from bowerbird.server.feedback import FeedbackStore
from bowerbird.server.ranking import HIDE_AFTER, ModelScoreRanker, RewardRanker

PROMPT = "def add(a, b):\n    return a"


@pytest.fixture(scope="module")
def backend(tiny_model):
    from bowerbird.learners.lm.loading import load_backend

    return load_backend("transformers", str(tiny_model))


def teacher_forced_states(network_hf, ids: list[int], written: list[int]) -> torch.Tensor:
    """Mean last hidden state over the positions that wrote `written` after `ids`."""
    with torch.inference_mode():
        out = network_hf(input_ids=torch.tensor([ids + written]), output_hidden_states=True)
    return out.hidden_states[-1][0, len(ids) - 1 : len(ids) - 1 + len(written)].float().mean(0)


def tolerance(backend, which: str) -> float:
    """The lean decoder runs in bfloat16 where the CPU has it natively; the reference is float32."""
    return 2e-2 if which == "decoder" and backend.dtype == torch.bfloat16 else 1e-3


@pytest.mark.parametrize("which", ["decoder", "network"])
def test_decoding_keeps_the_mean_hidden_state_that_wrote_each_candidate(backend, which):
    ids = backend.tokenizer(PROMPT, add_special_tokens=False)["input_ids"]
    network = getattr(backend, which)
    rows = decode(network, backend.vocabulary, ids, max_new_tokens=8, eos_id=None, single_line=False, states=True)
    expected = teacher_forced_states(backend.network, ids, rows[0].ids)
    assert rows[0].state.shape == (backend.network.config.hidden_size,)
    assert torch.allclose(rows[0].state, expected, atol=tolerance(backend, which))
    plain = decode(network, backend.vocabulary, ids, max_new_tokens=8, eos_id=None, single_line=False)
    assert plain[0].state is None and plain[0].ids == rows[0].ids


def test_sampled_rows_each_get_their_own_state(backend):
    ids = backend.tokenizer(PROMPT, add_special_tokens=False)["input_ids"]
    generator = torch.Generator().manual_seed(0)
    rows = decode(backend.decoder, backend.vocabulary, ids, max_new_tokens=6, eos_id=None, candidates=4,
                  temperature=1.5, single_line=False, states=True, generator=generator)  # fmt: skip
    for row in rows:
        assert torch.allclose(row.state, teacher_forced_states(backend.network, ids, row.ids),
                              atol=tolerance(backend, "decoder"))


def test_recorded_candidates_are_read_as_the_decoding_loop_read_them(backend):
    from bowerbird.learners.lm.backend import GenerationRequest
    from bowerbird.learners.reward.features import TokenEmbedder, feature_vector, teacher_forced_features

    prefix = "import os\n\nvalue = os.path.jo"
    prompt = compose(backend, "", "", prefix, "", 48, heal=False)
    generated = backend.generate(GenerationRequest(prompt.text, 6, 1, 0.0, False, states=True))
    line_prefix = prefix.rpartition("\n")[2]
    text = generated[0].text
    expected = feature_vector(line_prefix, text, generated[0].score, generated[0].state, TokenEmbedder(backend)(text))
    got = teacher_forced_features(backend, prefix, [text, ""])
    assert got.shape == (2, len(expected))
    assert torch.allclose(got[0], expected, atol=2e-3)
    assert torch.all(got[1, : 3 * backend.network.config.hidden_size] == 0)  # an empty candidate: zeros


def test_checkpoints_round_trip_and_refuse_another_model(backend, tmp_path):
    from tiny_reward import build_tiny_reward

    from bowerbird.learners.reward.checkpoint import load_reward
    from bowerbird.learners.reward.score import RewardUnavailable, load_scorer

    folder = build_tiny_reward(tmp_path / "reward", backend)
    model = load_reward(folder)
    x = torch.randn(3, model.phi.inputs)
    assert torch.allclose(model.features(x), load_reward(folder).features(x))
    scorer = load_scorer(folder, backend)
    assert scorer.model_id.startswith("reward-") and scorer.prior.shape == (model.phi.dim,)
    other = build_tiny_reward(tmp_path / "other", backend, fingerprint="0123456789abcdef")
    with pytest.raises(RewardUnavailable, match="another code model"):
        load_scorer(other, backend)
    with pytest.raises(RewardUnavailable, match="no reward model"):
        load_scorer(tmp_path / "missing", backend)

    class Served:
        name, model = "openai", "served"

    with pytest.raises(RewardUnavailable, match="no hidden states"):
        load_scorer(folder, Served())
    (folder / "config.json").write_text("{not json")
    with pytest.raises(RewardUnavailable, match="cannot load"):
        load_scorer(folder, backend)


class FakeScorer:
    """Features by candidate text; the prior prefers feature 0."""

    model_id = "reward-test"
    strength = 1.0

    def __init__(self, rows: dict[str, list[float]]):
        self.rows = rows
        self.prior = torch.tensor([1.0, 0.0])

    def features(self, line_prefix, candidates):
        if any(c.state is None for c in candidates):
            return None
        return torch.tensor([self.rows[c.text] for c in candidates])


ROWS = {"short": [1.0, -1.0], "long_and_thorough": [-0.5, 2.0], "meh": [-3.0, -3.0]}


def candidates(*texts):
    return [Candidate(t, score=-0.1 * i, state=torch.zeros(1)) for i, t in enumerate(texts)]


def test_the_ranking_follows_the_developers_reward_and_hides_what_they_would_reject():
    ranker = RewardRanker(FakeScorer(ROWS), "dev", hide_below=0.0)
    assert [c.text for c in ranker.rank(candidates("meh", "long_and_thorough", "short"))] == [
        "short", "long_and_thorough", "meh"]
    hiding = RewardRanker(FakeScorer(ROWS), "dev", hide_below=0.1)
    # the reward is still the population's: nothing is hidden before the developer's own choices
    assert len(hiding.rank(candidates("meh", "long_and_thorough", "short"))) == 3
    for _ in range(HIDE_AFTER):
        hiding.rank(candidates("short", "meh"))
        assert hiding.learn("", ["short", "meh"], 0)
    ranked = [c.text for c in hiding.rank(candidates("meh", "long_and_thorough", "short"))]
    assert ranked[0] == "short" and "meh" not in ranked  # sigmoid(r) of "meh" is now below 0.1


def test_without_hidden_states_the_models_order_stays():
    ranker = RewardRanker(FakeScorer(ROWS), "dev")
    plain = [Candidate("meh", -0.1), Candidate("short", -0.9)]
    assert [c.text for c in ranker.rank(plain)] == [c.text for c in ModelScoreRanker().rank(plain)]


def test_online_updates_move_the_ranking_within_a_few_choices(tmp_path):
    store = FeedbackStore(tmp_path / "feedback.sqlite")
    ranker = RewardRanker(FakeScorer(ROWS), "dev", store=store)
    shown = candidates("short", "long_and_thorough")
    assert ranker.rank(shown)[0].text == "short"
    for event in range(1, 6):
        ranked = [c.text for c in ranker.rank(shown)]
        assert ranker.learn("", ranked, ranked.index("long_and_thorough"))
        if ranker.rank(shown)[0].text == "long_and_thorough":
            break
    assert ranker.rank(shown)[0].text == "long_and_thorough" and event <= 3
    saved = store.load_weights("dev", "reward-test")
    assert saved == pytest.approx(ranker.weights.weights.tolist())
    assert store.weights_events("dev", "reward-test") == event == ranker.choices
    # a new session of the same developer starts where they left off
    again = RewardRanker(FakeScorer(ROWS), "dev", store=store)
    assert again.rank(shown)[0].text == "long_and_thorough" and again.choices == event
    assert RewardRanker(FakeScorer(ROWS), "someone-else", store=store).rank(shown)[0].text == "short"
    store.close()


def test_a_dismissal_pushes_the_shown_candidate_down():
    ranker = RewardRanker(FakeScorer(ROWS), "dev")
    shown = candidates("short", "long_and_thorough")
    before = float(ranker.rewards(shown)[0])
    assert ranker.learn("", ["short", "long_and_thorough"], None)
    assert float(ranker.rewards(shown)[0]) < before


def test_learning_from_candidates_it_never_ranked_changes_nothing():
    ranker = RewardRanker(FakeScorer(ROWS), "dev")
    assert not ranker.learn("", ["unknown"], 0)
    assert not ranker.learn("", [], None)
    assert ranker.weights.events == 0


def test_candidates_sampled_in_worker_processes_equal_those_sampled_here(backend, tiny_model):
    from bowerbird.learners.reward.simulate import make_items, make_items_parallel, sample_holes

    from pathlib import Path

    fixture = Path(__file__).parent / "data" / "pyrepo"
    files = [(p, str(p.relative_to(fixture))) for p in sorted(fixture.rglob("*.py"))]
    holes = sample_holes(files, 30, seed=0)
    here = make_items(backend, holes, candidates=4, temperature=1.5, max_new_tokens=6, seed=5)
    there = make_items_parallel(("transformers", str(tiny_model)), holes, 2, candidates=4, temperature=1.5,
                                max_new_tokens=6, seed=5)
    assert len(here) >= 10
    assert [i.texts for i in here] == [i.texts for i in there]
    assert all(torch.allclose(a.features, b.features, atol=1e-4) for a, b in zip(here, there))
