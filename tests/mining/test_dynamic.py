"""HardNegativeRefresh on the tiny SciFact: no negative is a known positive, the cost-bounding options do what they
say (query fraction, candidate pool), the random-rate and curriculum schedules apply, and the trainer reads the
swapped rows in the next epoch without a restart."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from negmine.data import load_retrieval
from negmine.mining.dynamic import HardNegativeRefresh, swap_rows
from negmine.mining.schedules import CurriculumStage, RandomRateSchedule
from negmine.mining.static import MiningParams

PARAMS = MiningParams(range_min=0, range_max=6, relative_margin=None, num_negatives=2)


def inputs(scifact_dir):
    data = load_retrieval(scifact_dir, "train", validation_fraction=0)
    doc_ids = list(data.corpus)
    query_ids = list(data.queries)
    rows = [(query_ids.index(q), doc_ids.index(d)) for q, docs in data.relevant_docs().items() for d in sorted(docs)]
    return [data.queries[q] for q in query_ids], data.document_texts(doc_ids), rows


@pytest.fixture
def refresh_inputs(scifact_dir):
    return inputs(scifact_dir)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 1000), fraction=st.sampled_from([0.3, 1.0]), rate=st.sampled_from([0.0, 0.5, 1.0]),
       searcher=st.sampled_from(["faiss", "balltree"]))  # fmt: skip
def test_no_negative_is_a_known_positive(scifact_dir, tiny_model, seed, fraction, rate, searcher):
    queries, documents, rows = inputs(scifact_dir)
    schedule = RandomRateSchedule(kind="constant", r0=rate)
    params = PARAMS if searcher == "faiss" else PARAMS.model_copy(update={"num_negatives": 1})
    refresh = HardNegativeRefresh(queries, documents, rows, params, query_fraction=fraction, seed=seed,
                                  random_rate=schedule, searcher=searcher)  # fmt: skip
    dataset = refresh.initial_dataset(tiny_model)
    refresh.refresh(tiny_model, epoch=1, step=3)
    for (query, _), row in zip(rows, refresh.build_dataset(), strict=True):
        for column in [f"negative_{i + 1}" for i in range(params.num_negatives)]:
            assert row[column] not in {documents[d] for d in refresh.positives[query]}
            assert row[column] != queries[query]
    assert len(dataset) == len(rows) and dataset.column_names[:3] == ["anchor", "positive", "negative_1"]
    if rate == 1.0:
        assert refresh.history[-1]["random_share"] == 1.0


def test_query_fraction_and_candidate_pool_bound_the_work(refresh_inputs, tiny_model):
    queries, documents, rows = refresh_inputs
    rows = rows[:5]  # a few queries, so that their positives and top candidates leave part of the corpus out
    refresh = HardNegativeRefresh(queries, documents, rows, PARAMS, query_fraction=0.5, candidate_pool=1, seed=1)
    refresh.initial_dataset(tiny_model)
    before = refresh.negatives.copy()
    entry = refresh.refresh(tiny_model, epoch=1, step=5)
    n_queries = len({q for q, _ in rows})
    assert entry["queries"] == round(0.5 * n_queries)
    assert entry["documents"] == len(refresh.pool) < len(documents)
    untouched = [q for q in {q for q, _ in rows} if (refresh.negatives[q] == before[q]).all()]
    assert len(untouched) >= n_queries - entry["queries"]
    assert set(refresh.negatives[[q for q, _ in rows]].ravel()) <= set(refresh.pool.tolist())
    assert [h["epoch"] for h in refresh.history] == [0.0, 1.0] and refresh.history[1]["overlap"] is not None
    assert all(isinstance(h["score_gap"], float) for h in refresh.history)


def test_a_candidate_pool_deeper_than_the_window_is_searched_that_deep(refresh_inputs, tiny_model):
    queries, documents, rows = refresh_inputs
    rows = rows[:3]
    depth = PARAMS.range_max + 20  # more than the window's range_max + positives a query needs
    refresh = HardNegativeRefresh(queries, documents, rows, PARAMS, candidate_pool=depth, seed=1)
    refresh.initial_dataset(tiny_model)
    assert len(refresh.pool) >= min(depth, len(documents))  # one query's top-depth alone fills that many
    shallow = HardNegativeRefresh(queries, documents, rows, PARAMS, seed=1)
    shallow.initial_dataset(tiny_model)
    assert (refresh.negatives == shallow.negatives).all()  # the deeper search mines the same negatives


def test_random_rate_and_curriculum(refresh_inputs, tiny_model):
    queries, documents, rows = refresh_inputs
    stages = [CurriculumStage(epoch=0, range_min=3, range_max=6, num_negatives=1),
              CurriculumStage(epoch=1, range_min=0, range_max=3)]  # fmt: skip
    refresh = HardNegativeRefresh(queries, documents, rows, PARAMS, curriculum=stages,
                                  random_rate=RandomRateSchedule(kind="linear", r0=1.0, step=1.0))  # fmt: skip
    first = refresh.mine(tiny_model, epoch=0)
    assert (first["range_min"], first["random_rate"], first["random_share"]) == (3, 1.0, 1.0)
    second = refresh.mine(tiny_model, epoch=1)
    assert (second["range_min"], second["range_max"], second["random_rate"]) == (0, 3, 0.0)
    assert second["random_share"] < 0.5  # every column mined; random only where the window ran short


def test_trainer_reads_the_swapped_rows_without_a_restart(refresh_inputs, tiny_model, tmp_path, monkeypatch):
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    queries, documents, rows = refresh_inputs
    refresh = HardNegativeRefresh(queries, documents, rows, PARAMS, seed=3,
                                  random_rate=RandomRateSchedule(kind="constant", r0=1.0))  # fmt: skip
    dataset = refresh.initial_dataset(tiny_model)
    args = SentenceTransformerTrainingArguments(output_dir=str(tmp_path), num_train_epochs=2,
                                                per_device_train_batch_size=4, report_to="none", save_strategy="no",
                                                seed=1, use_cpu=True)  # fmt: skip
    loss = MultipleNegativesRankingLoss(tiny_model)
    trainer = SentenceTransformerTrainer(model=tiny_model, args=args, train_dataset=dataset, loss=loss,
                                         callbacks=[refresh])  # fmt: skip
    seen: list[list[str]] = []
    collator_class = type(trainer.data_collator)
    collate = collator_class.__call__

    def recording(self, features):
        seen.append([f["negative_1"] for f in features])
        return collate(self, features)

    monkeypatch.setattr(collator_class, "__call__", recording)
    initial = list(dataset["negative_1"])
    trainer.train()
    steps_per_epoch = -(-len(rows) // 4)
    assert len(refresh.history) == 2
    epoch2 = [n for batch in seen[steps_per_epoch:] for n in batch]
    refreshed = list(refresh.build_dataset()["negative_1"])
    assert sorted(epoch2) == sorted(refreshed) != sorted(initial)


def test_balltree_searcher_needs_one_negative(refresh_inputs):
    with pytest.raises(ValueError, match="one negative a point"):
        HardNegativeRefresh(*refresh_inputs, PARAMS, searcher="balltree")


def test_swap_rows_keeps_shape(refresh_inputs):
    from datasets import Dataset

    a = Dataset.from_dict({"anchor": ["x", "y"], "positive": ["p", "q"]})
    swap_rows(a, Dataset.from_dict({"anchor": ["z", "w"], "positive": ["r", "s"]}))
    assert a["anchor"] == ["z", "w"]
    with pytest.raises(ValueError, match="keep columns and length"):
        swap_rows(a, Dataset.from_dict({"anchor": ["z"], "positive": ["r"]}))
    assert np.array_equal(a["positive"], ["r", "s"])


@pytest.mark.parametrize("exclude", [True, False])
def test_balltree_can_leave_out_sister_claims(scifact_dir, exclude, monkeypatch):
    queries, documents, rows = inputs(scifact_dir)
    params = PARAMS.model_copy(update={"num_negatives": 1})
    refresh = HardNegativeRefresh(queries, documents, rows, params, searcher="balltree",
                                  exclude_shared_positives=exclude)  # fmt: skip
    cited = [set(p) for p in refresh.positives]
    sisters = {(a, b) for a in range(len(queries)) for b in range(len(queries)) if a != b and cited[a] & cited[b]}
    assert sisters  # the fixture has claims citing the same abstract
    # Claims citing the same abstract get the same vector: each other's nearest neighbour unless left out.
    rng = np.random.default_rng(0)
    group = {q: min(p, default=-1 - q) for q, p in enumerate(refresh.positives)}
    vectors = {g: rng.normal(size=8) for g in set(group.values())}
    claims = {queries[q]: vectors[group[q]] for q in range(len(queries))}
    monkeypatch.setattr(refresh, "_encode", lambda model, texts, role: np.stack(
        [claims[t] if role == "query" else rng.normal(size=8) * 10 for t in texts]).astype(np.float32))  # fmt: skip
    refresh.mine(torch.nn.Identity())  # a module for eval()/train(); the vectors come from the patched _encode
    chosen = {
        (q, int(refresh.negatives[q, 0])) for q in refresh.row_queries if refresh.negative_sources[q, 0] == "claim"
    }
    assert bool(chosen & sisters) is not exclude
    claim_share = np.mean(refresh.negative_sources[refresh.row_queries, 0] == "claim")
    assert refresh.history[-1]["claim_share"] == pytest.approx(claim_share, abs=1e-4)


def test_refresh_backend_exports_the_current_weights_once_a_refresh_and_cleans_up(refresh_inputs, tiny_model,
                                                                                 monkeypatch):  # fmt: skip
    from negmine.errors import NegmineError

    queries, documents, rows = refresh_inputs
    with pytest.raises(NegmineError, match="backend must be one of"):
        HardNegativeRefresh(queries, documents, rows, PARAMS, backend="tensorrt")
    torch_refresh = HardNegativeRefresh(queries, documents, rows, PARAMS, seed=3, backend="torch")
    torch_refresh.initial_dataset(tiny_model)
    torch_refresh.refresh(tiny_model, epoch=1, step=1)

    exports = []  # (backend, folder) of each export asked for; the "export" is the torch model itself

    def fake_backend_model(model, backend, cache_dir, fingerprint, calibration_texts):
        folder = cache_dir / "exports" / fingerprint[:8]
        if not folder.is_dir():
            folder.mkdir(parents=True)
            exports.append((backend, cache_dir))
        return model

    monkeypatch.setattr("negmine.backends.check_backend", lambda backend: None)  # as if onnx were installed
    monkeypatch.setattr("negmine.backends.backend_model", fake_backend_model)
    refresh = HardNegativeRefresh(queries, documents, rows, PARAMS, seed=3, backend="onnx-int8")
    refresh.initial_dataset(tiny_model)
    assert exports == []  # the first mining follows first_backend (torch)
    refresh.refresh(tiny_model, epoch=1, step=1)
    assert [backend for backend, _ in exports] == ["onnx-int8"]  # one export for the queries and the corpus
    first_folder = exports[0][1]
    assert first_folder.is_dir()
    np.testing.assert_array_equal(refresh.negatives, torch_refresh.negatives)  # the same vectors, the same negatives
    with torch.no_grad():  # new weights: a new export, and the old one is gone
        next(tiny_model.parameters()).add_(0.01)
    refresh.refresh(tiny_model, epoch=2, step=2)
    assert len(exports) == 2 and not first_folder.exists() and exports[1][1].is_dir()
    refresh.on_train_end(None, None, None)
    assert not exports[1][1].exists()


def test_auto_refresh_backend_is_openvino_where_installed_and_torch_otherwise(refresh_inputs, tiny_model,
                                                                             monkeypatch):  # fmt: skip
    from negmine.encode import EmbeddingMemory, Encoder
    from negmine.errors import NegmineError

    queries, documents, rows = refresh_inputs
    monkeypatch.setattr("negmine.backends.backend_model", lambda model, *args: model)  # the "export" is the model

    def missing(backend):
        if backend != "torch":
            raise NegmineError(f"backend {backend} needs openvino")

    monkeypatch.setattr("negmine.backends.check_backend", missing)
    refresh = HardNegativeRefresh(queries, documents, rows, PARAMS)
    refresh.initial_dataset(tiny_model)
    assert refresh.history[-1]["backend"] == "torch"  # the first mining follows first_backend
    assert refresh.refresh(tiny_model, epoch=1, step=1)["backend"] == "torch"  # openvino missing
    monkeypatch.setattr("negmine.backends.check_backend", lambda backend: None)  # as if installed
    assert refresh.refresh(tiny_model, epoch=2, step=2)["backend"] == "openvino"
    refresh.memory = EmbeddingMemory()  # the evaluation just encoded every text with these weights, on torch
    encoder = Encoder(tiny_model, use_cache=False, memory=refresh.memory, show_progress_bar=False)
    encoder.encode(documents), encoder.encode(queries, role="query")
    entry = refresh.refresh(tiny_model, epoch=3, step=3)
    assert entry["backend"] == "torch" and entry["documents_reused"] == len(documents)


def _copies(queries, documents, rows):
    from negmine.pairs.anchors import Anchor, Positive, mark_copies

    anchors = [Anchor(str(q), text, []) for q, text in enumerate(queries)]
    for query, doc in rows:
        anchors[query].positives.append(Positive(doc, documents[doc]))
    mark_copies(anchors, documents)
    return {reason: [a.excluded.get(reason, []) for a in anchors] for reason in ("anchor_text", "near_duplicate")}


def test_a_refresh_keeps_build_pairs_exclusions(tiny_model):
    """A copy of the positive (up to case) and the anchor's own text score as high as it gets: without build-pairs'
    exclusions the refresh takes them, with them it never does; a document the noise mask shuts is never taken."""
    queries = ["bone marrow cells repair the heart", "vitamin d lowers blood pressure"]
    documents = ["Bone marrow cells repair the heart after injury.",
                 "BONE MARROW CELLS REPAIR THE HEART AFTER INJURY.", "bone marrow cells repair the heart",
                 "Heart injury heals with stem cells.",
                 "Vitamin D and blood pressure in adults.", "Marrow transplants in mice.", "Cells of the heart."]
    rows = [(0, 0), (1, 4)]
    params = MiningParams(range_min=0, range_max=4, relative_margin=None, num_negatives=2)
    plain = HardNegativeRefresh(queries, documents, rows, params, seed=0)
    plain.mine(tiny_model)
    assert {1, 2} & set(plain.negatives[0].tolist())  # the copies are the hardest candidates: the test can fail
    excluded = np.zeros(len(documents), dtype=bool)
    excluded[3] = True
    for epoch in (0.0, 1.0):
        guarded = HardNegativeRefresh(queries, documents, rows, params, seed=0,
                                      exclude=_copies(queries, documents, rows), excluded=excluded)  # fmt: skip
        guarded.mine(tiny_model, epoch=epoch)
        assert not {1, 2, 3} & set(guarded.negatives[0].tolist())
    # random stand-ins and the BallTree searcher keep them too
    always_random = RandomRateSchedule(kind="constant", r0=1.0)
    one = params.model_copy(update={"num_negatives": 1})
    for searcher, rate in (("faiss", always_random), ("balltree", None), ("balltree", always_random)):
        taken = set()
        for seed in range(12):
            guarded = HardNegativeRefresh(queries, documents, rows, one, seed=seed, searcher=searcher,
                                          random_rate=rate, exclude=_copies(queries, documents, rows),
                                          excluded=excluded)  # fmt: skip
            guarded.mine(tiny_model)
            taken |= {int(d) for d, source in zip(guarded.negatives[0], guarded.negative_sources[0], strict=True)
                      if source != "claim"}  # fmt: skip
        assert taken and not {1, 2, 3} & taken, (searcher, taken)


def test_a_refresh_with_the_lexical_searcher_takes_bm25_candidates(tiny_model):
    """With ``lexical``, a document only BM25 proposes (the one sharing the query's rare word, below the dense
    search's depth) is mined once the dense candidates fail a filter, as in build-pairs; dense alone finds nothing
    and falls back to a random document. At the first mining and at a refresh."""
    queries = ["zebrafish fins regrow", "vitamin d lowers blood pressure"]
    documents = ["Fin regeneration in fish.", "Vitamin D and blood pressure in adults.",
                 "Zebrafish husbandry protocols in large aquaria for breeding.",
                 "Regrowth of fins after injury.", "Fish fins and tails.", "Fins of fish regrow fast.",
                 "Regeneration of fish fins.", "Blood of fish."]
    rows = [(0, 0), (1, 1)]
    vectors = tiny_model.encode(documents, normalize_embeddings=True)
    scores = vectors @ tiny_model.encode(queries[:1], normalize_embeddings=True)[0]
    k = 2 + 1  # range_max + the most positives: the dense search's depth
    dense = set(np.argsort(-scores)[:k].tolist())
    assert 2 not in dense  # only BM25 reaches it
    cap = float(scores[2]) + 1e-4  # max_score: every dense candidate scores above it, the BM25 one below
    assert all(scores[d] > cap for d in dense - {0})
    params = MiningParams(range_min=0, range_max=2, relative_margin=None, max_score=cap, num_negatives=1)
    plain = HardNegativeRefresh(queries, documents, rows, params, seed=0)
    plain.mine(tiny_model)
    assert plain.negative_random[0, 0]  # dense alone: no survivor, a random document stands in
    refresh = HardNegativeRefresh(queries, documents, rows, params, searchers=["dense", "lexical"], seed=0)
    for epoch in (0.0, 1.0):
        refresh.mine(tiny_model, epoch=epoch)
        assert refresh.negatives[0, 0] == 2 and not refresh.negative_random[0, 0]
    with pytest.raises(ValueError, match="dense candidates"):
        HardNegativeRefresh(queries, documents, rows, params, searchers=["lexical"])
