"""Keyword swap: the highest-IDF shared terms are replaced by the donor's, the rest stays, overlaps are reported."""

from __future__ import annotations

from negmine.augment.swap import KeywordSwapper

CORPUS = ["aspirin lowers stroke risk in adults", "statins lower cholesterol", "sleep improves memory",
          "risk in adults", "adults and risk"]  # fmt: skip


def test_swap_by_hand():
    swapper = KeywordSwapper(CORPUS, terms=2)
    swapped = swapper.swap("Does aspirin prevent stroke in adults?", "Aspirin lowers stroke risk in adults.",
                           "Sleep improves memory.")  # fmt: skip
    # shared with the claim: aspirin, stroke (idf high), adults (idf low); donor terms not in claim/positive by idf
    assert swapped.mapping == {"aspirin": "improves", "stroke": "memory"}
    assert swapped.text == "Improves lowers memory risk in adults."
    assert swapped.source_overlap == round(4 / 6, 4)  # 'lowers', 'risk', 'in', 'adults' kept of 6 words
    # claim terms: does, aspirin, prevent, stroke, adults; the positive has 3 of them, the swapped text 1 (adults)
    assert swapped.anchor_overlap_source == 0.6 and swapped.anchor_overlap == 0.2


def test_nothing_to_swap():
    swapper = KeywordSwapper(CORPUS)
    assert swapper.swap("Does sleep help?", "Aspirin lowers stroke risk.", "statins lower cholesterol") is None
    assert swapper.swap("aspirin?", "Aspirin lowers stroke risk.", "aspirin lowers stroke risk") is None


def test_the_corpus_idf_is_cached_and_read_back(tmp_path):
    from negmine.augment.swap import KeywordSwapper

    corpus = ["aspirin lowers stroke risk", "statins lower cholesterol", "sleep and memory"]
    first = KeywordSwapper(corpus, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("idf-*.json"))) == 1
    again = KeywordSwapper(corpus, cache_dir=tmp_path)
    assert again.idf == first.idf
    assert again.swap("Does aspirin prevent stroke?", "Aspirin lowers stroke risk in adults.",
                      "sleep and memory").text == "Memory lowers sleep risk in adults."  # fmt: skip
    KeywordSwapper([*corpus, "another document"], cache_dir=tmp_path)  # another corpus, another entry
    assert len(list(tmp_path.glob("idf-*.json"))) == 2
