"""Bad input: every case ends in a DataError that names the file, the line and the field."""

from __future__ import annotations

import logging
import shutil

import pytest

from negmine.data import SciFactRelease, load_beir, load_retrieval
from negmine.errors import DataError


def copy_dataset(src, tmp_path):
    target = tmp_path / src.name
    shutil.copytree(src, target)
    return target


def append_line(path, line):
    with path.open("a") as out:
        out.write(line + "\n")
    return sum(1 for _ in path.open())


def test_malformed_json_names_file_and_line(scifact_dir, tmp_path):
    folder = copy_dataset(scifact_dir, tmp_path)
    line = append_line(folder / "corpus.jsonl", '{"doc_id": 999, "title": "x", "abstract": ["a"]')
    with pytest.raises(DataError, match=rf"corpus\.jsonl:{line}: invalid JSON"):
        SciFactRelease.load(folder)


def test_missing_field_names_field_and_line(scifact_dir, tmp_path):
    folder = copy_dataset(scifact_dir, tmp_path)
    line = append_line(folder / "claims_train.jsonl", '{"id": 99, "cited_doc_ids": [101]}')
    with pytest.raises(DataError, match=rf"claims_train\.jsonl:{line}: missing field 'claim'"):
        SciFactRelease.load(folder)


def test_wrong_type_names_field(scifact_dir, tmp_path):
    folder = copy_dataset(scifact_dir, tmp_path)
    line = append_line(folder / "corpus.jsonl", '{"doc_id": 998, "title": "x", "abstract": "not a list"}')
    with pytest.raises(DataError, match=rf"corpus\.jsonl:{line}: field 'abstract'"):
        SciFactRelease.load(folder)


def test_bad_label_names_nested_field(scifact_dir, tmp_path):
    folder = copy_dataset(scifact_dir, tmp_path)
    line = append_line(
        folder / "claims_train.jsonl",
        '{"id": 98, "claim": "c", "evidence": {"101": [{"sentences": [0], "label": "MAYBE"}]}, "cited_doc_ids": []}',
    )
    with pytest.raises(DataError, match=rf"claims_train\.jsonl:{line}: field 'evidence\.101\.0\.label'"):
        SciFactRelease.load(folder)


def test_rationale_outside_abstract_is_an_error(scifact_dir, tmp_path):
    folder = copy_dataset(scifact_dir, tmp_path)
    line = append_line(
        folder / "claims_train.jsonl",
        '{"id": 97, "claim": "c", "evidence": {"105": [{"sentences": [7], "label": "SUPPORT"}]}, "cited_doc_ids": []}',
    )
    with pytest.raises(DataError, match=rf"claims_train\.jsonl:{line}: field 'evidence\.105\.sentences'"):
        SciFactRelease.load(folder)


def test_duplicate_ids_name_both_lines(scifact_dir, tmp_path):
    folder = copy_dataset(scifact_dir, tmp_path)
    line = append_line(
        folder / "claims_train.jsonl", '{"id": 2, "claim": "again", "evidence": {}, "cited_doc_ids": []}'
    )
    with pytest.raises(DataError, match=rf"claims_train\.jsonl:{line}: duplicate id '2' \(first on line 2\)"):
        SciFactRelease.load(folder)


def test_duplicate_beir_document(beir_dir, tmp_path):
    folder = copy_dataset(beir_dir, tmp_path)
    line = append_line(folder / "corpus.jsonl", '{"_id": "py-1", "title": "", "text": "dup"}')
    with pytest.raises(DataError, match=rf"corpus\.jsonl:{line}: duplicate id 'py-1' \(first on line 1\)"):
        load_beir(folder, "train")


@pytest.mark.parametrize("layout", ["scifact", "beir"])
def test_empty_corpus_is_an_error(layout, scifact_dir, beir_dir, tmp_path):
    folder = copy_dataset(scifact_dir if layout == "scifact" else beir_dir, tmp_path)
    (folder / "corpus.jsonl").write_text("\n")
    with pytest.raises(DataError, match=r"corpus\.jsonl: empty corpus"):
        load_retrieval(folder, "train", validation_fraction=0)


def test_qrels_to_unknown_ids_are_counted_and_warned(beir_dir, tmp_path, caplog):
    folder = copy_dataset(beir_dir, tmp_path)
    with (folder / "qrels" / "train.tsv").open("a") as out:
        out.write("q1\tno-such-doc\t1\nq1\tother-missing\t1\nno-such-query\tpy-1\t1\n")
    with caplog.at_level(logging.WARNING, logger="negmine"):
        data = load_beir(folder, "train")
    assert "left out 2 judgement(s) for unknown documents and 1 for unknown queries" in caplog.text
    assert data.qrels["q1"] == {"py-1": 1}


def test_bad_qrels_score_names_line(beir_dir, tmp_path):
    folder = copy_dataset(beir_dir, tmp_path)
    with (folder / "qrels" / "train.tsv").open("a") as out:
        out.write("q1\tpy-2\thigh\n")
    with pytest.raises(DataError, match=r"train\.tsv:7: field 'score'"):
        load_beir(folder, "train")


def test_qrels_with_wrong_column_count(beir_dir, tmp_path):
    folder = copy_dataset(beir_dir, tmp_path)
    with (folder / "qrels" / "train.tsv").open("a") as out:
        out.write("q1 py-2 1\n")
    with pytest.raises(DataError, match=r"train\.tsv:7: expected 3 tab-separated fields"):
        load_beir(folder, "train")


def test_cited_docs_missing_from_corpus_are_warned(scifact_dir, tmp_path, caplog):
    folder = copy_dataset(scifact_dir, tmp_path)
    append_line(folder / "claims_train.jsonl", '{"id": 96, "claim": "c", "evidence": {}, "cited_doc_ids": [5555]}')
    with caplog.at_level(logging.WARNING, logger="negmine"):
        release = SciFactRelease.load(folder)
    assert "left out 1 cited document(s) missing from the corpus" in caplog.text
    assert release.claims["train"][96].evidence == {}


def test_bytes_that_are_not_utf8_name_file_and_line(beir_dir, tmp_path):
    from click.testing import CliRunner

    from negmine.cli.main import cli

    folder = copy_dataset(beir_dir, tmp_path)
    corpus = folder / "corpus.jsonl"
    corpus.write_bytes(b'{"_id": "x", "title": "\xff\xfe", "text": "t"}\n' + corpus.read_bytes())
    result = CliRunner().invoke(cli, ["eval", "--model", "bm25", "--dataset", str(folder), "--split", "test"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.output.strip() == f"Error: {corpus}:1: not valid UTF-8 (byte 0xff at column 24)"


def test_qrels_bytes_that_are_not_utf8_name_the_line(beir_dir, tmp_path):
    folder = copy_dataset(beir_dir, tmp_path)
    (folder / "qrels" / "test.tsv").write_bytes(b"query-id\tcorpus-id\tscore\nq1\t\xe9\t1\n")
    with pytest.raises(DataError, match=r"test\.tsv:2: not valid UTF-8"):
        load_beir(folder, "test")
