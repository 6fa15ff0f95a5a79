"""The audit page in a real browser (headless Chromium through Playwright): three pairs labelled with the keyboard
survive a reload, the download is the CSV that build-pairs --relabel reads, and the pair marked relevant stops being a
negative."""

from __future__ import annotations

import csv
import json
import shutil

import pytest
from click.testing import CliRunner
from datasets import load_from_disk

from negmine.cli.main import cli

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WINDOW = ["--range-min", "0", "--range-max", "10"]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_the_page_is_one_self_contained_file(pairs_data, pairs_model_path, tmp_path):
    """audit --out FOLDER writes the sheet and the page; the page loads nothing from elsewhere."""
    source = ["build-pairs", pairs_data / "qa.csv", "--corpus", pairs_data / "corpus.txt", "--model",
              pairs_model_path, *WINDOW, "--cache-dir", tmp_path / "cache"]  # fmt: skip
    assert run(*source, "--out", tmp_path / "pairs").exit_code == 0
    result = run("audit", tmp_path / "pairs", "--out", tmp_path / "audit", "--top", 5, "--reference",
                 pairs_model_path, "--cache-dir", tmp_path / "cache")  # fmt: skip
    assert result.exit_code == 0, result.output
    page = (tmp_path / "audit" / "index.html").read_text()
    assert "http://" not in page and "https://" not in page and "<link" not in page and " src=" not in page
    rows = list(csv.DictReader((tmp_path / "audit" / "audit.csv").open()))
    data = json.loads(page.split('<script type="application/json" id="data">')[1].split("</script>")[0])
    assert [r["negative_id"] for r in data["rows"]] == [r["negative_id"] for r in rows]
    assert all(r["positives"] and r["negative_text"] for r in data["rows"])  # what a person decides from


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium (Debian: apt-get install chromium; .ci/run installs it)")
def test_labels_survive_a_reload_and_the_download_relabels(pairs_data, pairs_model_path, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (the test extra)")
    source = ["build-pairs", pairs_data / "qa.csv", "--corpus", pairs_data / "corpus.txt", "--model",
              pairs_model_path, *WINDOW, "--cache-dir", tmp_path / "cache"]  # fmt: skip
    assert run(*source, "--out", tmp_path / "pairs").exit_code == 0
    assert run("audit", tmp_path / "pairs", "--out", tmp_path / "audit", "--top", 5, "--reference", pairs_model_path,
               "--cache-dir", tmp_path / "cache").exit_code == 0  # fmt: skip
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_context(accept_downloads=True).new_page()
        page.goto((tmp_path / "audit" / "index.html").as_uri())
        assert page.inner_text("#progress") == "0 / 5 decided"
        for key in ("r", "n", "s"):
            page.keyboard.press(key)
        assert page.inner_text("#progress") == "3 / 5 decided"
        page.reload()
        assert page.inner_text("#progress") == "3 / 5 decided"  # kept in the browser's storage
        page.keyboard.press("b")
        assert page.inner_text("#decision") == "skip"  # back to the third pair, its decision shown
        with page.expect_download() as download:
            page.click("#export")
        download.value.save_as(tmp_path / "decided.csv")
        browser.close()
    rows = list(csv.DictReader((tmp_path / "decided.csv").open()))
    assert [r["decision"] for r in rows] == ["relevant", "not_relevant", "skip", "", ""]
    result = run(*source, "--out", tmp_path / "relabelled", "--relabel", tmp_path / "decided.csv")
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "relabelled" / "manifest.json").read_text())
    assert manifest["relabel"]["relevant"] == [[rows[0]["query_id"], rows[0]["negative_id"]]]
    assert manifest["relabel"]["not_relevant"] == [[rows[1]["query_id"], rows[1]["negative_id"]]]
    relabelled = [r for r in load_from_disk(str(tmp_path / "relabelled" / "dataset"))
                  if r["query_id"] == rows[0]["query_id"]]  # fmt: skip
    assert rows[0]["negative_id"] not in {r["negative_id"] for r in relabelled}
    assert rows[0]["negative_id"] in {r["positive_id"] for r in relabelled}
