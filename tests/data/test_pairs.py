"""Pair data read into RetrievalData: every container, every record shape, and one-line errors for bad input."""

from __future__ import annotations

import json

import pytest
from datasets import Dataset, DatasetDict
from hypothesis import given, settings
from hypothesis import strategies as st

from negmine.data import load_retrieval
from negmine.data.pairs import read_pairs
from negmine.errors import DataError


def test_csv_jsonl_parquet_and_a_saved_dataset_read_the_same(pairs_data, tmp_path):
    Dataset.from_json(str(pairs_data / "qa.jsonl")).to_parquet(str(tmp_path / "qa.parquet"))
    DatasetDict({"train": Dataset.from_json(str(pairs_data / "qa.jsonl"))}).save_to_disk(str(tmp_path / "saved"))
    rows = [json.loads(line) for line in (pairs_data / "qa.jsonl").read_text().splitlines()]
    (tmp_path / "qa.tsv").write_text("question\tanswer\n" + "".join(f"{r['question']}\t{r['answer']}\n" for r in rows))
    sources = [pairs_data / "qa.csv", pairs_data / "qa.jsonl", tmp_path / "qa.parquet", tmp_path / "saved",
               tmp_path / "qa.tsv", Dataset.from_json(str(pairs_data / "qa.jsonl"))]
    read = [read_pairs(source) for source in sources]
    first = read[0]
    assert first.counts() == {"documents": 24, "queries": 23, "judged_queries": 23, "qrels": 24}
    for data in read[1:]:
        assert data.queries == first.queries and data.qrels == first.qrels
        assert dict(data.corpus) == dict(first.corpus)


def test_columns_by_name_else_the_first_two(pairs_data, tmp_path):
    (tmp_path / "swapped.csv").write_text("id,answer,question\n1,Yes it is.,Is it?\n")
    by_name = read_pairs(tmp_path / "swapped.csv", anchor_column="question", positive_column="answer")
    assert by_name.queries == {"q0": "Is it?"} and by_name.corpus["d0"]["text"] == "Yes it is."
    first_two = read_pairs(tmp_path / "swapped.csv")
    assert first_two.queries == {"q0": "1"}


def test_a_separate_corpus_is_added_and_missing_positives_are_counted(pairs_data):
    data = read_pairs(pairs_data / "qa.csv", corpus=pairs_data / "corpus.txt")
    assert len(data.corpus) == 24 + 12
    assert data.read_counts["positives_added_to_corpus"] == 24
    from_jsonl = read_pairs(pairs_data / "qa.csv", corpus=pairs_data / "corpus.jsonl")
    assert dict(from_jsonl.corpus) == dict(data.corpus)


def test_duplicate_rows_are_kept_once_and_counted(tmp_path):
    (tmp_path / "dup.csv").write_text("q,p\nWhy?,Because.\nWhy?,Because.\nWhy?,Since.\n")
    data = read_pairs(tmp_path / "dup.csv")
    assert data.qrels == {"q0": {"d0": 1, "d1": 1}} and data.read_counts["rows_duplicate"] == 1


def test_flagembedding_and_tevatron_keep_their_negatives_as_given(pairs_data):
    flag = read_pairs(pairs_data / "flag.jsonl")
    assert sum(map(len, flag.given_negatives.values())) == 3 and len(flag.queries) == 3
    tevatron = read_pairs(pairs_data / "tevatron.jsonl")
    assert sum(map(len, tevatron.given_negatives.values())) == 1
    assert any(text["text"].startswith("Cats Cats have") for text in tevatron.corpus.values())


def test_pair_data_is_carved_by_anchor_only_when_asked(pairs_data):
    whole = load_retrieval(str(pairs_data / "qa.csv"), "train")
    assert len(whole.queries) == 23  # no carve by default
    train = load_retrieval(str(pairs_data / "qa.csv"), "train", validation_fraction=0.25, seed=1)
    validation = load_retrieval(str(pairs_data / "qa.csv"), "validation", validation_fraction=0.25, seed=1)
    texts = set(train.queries.values())
    assert not texts & set(validation.queries.values())
    assert len(texts) + len(validation.queries) == 23


BAD = [
    ("missing.csv", None, "missing.csv: file not found"),
    ("q,p\nWhy?,\n", None, r"bad.csv: line 2, column 'p': the text must be a text, got empty|bad.csv: line 2, "
                           r"column 'p': empty"),
    ("q,p\nWhy?,Because.\nSame,Same\n", None, r"bad.csv: line 3, column 'p': the positive is the anchor's own text"),
    ("q,p\nWhy?,Because.\n", {"anchor_column": "question"},
     r"bad.csv: no anchor column 'question' \(columns found: q, p\)"),
]


@pytest.mark.parametrize("content, options, message", BAD)
def test_bad_csv_is_one_line_naming_file_line_and_column(tmp_path, content, options, message):
    path = tmp_path / ("missing.csv" if content == "missing.csv" else "bad.csv")
    if content != "missing.csv":
        path.write_text(content)
    with pytest.raises(DataError, match=message) as error:
        read_pairs(path, **(options or {}))
    assert "\n" not in str(error.value)


def test_bad_jsonl_records(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"query": "Why?", "pos": ["Because."], "neg": []}\n{"query": "How?", "pos": "Like so.", '
                    '"neg": []}\n')
    with pytest.raises(DataError, match=r"bad.jsonl: line 2, column 'pos': a string where FlagEmbedding expects a "
                                        r"list of texts \(FlagEmbedding would split it into characters\)"):
        read_pairs(path)
    path.write_text('{"a": "Why?", "p": ["Because.", 3]}\n')
    with pytest.raises(DataError, match=r"bad.jsonl: line 1, column 'p': item 2 is int, not a text"):
        read_pairs(path)
    path.write_bytes(b'{"a": "Why?", "p": "Because."}\n{"a": "caf\xe9", "p": "x"}\n')
    with pytest.raises(DataError, match=r"bad.jsonl:2: not valid UTF-8"):
        read_pairs(path)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a?", "b?", "c?", "d?"]), st.sampled_from(["x", "y", "z", "w", "v"])),
                min_size=1, max_size=20))
def test_every_distinct_pair_is_one_judgement(rows):
    data = read_pairs(Dataset.from_dict({"anchor": [a for a, _ in rows], "positive": [p for _, p in rows]}))
    judged = {(data.queries[q], data.corpus[d]["text"]) for q, docs in data.qrels.items() for d in docs}
    assert judged == set(rows)
    assert data.read_counts["rows_duplicate"] == len(rows) - len(set(rows))


def test_a_hub_name_goes_through_datasets_load_dataset(pairs_data, monkeypatch):
    """The real path for ``owner/name`` is ``datasets.load_dataset``; offline it is pointed at a local file."""
    import datasets

    calls = []

    def local_load(name, split=None, **kwargs):
        calls.append((name, split))
        return Dataset.from_json(str(pairs_data / "qa.jsonl"))

    monkeypatch.setattr(datasets, "load_dataset", local_load)
    data = load_retrieval("someone/qa-pairs", "train")
    assert calls == [("someone/qa-pairs", "train")] and len(data.queries) == 23


def test_an_unreachable_hub_name_is_one_line(monkeypatch):
    import datasets

    def offline(name, split=None, **kwargs):
        raise ConnectionError("Couldn't reach the hub\nmore detail")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(DataError, match=r"^someone/missing: neither a file nor a folder here, and "
                                        r"datasets.load_dataset could not load it \(Couldn't reach the hub\)$"):
        read_pairs("someone/missing")


@settings(max_examples=30, deadline=None)
@given(rows=st.lists(st.tuples(st.sampled_from(["a?", "b?", "c?", "d?"]), st.sampled_from(["x", "y", "Z z", "w"])),
                     min_size=1, max_size=15),
       corpus=st.lists(st.sampled_from(["x", "v", "u u", "y", "t"]), max_size=6))
def test_texts_on_disk_read_the_same_data_as_in_memory(tmp_path_factory, rows, corpus):
    """Property: with the texts kept on disk (told apart by digest), the queries, judgements, document texts, ids
    and read counts are those of the in-memory reader, for any rows and separate corpus."""
    from negmine.data.retrieval import DiskCorpus, document_ids

    dataset = Dataset.from_dict({"q": [r[0] for r in rows], "p": [r[1] for r in rows]})
    memory = read_pairs(dataset, corpus=corpus or None)
    disk = read_pairs(dataset, corpus=corpus or None, texts_on_disk=tmp_path_factory.mktemp("texts"))
    assert isinstance(disk.corpus, DiskCorpus)
    assert (disk.queries, disk.qrels, disk.read_counts) == (memory.queries, memory.qrels, memory.read_counts)
    assert list(document_ids(disk.corpus)) == list(memory.corpus)
    assert list(disk.document_texts()) == memory.document_texts()
    assert dict(disk.corpus) == dict(memory.corpus)


def test_texts_on_disk_leave_nothing_behind_after_a_bad_row(tmp_path):
    (tmp_path / "bad.csv").write_text("q,p\na?,x\nb?,\n")
    with pytest.raises(DataError, match="line 3, column 'p': empty text"):
        read_pairs(tmp_path / "bad.csv", texts_on_disk=tmp_path / "texts")
    assert list((tmp_path / "texts").iterdir()) == []
