"""The online fallback: fetch a data set from the Hugging Face hub into the data folder, in BEIR layout.

Only used when a data set is missing locally; offline (``HF_HUB_OFFLINE=1`` or no network) it fails with one
line saying which files to put where.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

from negmine.errors import NegmineError

# data set name -> (hub repository with corpus and queries, hub repository with qrels)
HUB_BEIR = {"scifact": ("BeIR/scifact", "BeIR/scifact-qrels")}


def missing_data_message(name: str, folder: Path) -> str:
    """One line telling the user which files to put where."""
    if name == "scifact":
        return (
            "dataset 'scifact' not found: put corpus.jsonl and claims_train.jsonl (the SciFact release) "
            f"in {folder}/, or set --data-dir / NEGMINE_DATA to the folder that holds scifact/"
        )
    return (
        f"dataset '{name}' not found: put corpus.jsonl, queries.jsonl and qrels/<split>.tsv (BEIR layout) "
        f"in {folder}/, or set --data-dir / NEGMINE_DATA"
    )


def download_beir(name: str, folder: Path) -> Path:
    """Download ``name`` from the hub into ``folder/beir`` and return that folder.

    Args:
        name: a data set listed in ``HUB_BEIR``.
        folder: the data set's local folder (``<data root>/<name>``).

    Returns:
        The BEIR folder written.

    Raises:
        NegmineError: the data set is unknown to the hub fallback, or the hub cannot be reached.
    """
    if name not in HUB_BEIR:
        raise NegmineError(missing_data_message(name, folder))
    from huggingface_hub import constants, hf_hub_download

    if constants.HF_HUB_OFFLINE:
        raise NegmineError(f"{missing_data_message(name, folder)} (offline: HF_HUB_OFFLINE is set)")
    corpus_repo, qrels_repo = HUB_BEIR[name]
    target = folder / "beir"
    partial = folder / "beir.partial"
    try:
        shutil.rmtree(partial, ignore_errors=True)
        (partial / "qrels").mkdir(parents=True)
        for remote, local in (("corpus.jsonl.gz", "corpus.jsonl"), ("queries.jsonl.gz", "queries.jsonl")):
            with gzip.open(hf_hub_download(corpus_repo, remote, repo_type="dataset"), "rb") as src:
                with open(partial / local, "wb") as dst:
                    shutil.copyfileobj(src, dst)
        for split in ("train", "test"):
            shutil.copy(hf_hub_download(qrels_repo, f"{split}.tsv", repo_type="dataset"), partial / "qrels")
    except Exception as error:  # offline, DNS failure, missing repository: all end the same way
        shutil.rmtree(partial, ignore_errors=True)
        reason = type(error).__name__
        raise NegmineError(f"{missing_data_message(name, folder)} (the hub could not be reached: {reason})") from None
    partial.rename(target)
    return target
