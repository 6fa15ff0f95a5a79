"""False-negative filters against hand-computed cases and, for any input, the promise each filter makes."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from negmine.mining.filters import false_negative_filter


def test_hand_computed():
    scores = np.array([[0.95, 0.81, 0.79, 0.30], [0.6, 0.5, 0.4, 0.1]])
    positives = np.array([0.85, np.nan])  # the second query has no positive: no margin applies
    keep, removed = false_negative_filter(scores, positives, relative_margin=0.05, min_score=0.2)
    # 0.85 * 0.95 = 0.8075: 0.95 goes; 0.81 goes; 0.79 stays; 0.30 stays; min_score removes 0.1
    assert keep.tolist() == [[False, False, True, True], [True, True, True, False]]
    assert removed == {"relative_margin": 2, "min_score": 1}


def test_absolute_margin_and_max_score():
    keep, removed = false_negative_filter(np.array([[0.7, 0.66, 0.5]]), np.array([0.75]), absolute_margin=0.1,
                                          max_score=0.6)  # fmt: skip
    assert keep.tolist() == [[False, False, True]]
    assert removed == {"absolute_margin": 2, "max_score": 0}


def test_negative_positive_score_uses_its_magnitude():
    keep, _ = false_negative_filter(np.array([[-0.2, -0.26]]), np.array([-0.2]), relative_margin=0.25)
    assert keep.tolist() == [[False, True]]  # threshold -0.2 - 0.05 = -0.25


scores_arrays = arrays(np.float32, (4, 6), elements=st.floats(-1, 1, width=32))


@given(scores=scores_arrays, positive=st.floats(-1, 1), margin=st.floats(0, 0.5), cap=st.floats(-1, 1))
@settings(max_examples=100, deadline=None)
def test_every_kept_candidate_obeys_every_filter(scores, positive, margin, cap):
    positives = np.full(4, positive, dtype=np.float32)
    keep, removed = false_negative_filter(scores, positives, absolute_margin=margin, relative_margin=margin,
                                          max_score=cap)  # fmt: skip
    kept = scores[keep]
    assert np.all(kept <= positive - margin + 1e-6)
    assert np.all(kept <= positive - abs(positive) * margin + 1e-6)
    assert np.all(kept <= cap)
    assert sum(removed.values()) == scores.size - keep.sum()
