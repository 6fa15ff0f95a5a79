"""negmine audit and build-pairs --relabel: the round trip (a document judged relevant becomes a positive and never
a negative; one judged not relevant is not flagged again), and one clear line naming the CSV line for bad rows."""

from __future__ import annotations

import csv
import json

import pandas as pd
from click.testing import CliRunner

from negmine.analysis.audit import COLUMNS, split_sentences
from negmine.cli.main import cli


def audit(pairs_dir, out, model, *extra):
    return CliRunner().invoke(cli, ["audit", str(pairs_dir), "--out", str(out), "--reference", str(model), *extra])


def build(pairs_dir, out, model, relabel):
    manifest = json.loads((pairs_dir / "manifest.json").read_text())["parameters"]
    args = ["build-pairs", manifest["dataset"], "--out", str(out), "--model", str(model), "--validation-fraction",
            "0", "--range-min", "0", "--range-max", "6", "--relative-margin", "none", "--num-negatives", "2",
            "--output-format", "n-tuple", "--cache-dir", manifest["cache_dir"], "--relabel", str(relabel)]
    return CliRunner().invoke(cli, args)


def read(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def write(path, rows):
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def test_audit_lists_corpus_negatives_with_claim_title_and_evidence(pairs_dir, tiny_model_path, tmp_path):
    result = audit(pairs_dir, tmp_path / "audit.csv", tiny_model_path, "--top", "5")
    assert result.exit_code == 0, result.output
    rows = read(tmp_path / "audit.csv")
    assert list(rows[0]) == COLUMNS and 0 < len(rows) <= 5
    assert [int(r["rank"]) for r in rows] == list(range(1, len(rows) + 1))
    assert all(r["decision"] == "" and r["claim"] and r["title"] for r in rows)
    frame = pd.read_parquet(pairs_dir / "pairs.parquet")
    pairs = {(q, n) for q, ids in zip(frame["query_id"], frame["negative_ids"], strict=True) for n in ids}
    assert all((r["query_id"], r["negative_id"]) in pairs for r in rows)
    scores = [float(r["negative_score"]) for r in rows if not r["flags"]]
    assert scores == sorted(scores, reverse=True)


def test_relabel_round_trip(pairs_dir, tiny_model_path, tmp_path):
    assert audit(pairs_dir, tmp_path / "audit.csv", tiny_model_path).exit_code == 0
    rows = read(tmp_path / "audit.csv")
    relevant, not_relevant = rows[0], next(r for r in rows[1:] if r["query_id"] != rows[0]["query_id"])
    relevant["decision"], not_relevant["decision"] = "relevant", "Not_Relevant "
    write(tmp_path / "decided.csv", rows)
    result = build(pairs_dir, tmp_path / "relabelled", tiny_model_path, tmp_path / "decided.csv")
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(tmp_path / "relabelled" / "pairs.parquet")
    query, doc = relevant["query_id"], relevant["negative_id"]
    mine = frame[frame["query_id"] == query]
    assert doc in set(mine["positive_id"])  # a positive now
    assert all(doc not in ids for ids in frame.loc[frame["query_id"] == query, "negative_ids"])  # never a negative
    manifest = json.loads((tmp_path / "relabelled" / "manifest.json").read_text())
    assert manifest["relabel"]["relevant"] == [[query, doc]]
    assert manifest["relabel"]["not_relevant"] == [[not_relevant["query_id"], not_relevant["negative_id"]]]
    # auditing the relabelled pairs does not flag the pair a person already judged not relevant
    assert audit(tmp_path / "relabelled", tmp_path / "again.csv", tiny_model_path, "--top", "500").exit_code == 0
    again = {(r["query_id"], r["negative_id"]) for r in read(tmp_path / "again.csv")}
    assert (not_relevant["query_id"], not_relevant["negative_id"]) not in again


def test_bad_relabel_rows_name_the_csv_line(pairs_dir, tiny_model_path, tmp_path):
    assert audit(pairs_dir, tmp_path / "audit.csv", tiny_model_path).exit_code == 0
    rows = read(tmp_path / "audit.csv")
    cases = [
        ({"decision": "maybe"}, "field 'decision': unknown decision 'maybe'"),
        ({"query_id": "no-such-claim", "decision": "relevant"}, "field 'query_id': 'no-such-claim' is not a query"),
        ({"negative_id": "999999", "decision": "relevant"}, "field 'negative_id': '999999' is not a document"),
        ({"claim": "Something else entirely.", "decision": "relevant"}, "field 'claim': differs"),
    ]
    for number, (change, message) in enumerate(cases):
        bad = [dict(r) for r in rows]
        bad[1].update(change)
        write(tmp_path / f"bad{number}.csv", bad)
        out = tmp_path / f"out{number}"
        result = build(pairs_dir, out, tiny_model_path, tmp_path / f"bad{number}.csv")
        assert result.exit_code == 1, result.output
        assert f"bad{number}.csv:3: {message}" in result.output and "Traceback" not in result.output
        assert not out.exists()
    (tmp_path / "nodecision.csv").write_text("query_id,negative_id\n1,2\n")
    result = build(pairs_dir, tmp_path / "out", tiny_model_path, tmp_path / "nodecision.csv")
    assert result.exit_code == 1 and "nodecision.csv:1: missing column decision" in result.output


def test_split_sentences():
    assert split_sentences("One finding. Two: 5.3 mg. [Three]") == ["One finding.", "Two: 5.3 mg.", "[Three]"]
