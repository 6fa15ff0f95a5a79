"""WordNet offline: a clear error naming the packages when it is missing, never a download; SynonymAug /
AntonymAug work from Debian's files with the shipped lexnames and the download-free tagger."""

from __future__ import annotations

import pytest

from negmine.augment import wordnet
from negmine.augment.spec import SyntheticConfig
from negmine.errors import NegmineError

pytest.importorskip("nltk")


def test_lexnames_is_the_45_line_wordnet_file():
    lines = wordnet.LEXNAMES.read_text().splitlines()
    assert len(lines) == 45 and lines[0] == "00\tadj.all\t3" and lines[44] == "44\tadj.ppl\t3"


def test_missing_wordnet_is_one_line_naming_the_packages(monkeypatch, tmp_path):
    import nltk

    monkeypatch.setattr(wordnet, "WORDNET_DIRS", ())
    monkeypatch.delenv("NEGMINE_WORDNET", raising=False)
    monkeypatch.setattr(wordnet, "_nltk_has_wordnet", lambda: False)
    monkeypatch.setattr(nltk, "download", lambda *a, **k: pytest.fail("tried to download"))
    wordnet.load_wordnet.cache_clear()
    with pytest.raises(NegmineError, match="apt-get install wordnet-base`"):
        wordnet.load_wordnet(str(tmp_path))
    config = SyntheticConfig(perturb=1, augmenters=[{"name": "AntonymAug"}])
    with pytest.raises(NegmineError, match="WordNet is not installed"):
        config.check_resources()


@pytest.mark.skipif(wordnet.wordnet_source() is None, reason="WordNet (wordnet-base) not installed")
def test_antonyms_offline_without_downloading(monkeypatch, tmp_path):
    import nltk

    from negmine.augment.perturb import Perturber
    from negmine.augment.spec import AugmenterSpec

    monkeypatch.setattr(nltk, "download", lambda *a, **k: pytest.fail("tried to download"))
    monkeypatch.setattr(nltk, "pos_tag", lambda *a, **k: pytest.fail("used NLTK's downloaded tagger"))
    perturber = Perturber([AugmenterSpec(name="AntonymAug")], seed=0, cache_dir=str(tmp_path))
    [(text, source)] = perturber.perturb("Aspirin increases the risk of bleeding.", "q", 1)
    assert source == "perturb:AntonymAug" and "decrease" in text
    tagger = wordnet.offline_tagger(str(tmp_path))
    assert tagger.tag(["the", "risk", "reduces", "quickly", "."]) == [
        ("the", "DT"), ("risk", "VBP"), ("reduces", "VBZ"), ("quickly", "RB"), (".", ".")]  # fmt: skip


@pytest.mark.skipif(wordnet.wordnet_source() is None, reason="WordNet (wordnet-base) not installed")
def test_memoised_lookup_changes_no_output(tmp_path):
    """The remembered WordNet lookup and the cntlist counts are speed-ups: the same seed gives the texts nlpaug's
    own lookup gives, and the counts are what NLTK reads for a lemma whose sense keys all match."""
    from negmine.augment.perturb import Perturber
    from negmine.augment.spec import AugmenterSpec

    texts = ["Aspirin increases the risk of bleeding in older adults.", "Smoking lowers lung function."]
    fast = Perturber([AugmenterSpec(name="AntonymAug")], seed=3, cache_dir=str(tmp_path))
    plain = Perturber([AugmenterSpec(name="AntonymAug")], seed=3, cache_dir=str(tmp_path))
    model = plain.augmenters[0].model
    model.predict = type(model).predict.__get__(model)  # nlpaug's own, unremembered
    for i, text in enumerate(texts * 2):
        assert fast.perturb(text, str(i), 1) == plain.perturb(text, str(i), 1)
    reader = wordnet.load_wordnet(str(tmp_path))
    counts = wordnet._semcor_counts(reader)
    assert counts[("risk", "n")] == sum(lemma.count() for lemma in reader.lemmas("risk", "n"))
