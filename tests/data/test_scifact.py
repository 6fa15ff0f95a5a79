"""The SciFact release view keeps every label: relations, rationales, titles, the structured flag."""

from __future__ import annotations

from negmine.data import SciFactRelease
from negmine.data.scifact import CONTRADICT, NOINFO, SUPPORT


def test_relations_and_rationales(scifact_dir):
    release = SciFactRelease.load(scifact_dir)
    claim = release.claims["train"][1]
    assert claim.label(101) == SUPPORT
    assert claim.label(109) == NOINFO  # cited, no evidence
    assert claim.label(105) is None  # not cited
    assert claim.evidence[101].rationales == ((0, 2),)
    three = release.claims["train"][3]
    assert three.label(103) == CONTRADICT and three.evidence[103].rationales == ((2,), (3,))
    assert three.docs_with(NOINFO) == [112]
    assert release.claims["train"][7].docs_with(SUPPORT, CONTRADICT) == []


def test_corpus_keeps_title_sentences_and_structured(scifact_dir):
    corpus = SciFactRelease.load(scifact_dir).corpus
    assert corpus[103].structured is True and corpus[101].structured is False
    assert corpus[101].title.startswith("Vitamin D supplementation")
    assert corpus[102].sentences[1].startswith("Quitting smoking")
    assert corpus[105].text == " ".join(corpus[105].sentences)


def test_test_claims_are_unlabelled_and_dev_labelled(scifact_dir):
    release = SciFactRelease.load(scifact_dir)
    assert set(release.claims) == {"train", "dev", "test"}
    assert not any(c.labelled for c in release.claims["test"].values())
    assert release.labelled_splits() == ["train", "dev"]


def test_missing_dev_file_is_normal(scifact_dir, tmp_path):
    import shutil

    folder = tmp_path / "scifact"
    shutil.copytree(scifact_dir, folder)
    (folder / "claims_dev.jsonl").unlink()
    release = SciFactRelease.load(folder)
    assert set(release.claims) == {"train", "test"}


def test_retrieval_view_makes_every_cited_doc_relevant(scifact_dir):
    data = SciFactRelease.load(scifact_dir).to_retrieval("train")
    assert data.qrels["1"] == {"101": 1, "109": 1}
    assert data.qrels["7"] == {"107": 1}  # NOINFO-only claims are still relevant for retrieval
    assert len(data.corpus) == 12 and len(data.queries) == 10
    assert data.document_texts(["105"])[0].startswith("Evening caffeine intake and sleep onset Healthy volunteers")
