"""The analysis metrics against hand-computed values and their slow, textbook forms."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from negmine.analysis import (
    alignment,
    cluster_entropy,
    corpus_rank,
    duplicate_rate,
    frechet_distance,
    infonce_share,
    linear_cka,
    mmd_rbf,
    pairwise_distances,
    score_gap,
    score_hardness,
    sister_documents,  # fmt: skip
    summarize,
    uniformity,
    vendi_score,
)
from negmine.analysis.diversity import feature_coverage, per_anchor_distance, value_entropy


def test_score_hardness_by_hand():
    h = score_hardness(np.array([0.8, 0.5, 0.4]), np.array([0.6, 0.5, 0.1]), band=-0.05)
    assert np.allclose(h["margin"], [0.2, 0.0, 0.3])
    assert np.allclose(h["relative"], [0.75, 1.0, 0.25])
    assert h["inversion"].tolist() == [0.0, 1.0, 0.0]
    assert np.allclose(h["simans_distance"], [0.15, 0.05, 0.25])


def test_infonce_share_is_the_softmax_probability_of_each_negative():
    shares = infonce_share(np.array([1.0]), np.array([[0.0, np.nan, 1.0]]), temperature=0.5)
    z = np.exp(2.0) + np.exp(0.0) + np.exp(2.0)
    assert np.allclose(shares[0, [0, 2]], [1 / z, np.exp(2.0) / z])
    assert np.isnan(shares[0, 1])


def test_corpus_rank_counts_documents_scored_above_the_negative():
    corpus = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]])
    anchors = np.array([[1.0, 0.0], [0.0, 1.0]])
    ranks = corpus_rank(anchors, np.array([0, 1, 0, 1]), np.array([0.8, 1.0, 1.0, 0.1]), corpus, block=1)
    assert ranks.tolist() == [2, 1, 1, 3]


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 7))
def test_corpus_rank_equals_brute_force_counting(seed, block):
    rng = np.random.default_rng(seed)
    anchors, corpus = rng.normal(size=(5, 3)), rng.normal(size=(40, 3))
    anchor_of = rng.integers(0, 5, size=30)
    negative_scores = rng.normal(size=30)
    expected = [1 + int((anchors[a] @ corpus.T > s + 1e-6).sum())
                for a, s in zip(anchor_of, negative_scores, strict=True)]
    assert corpus_rank(anchors, anchor_of, negative_scores, corpus, block=block).tolist() == expected


@settings(max_examples=25, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(2, 12), st.integers(1, 5)), elements=st.floats(-3, 3)))
def test_vendi_score_equals_its_n_by_n_kernel_definition(x):
    norms = np.linalg.norm(x, axis=1)
    if (norms < 1e-3).any():
        return
    unit = x / norms[:, None]
    eigenvalues = np.clip(np.linalg.eigvalsh(unit @ unit.T / len(x)), 0, None)
    eigenvalues = eigenvalues[eigenvalues > 1e-12]
    expected = np.exp(-(eigenvalues * np.log(eigenvalues)).sum())
    assert vendi_score(x) == pytest.approx(expected, rel=1e-6)
    assert 1 - 1e-9 <= vendi_score(x) <= min(x.shape) + 1e-9


def test_uniformity_and_alignment_by_hand():
    # two antipodal points: ||x - y||^2 = 4, so log exp(-2 * 4) = -8
    assert uniformity(np.array([[1.0, 0.0], [-1.0, 0.0]])) == pytest.approx(-8.0)
    assert alignment(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[1.0, 0.0], [1.0, 0.0]])) == pytest.approx(1.0)


def test_pairwise_and_per_anchor_distance():
    x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    assert pairwise_distances(x)["mean"] == pytest.approx(2 / 3)
    assert per_anchor_distance(x, np.array([0, 0, 1])) == pytest.approx(1.0)
    assert per_anchor_distance(x, np.array([0, 1, 2])) is None


def test_duplicate_rate_and_most_reused():
    result = duplicate_rate(["a", "a", "b", "a"], [1, 2, 1, 3])
    assert result["rate"] == pytest.approx(3 / 4)
    assert result["most_reused"] == [["a", 3]] and result["unique"] == 2


def test_cluster_entropy_even_and_collapsed():
    from sklearn.cluster import KMeans

    km = KMeans(2, n_init=1, random_state=0).fit(np.array([[0.0], [10.0]]))
    assert cluster_entropy(np.array([[0.1], [9.9]]), km) == pytest.approx(1.0)
    assert cluster_entropy(np.array([[0.1], [0.2]]), km) == pytest.approx(0.0)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000))
def test_frechet_distance_matches_scipy_sqrtm(seed):
    from scipy.linalg import sqrtm

    rng = np.random.default_rng(seed)
    a = rng.normal(size=(40, 4))
    b = rng.normal(size=(30, 4)) * rng.uniform(0.5, 2) + rng.normal(size=4)
    ca, cb = np.cov(a, rowvar=False, bias=True), np.cov(b, rowvar=False, bias=True)
    expected = ((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(ca + cb - 2 * sqrtm(ca @ cb).real)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-6, abs=1e-9)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-7)


def test_mmd_by_hand_in_one_dimension():
    # a = {0}, b = {1}, gamma 1: k(a,a) = k(b,b) = 1, k(a,b) = e^-1, MMD^2 = 2 - 2 e^-1
    assert mmd_rbf(np.array([[0.0]]), np.array([[1.0]]), gamma=1.0)["mmd2"] == pytest.approx(2 - 2 * np.exp(-1))
    same = np.random.default_rng(0).normal(size=(50, 3))
    assert mmd_rbf(same, same)["mmd2"] == pytest.approx(0.0, abs=1e-12)


def test_score_gap_by_hand():
    gap = score_gap(np.array([0.8, 0.9]), np.array([0.3, 0.4]))
    assert gap["wasserstein"] == pytest.approx(0.5) and gap["mean_gap"] == pytest.approx(0.5)
    assert gap["ks"] == 1.0 and gap["kl"] > 0
    assert score_gap(np.array([0.5, 0.6]), np.array([0.5, 0.6]))["kl"] == pytest.approx(0.0)


def test_linear_cka_invariances_and_a_hand_case():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 4))
    rotation = np.linalg.qr(rng.normal(size=(4, 4)))[0]
    assert linear_cka(x, 3 * x @ rotation + 1) == pytest.approx(1.0)
    # columns (1, -1, 0) and (1, 1, -2) are centred and orthogonal: CKA 0
    assert linear_cka(np.array([[1.0], [-1.0], [0.0]]), np.array([[1.0], [1.0], [-2.0]])) == pytest.approx(0.0)
    assert 0 <= linear_cka(x, rng.normal(size=(30, 6))) <= 1


def test_sister_documents_are_the_other_claims_evidence():
    sisters = sister_documents({"q1": {"a"}, "q2": {"a", "b"}, "q3": {"c"}, "q4": {"b", "d"}})
    assert sisters["q1"] == {"b"} and sisters["q2"] == {"d"} and sisters["q3"] == set()
    assert sisters["q4"] == {"a"}


def test_framework_measures_and_summary():
    x = np.array([[0.5, 0.0, 0.2], [0.5, 0.05, -0.3]])
    coverage = feature_coverage(x)
    assert coverage["coverage"] == pytest.approx(4 / 6) and coverage["effective_dimensions"] == 2
    assert value_entropy(np.array([[0.0, 1.0]]), bins=2) == pytest.approx(1.0)
    summary = summarize(np.array([1.0, np.nan, 3.0]), "m")
    assert summary["m.mean"] == 2.0 and summary["m.min"] == 1.0 and summary["m.max"] == 3.0


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000))
def test_per_anchor_distance_equals_the_pairwise_loop(seed):
    from scipy.spatial.distance import pdist

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(25, 4))
    groups = rng.integers(0, 6, size=25)
    means = [pdist(x[groups == g], metric="cosine").mean() for g in np.unique(groups) if (groups == g).sum() >= 2]
    assert per_anchor_distance(x, groups) == pytest.approx(np.mean(means), abs=1e-9)
