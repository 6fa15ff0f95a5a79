"""Claim reversal: each rule on hand-checked claims, nothing when no rule applies, the negation-only cue."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from negmine.augment.reverse import negation_only, reverse_claim


def first(claim: str) -> tuple[str, str] | None:
    found = reverse_claim(claim, n=1)
    return found[0] if found else None


def test_direction_keeps_the_inflection_and_case():
    assert first("Metformin up-regulates AMPK.") == ("Metformin down-regulates AMPK.", "reverse:direction")
    assert first("Increased sleep lowers blood pressure.") == ("Decreased sleep lowers blood pressure.",
                                                              "reverse:direction")  # fmt: skip
    assert first("Statins inhibited tumour growth.") == ("Statins activated tumour growth.", "reverse:direction")


def test_numbers_change_and_years_stay():
    assert first("Aspirin cut strokes by 30% in 2001.") == ("Aspirin cut strokes by 70% in 2001.", "reverse:number")
    text, rule = first("Only 3 of 9 trials in 1998 were blinded.")
    assert rule == "reverse:number" and "1998" in text and text != "Only 3 of 9 trials in 1998 were blinded."


def test_negation_with_do_support():
    assert first("Coffee causes insomnia.") == ("Coffee does not cause insomnia.", "reverse:negation-insert")
    assert first("Smoking caused the relapse.") == ("Smoking did not cause the relapse.", "reverse:negation-insert")
    assert first("Vitamin C does not prevent colds.") == ("Vitamin C prevents colds.", "reverse:negation-remove")
    assert first("Exercise is linked to longevity.") == ("Exercise is not linked to longevity.",
                                                         "reverse:negation-insert")  # fmt: skip
    assert first("Low-dose aspirin has no effect on heart attack risk.") == (
        "Low-dose aspirin has an effect on heart attack risk.", "reverse:negation-remove")  # fmt: skip


def test_a_negated_claim_is_not_flipped_twice():
    # 'not ... accelerated' -> 'not ... decelerated' would reverse nothing: the negation goes instead
    assert first("Eligibility is not indicative of accelerated adoption.") == (
        "Eligibility is indicative of accelerated adoption.", "reverse:negation-remove")  # fmt: skip


def test_nothing_when_no_rule_applies():
    assert reverse_claim("Tumour suppressor genes in zebrafish.") == []


def test_negation_only_tells_surface_cues_apart():
    assert negation_only("Coffee causes insomnia.", "Coffee does not cause insomnia.")
    assert not negation_only("Coffee increases insomnia.", "Coffee decreases insomnia.")
    assert not negation_only("Cut by 30%.", "Cut by 70%.")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["aspirin", "increases", "risk", "is", "linked", "to", "not", "12", "cells",
                                 "higher", "the", "in", "mice", "reduced"]), min_size=1, max_size=12))  # fmt: skip
def test_reversals_differ_from_the_claim_and_are_deterministic(words):
    claim = " ".join(words) + "."
    found = reverse_claim(claim, key="k", n=3, seed=7)
    assert found == reverse_claim(claim, key="k", n=3, seed=7)
    assert all(text != claim for text, _ in found)
    assert len({rule for _, rule in found}) == len(found) <= 3
