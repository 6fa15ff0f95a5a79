"""Where data lives and how a data set name and a split become :class:`RetrievalData`.

The data root is ``--data-dir``, else ``$NEGMINE_DATA``, else ``./data``; the data set ``scifact`` is the folder
``scifact/`` under it. A folder may hold the SciFact release, a BEIR data set, or both (SciFact's ``beir/``).
"""

from __future__ import annotations

import os
from pathlib import Path

from negmine.data.beir import is_beir_folder, load_beir
from negmine.data.hub import download_beir, missing_data_message
from negmine.data.pairs import is_pair_source, read_pairs
from negmine.data.retrieval import RetrievalData
from negmine.data.scifact import CLAIM_FILES, SciFactRelease
from negmine.data.splits import carve_validation
from negmine.errors import NegmineError

SPLITS = ("train", "validation", "dev", "test")
DEFAULT_VALIDATION_FRACTION = 0.2
DEFAULT_SEED = 42


def data_root(data_dir: str | Path | None = None) -> Path:
    """``data_dir`` if given, else ``$NEGMINE_DATA``, else ``./data``."""
    return Path(data_dir or os.environ.get("NEGMINE_DATA") or "data")


def dataset_folder(dataset: str | Path, data_dir: str | Path | None = None, download: bool = True) -> Path:
    """The folder of a data set: an existing path as given, else ``<data root>/<dataset>``.

    A missing folder is fetched from the hub when the data set has a hub fallback and the hub is reachable;
    otherwise a :class:`NegmineError` says which files to put where.
    """
    path = Path(dataset)
    if path.is_dir() and (SciFactRelease.is_release(path) or is_beir_folder(path) or is_beir_folder(path / "beir")):
        return path
    folder = data_root(data_dir) / str(dataset)
    if SciFactRelease.is_release(folder) or is_beir_folder(folder) or is_beir_folder(folder / "beir"):
        return folder
    if not download:
        raise NegmineError(missing_data_message(str(dataset), folder))
    download_beir(str(dataset), folder)
    return folder


EXTRA_TRAINING = {
    "scifact_test_claims": "SciFact's claims_test.jsonl: 300 claims with their cited_doc_ids and no labels (the "
    "release withholds only the labels); disjoint from the labelled dev claims that BEIR calls 'test'",
}


def is_pair_data(dataset) -> bool:
    """Whether a ``dataset`` value names pair data (a file, a saved Dataset, a ``datasets`` object, or a hub name
    ``owner/name`` that is neither a folder here nor under the data root) rather than SciFact or a BEIR folder.

    Example:
        >>> is_pair_data("train.jsonl"), is_pair_data("scifact"), is_pair_data("sentence-transformers/gooaq")
        (True, False, True)
    """
    if is_pair_source(dataset):
        return True
    return isinstance(dataset, str) and "/" in dataset and not Path(dataset).exists() and not (
        data_root() / dataset).exists()  # fmt: skip


def default_validation_fraction(dataset) -> float:
    """The carve a data set gets when none is asked for: 0.2 of SciFact's and BEIR's training queries, none of
    pair data (a user's own pairs are carved only when asked).

    Example:
        >>> default_validation_fraction("scifact"), default_validation_fraction("my_pairs.csv")
        (0.2, 0.0)
    """
    return 0.0 if is_pair_data(dataset) else DEFAULT_VALIDATION_FRACTION


def load_retrieval(
    dataset: str | Path,
    split: str,
    data_dir: str | Path | None = None,
    validation_fraction: float | None = None,
    seed: int = DEFAULT_SEED,
    extra_training: tuple[str, ...] | list[str] = (),
    anchor_column: str | None = None,
    positive_column: str | None = None,
    corpus: str | None = None,
    data_format: str = "auto",
    texts_on_disk: str | Path | None = None,
) -> RetrievalData:
    """Load a split of a data set in the common retrieval form.

    Args:
        dataset: a name under the data root (``scifact``), a folder (SciFact release or BEIR layout), or pair data
            (a CSV / TSV / JSONL / Parquet file, a ``save_to_disk`` folder, a ``datasets`` object or a hub name:
            :func:`negmine.data.pairs.read_pairs`).
        split: ``train`` (the training queries, less the validation ones when ``validation_fraction`` > 0),
            ``validation`` (carved from train by ``validation_fraction`` and ``seed``), ``dev`` or ``test``.
            For SciFact, ``dev`` reads ``claims_dev.jsonl`` and ``test`` reads ``beir/qrels/test.tsv``, each
            falling back to the other: they hold the same held-out claims.
        data_dir: the data root (default ``$NEGMINE_DATA`` or ``./data``).
        validation_fraction: the share of training queries carved out for validation; 0 keeps all for train.
            None: :func:`default_validation_fraction` (0.2 for SciFact and BEIR, 0 for pair data). Pair data is
            carved by anchor: no anchor is on both sides.
        seed: the seed of the carve.
        extra_training: more training queries, added to ``train`` after the validation carve (so validation never
            changes): ``scifact_test_claims`` (:data:`EXTRA_TRAINING`). Ignored for the other splits.
        anchor_column, positive_column, corpus, data_format, texts_on_disk: for pair data
            (:func:`~negmine.data.pairs.read_pairs`); ``texts_on_disk`` is ignored for SciFact and BEIR folders.

    Returns:
        A :class:`RetrievalData` whose ``split`` is the one asked for.

    Example:
        >>> val = load_retrieval("scifact", "validation", validation_fraction=0.2, seed=42)  # doctest: +SKIP
        >>> len(val.queries)  # doctest: +SKIP
        162
    """
    if validation_fraction is None:
        validation_fraction = default_validation_fraction(dataset)
    if is_pair_data(dataset):
        if extra_training:
            raise NegmineError("extra_training: SciFact's extra claims do not apply to pair data")
        if split not in ("train", "validation"):
            raise NegmineError(f"split '{split}': pair data has a train split, and a validation split carved "
                               "from it when asked (validation_fraction)")  # fmt: skip
        full = read_pairs(dataset, anchor_column=anchor_column, positive_column=positive_column, corpus=corpus,
                          data_format=data_format, texts_on_disk=texts_on_disk)  # fmt: skip
        if validation_fraction <= 0:
            if split == "validation":
                raise NegmineError("split 'validation' needs a validation fraction above 0")
            return full
        train_ids, validation_ids = carve_validation(full.relevant_docs(), validation_fraction, seed)
        return full.subset(validation_ids if split == "validation" else train_ids, split)
    folder = dataset_folder(dataset, data_dir)
    name = folder.name
    if split in ("train", "validation"):
        full = _read_split(folder, "train", name)
        if validation_fraction <= 0:
            if split == "validation":
                raise NegmineError("split 'validation' needs a validation fraction above 0")
            return _with_extra(full, folder, extra_training) if split == "train" else full
        train_ids, validation_ids = carve_validation(full.relevant_docs(), validation_fraction, seed)
        if split == "validation":
            return full.subset(validation_ids, split)
        return _with_extra(full.subset(train_ids, split), folder, extra_training)
    if split in ("dev", "test"):
        return _read_split(folder, split, name)
    raise NegmineError(f"unknown split '{split}' (choose from {', '.join(SPLITS)})")


def _read_split(folder: Path, split: str, name: str) -> RetrievalData:
    """One stored split: the SciFact release first (it keeps the labels), the BEIR copy otherwise."""
    release = SciFactRelease.is_release(folder)
    beir = folder if is_beir_folder(folder) else folder / "beir"
    scifact_like = release or name == "scifact"
    # SciFact's labelled dev claims are BEIR's test split: each name falls back to the other.
    candidates = {
        "train": [("release", "train"), ("beir", "train")],
        "dev": [("release", "dev"), ("beir", "dev")] + ([("beir", "test")] if scifact_like else []),
        "test": [("beir", "test")] + ([("release", "dev")] if scifact_like else []),
    }[split]
    for kind, stored in candidates:
        if kind == "release" and release and (folder / CLAIM_FILES[stored]).is_file():
            data = SciFactRelease.load(folder).to_retrieval(stored)
        elif kind == "beir" and is_beir_folder(beir) and (beir / "qrels" / f"{stored}.tsv").is_file():
            data = load_beir(beir, stored, name)
        else:
            continue
        return data if stored == split else data.subset(data.queries, split)
    if scifact_like:
        raise NegmineError(
            f"split '{split}' is not in {folder}: SciFact's labelled dev claims are held out; put claims_dev.jsonl "
            f"in {folder}/ or qrels/test.tsv in {beir}/ to evaluate on them"
        )
    raise NegmineError(f"split '{split}' is not in {folder} (no qrels/{split}.tsv)")


def _with_extra(data: RetrievalData, folder: Path, extra: tuple[str, ...] | list[str]) -> RetrievalData:
    """``data`` (the training split) with the queries and qrels of each extra training source added."""
    for source in extra:
        if source not in EXTRA_TRAINING:
            raise NegmineError(f"extra_training: unknown source '{source}' (choose from {', '.join(EXTRA_TRAINING)})")
        if not SciFactRelease.is_release(folder) or not (folder / CLAIM_FILES["test"]).is_file():
            raise NegmineError(f"extra_training {source}: needs the SciFact release's {CLAIM_FILES['test']} "
                               f"in {folder}")  # fmt: skip
        added = SciFactRelease.load(folder).to_retrieval("test")
        if not added.qrels:  # a source that adds no pair must not pass for one that did
            raise NegmineError(f"{folder / CLAIM_FILES['test']}: none of its {len(added.queries)} claims has "
                               f"cited_doc_ids, so extra_training {source} would add no training pair")  # fmt: skip
        clash = sorted(set(added.queries) & set(data.queries), key=str)
        if clash:
            raise NegmineError(f"{folder / CLAIM_FILES['test']}: claim ids {clash[:5]} are also training claims")
        data = RetrievalData(corpus=data.corpus, queries={**data.queries, **added.queries},
                             qrels={**data.qrels, **added.qrels}, name=data.name, split=data.split,
                             sources=tuple(dict.fromkeys((*data.sources, *added.sources))))  # fmt: skip
    return data
