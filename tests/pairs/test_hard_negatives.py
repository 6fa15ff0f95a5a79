"""negmine.mine_hard_negatives against sentence-transformers' own: the same negatives with the extras off, for
every output format; the extras do what they say."""

from __future__ import annotations

from pathlib import Path

import pytest
from datasets import Dataset

from negmine import mine_hard_negatives
from negmine.errors import NegmineError

PAIRS = Path(__file__).parents[1] / "resources" / "pairs_tiny"
FORMATS = ["triplet", "n-tuple", "labeled-pair", "labeled-list"]


def qa(pairs_data) -> Dataset:
    return Dataset.from_csv(str(pairs_data / "qa.csv"))


def rows(dataset) -> list[tuple]:
    """Rows as sorted tuples (order of anchors and of equal scores aside); scores rounded."""

    def cell(value):
        if isinstance(value, list):
            return tuple(cell(v) for v in value)
        return round(value, 4) if isinstance(value, float) else value

    return sorted(tuple(cell(row[c]) for c in dataset.column_names) for row in dataset)


@pytest.mark.parametrize("output_format", FORMATS)
@pytest.mark.parametrize("options", [dict(num_negatives=3),
                                     dict(num_negatives=2, range_min=2, range_max=12, relative_margin=0.05),
                                     dict(num_negatives=1, absolute_margin=0.0, max_score=0.99, output_scores=True)])
def test_with_the_extras_off_the_negatives_are_sentence_transformers_own(pairs_data, pairs_model, output_format,
                                                                           options):
    from sentence_transformers.util import mine_hard_negatives as st_mine

    corpus = (pairs_data / "corpus.txt").read_text().splitlines()
    ours = mine_hard_negatives(qa(pairs_data), pairs_model, corpus=corpus, output_format=output_format,
                               verbose=False, near_duplicates=False, **options)
    theirs = st_mine(qa(pairs_data), pairs_model, corpus=corpus, output_format=output_format, verbose=False,
                     **options)
    assert ours.column_names == theirs.column_names
    assert len(ours) > 0
    assert rows(ours) == rows(theirs)


def test_near_duplicates_of_a_positive_are_never_negatives(pairs_data, pairs_model):
    corpus = (pairs_data / "corpus.txt").read_text().splitlines()
    copy = "a list comprehension builds a list from an iterable in one   expression."
    off = mine_hard_negatives(qa(pairs_data), pairs_model, corpus=corpus, num_negatives=5, verbose=False,
                              near_duplicates=False)
    on, manifest = mine_hard_negatives(qa(pairs_data), pairs_model, corpus=corpus, num_negatives=5, verbose=False,
                                       return_manifest=True)
    anchor = "How do I build a list in one expression in Python?"
    assert copy in {r["negative"] for r in off if r["question"] == anchor}  # the tiny model finds the copy
    assert copy not in {r["negative"] for r in on if r["question"] == anchor}
    assert manifest["counts"]["copies_excluded"]["near_duplicate"] >= 1
    assert manifest["mining"]["removed"]["near_duplicate"] >= 1


def test_every_positive_of_an_anchor_is_excluded_from_a_list_column(pairs_data, pairs_model):
    frame = qa(pairs_data).to_pandas()
    grouped = frame.groupby("question", sort=False)["answer"].apply(list).reset_index()
    dataset = Dataset.from_pandas(grouped, preserve_index=False)
    mined = mine_hard_negatives(dataset, pairs_model, num_negatives=4, verbose=False)
    positives = grouped.set_index("question")["answer"].to_dict()
    assert len(mined) > 0
    for row in mined:
        assert row["negative"] not in positives[row["question"]]
        assert row["negative"] != row["question"]


def test_a_misspelled_column_is_an_error_listing_the_columns(pairs_data, pairs_model):
    with pytest.raises(NegmineError, match=r"no anchor column 'questoin' \(columns found: question, answer\)"):
        mine_hard_negatives(qa(pairs_data), pairs_model, anchor_column_name="questoin", verbose=False)


def test_cross_encoder_rescoring_orders_the_candidates(pairs_data, pairs_model, tmp_path):
    from sentence_transformers import CrossEncoder
    from sentence_transformers.util import mine_hard_negatives as st_mine

    cross = _tiny_cross_encoder(tmp_path)
    options = dict(num_negatives=2, range_max=8, output_scores=True, verbose=False)
    ours = mine_hard_negatives(qa(pairs_data), pairs_model, cross_encoder=cross, near_duplicates=False, **options)
    theirs = st_mine(qa(pairs_data), pairs_model, cross_encoder=cross, **options)
    assert isinstance(cross, CrossEncoder)
    assert rows(ours) == rows(theirs)


def test_random_sampling_is_seeded(pairs_data, pairs_model):
    a = mine_hard_negatives(qa(pairs_data), pairs_model, sampling_strategy="random", range_max=10, verbose=False)
    b = mine_hard_negatives(qa(pairs_data), pairs_model, sampling_strategy="random", range_max=10, verbose=False)
    c = mine_hard_negatives(qa(pairs_data), pairs_model, sampling_strategy="random", range_max=10, verbose=False,
                            seed=7)
    assert a["negative"] == b["negative"] and a["negative"] != c["negative"]


def test_lexical_candidates_join_the_dense_ones(pairs_data, pairs_model):
    _, manifest = mine_hard_negatives(qa(pairs_data), pairs_model, lexical=True, range_max=10, verbose=False,
                                      return_manifest=True)
    assert set(manifest["mining"]["proposed"]) == {"dense", "lexical"}
    assert manifest["searcher"]["lexical"] == "bm25s"


def test_an_iterable_dataset_goes_through_vectors_on_disk(pairs_data, pairs_model, tmp_path):
    streamed = Dataset.from_csv(str(pairs_data / "qa.csv")).to_iterable_dataset()
    mined, manifest = mine_hard_negatives(streamed, pairs_model, num_negatives=2, range_max=10, verbose=False,
                                          cache_folder=str(tmp_path / "cache"), return_manifest=True)
    assert manifest["parameters"]["vectors_on_disk"] is True
    assert manifest["parameters"]["index_factory"].startswith("IVF")
    assert manifest["searcher"]["nprobe"] == 4  # not FAISS's 1, which left anchors short of negatives
    assert len(mined) > 0
    assert manifest["data"]["texts_on_disk"] is True


@pytest.mark.parametrize("output_format", ["triplet", "n-tuple"])
def test_texts_and_rows_on_disk_mine_what_memory_mines(pairs_data, pairs_model, tmp_path, output_format):
    """A larger-than-memory call (texts, vectors and rows on disk) hands back the in-memory call's rows when its
    approximate index is exhaustive (one IVF cell), with the rows memory-mapped from the cache."""
    pytest.importorskip("faiss")
    options = dict(corpus=(pairs_data / "corpus.txt").read_text().splitlines(), num_negatives=2, range_max=10,
                   relative_margin=0.05, output_format=output_format, output_scores=True, verbose=False)
    memory = mine_hard_negatives(qa(pairs_data), pairs_model, **options)
    disk, manifest = mine_hard_negatives(qa(pairs_data).to_iterable_dataset(), pairs_model, index_factory="IVF1,Flat",
                                         cache_folder=str(tmp_path / "cache"), return_manifest=True, **options)
    assert rows(disk) == rows(memory) and disk.column_names == memory.column_names
    assert manifest["data"]["texts_on_disk"] is True
    assert [Path(f["filename"]).parent.name for f in disk.cache_files] == ["rows"]
    assert list((tmp_path / "cache" / "texts").iterdir()) == []  # the texts' file went with the data


def _tiny_cross_encoder(folder):
    """A one-layer BERT cross-encoder over the pair data's words, built offline."""
    import re

    import torch
    from sentence_transformers import CrossEncoder
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    lines = [line for name in ("qa.csv", "corpus.txt") for line in (PAIRS / name).read_text().splitlines()]
    words = sorted({w for line in lines for w in re.findall(r"\w+|[^\w\s]", line.lower())})
    vocab = {w: i for i, w in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words])}
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, num_labels=1, initializer_range=1.0)
    BertForSequenceClassification(config).save_pretrained(folder / "ce")
    BertTokenizerFast(vocab=vocab, do_lower_case=True).save_pretrained(folder / "ce")
    return CrossEncoder(str(folder / "ce"), device="cpu")


def test_no_negative_is_a_positive_of_its_anchor_whatever_the_pairs(pairs_data, pairs_model):
    """Property: over random groupings of the fixture's texts into (anchor, positive) rows, with repeated anchors,
    no mined negative is any positive of its anchor, nor the anchor itself, up to case and whitespace."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from negmine.pairs.anchors import normalise_text

    frame = qa(pairs_data).to_pandas()
    anchors, answers = sorted(set(frame["question"])), list(frame["answer"])
    corpus = (pairs_data / "corpus.txt").read_text().splitlines()

    @settings(max_examples=8, deadline=None)
    @given(st.lists(st.tuples(st.sampled_from(anchors), st.sampled_from(answers)), min_size=2, max_size=30,
                    unique=True), st.sampled_from(["triplet", "labeled-pair"]))
    def check(rows, output_format):
        dataset = Dataset.from_dict({"q": [a for a, _ in rows], "p": [p for _, p in rows]})
        mined = mine_hard_negatives(dataset, pairs_model, corpus=corpus, num_negatives=2, range_max=8,
                                    output_format=output_format, verbose=False)
        truth: dict[str, set[str]] = {}
        for anchor, positive in rows:
            truth.setdefault(anchor, set()).add(normalise_text(positive))
        for row in mined:
            if output_format == "triplet":
                assert normalise_text(row["negative"]) not in truth[row["q"]] | {normalise_text(row["q"])}
            elif row["label"] == 0:
                assert normalise_text(row["p"]) not in truth[row["q"]] | {normalise_text(row["q"])}

    check()


def test_output_dir_writes_a_pairs_folder_and_the_audit_sheet(pairs_data, pairs_model, tmp_path):
    """The Python call writes what build-pairs writes, and negmine audit's sheet of its own negatives."""
    import csv

    from negmine.analysis.negatives import load_negative_set

    corpus = (pairs_data / "corpus.txt").read_text().splitlines()
    out = tmp_path / "pairs"
    result = mine_hard_negatives(qa(pairs_data), pairs_model, corpus=corpus, num_negatives=2, verbose=False,
                                 output_dir=str(out), audit=4)
    nset = load_negative_set(out)
    assert len(nset.negatives) == len({(r["question"], r["negative"]) for r in result})
    sheet = list(csv.DictReader((out / "audit.csv").open()))
    assert len(sheet) == 4
    assert all(r["decision"] == "" for r in sheet)
    mined = {(r["question"], r["negative"]) for r in result}
    texts = {d: t for d, t in zip(nset.negative_ids, nset.negatives, strict=True)}
    assert all((r["claim"], texts[r["negative_id"]]) in mined for r in sheet)  # only negatives it mined
    with pytest.raises(NegmineError, match="already exists"):
        mine_hard_negatives(qa(pairs_data), pairs_model, corpus=corpus, verbose=False, output_dir=str(out))
    with pytest.raises(NegmineError, match="output_dir"):
        mine_hard_negatives(qa(pairs_data), pairs_model, corpus=corpus, verbose=False, audit=3)


def test_every_parameter_of_sentence_transformers_is_taken_with_its_default():
    import inspect

    from sentence_transformers.util import mine_hard_negatives as st_mine

    ours = inspect.signature(mine_hard_negatives).parameters
    theirs = inspect.signature(st_mine).parameters
    assert list(ours)[: len(theirs)] == list(theirs)  # same order: positional calls work too
    for name, parameter in theirs.items():
        assert ours[name].default == parameter.default, name
    extras = [p for name, p in ours.items() if name not in theirs]
    assert extras and all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in extras)
