"""``negmine.mine_hard_negatives``: sentence-transformers' call, unchanged, on negmine's mining core.

Every parameter of ``sentence_transformers.util.mine_hard_negatives`` keeps its name, meaning and default, and the
result is a ``datasets.Dataset`` with the same columns, so switching is a changed import. With the extras switched
off (``near_duplicates=False``) the negatives are sentence-transformers' own (ties aside; a test pins it). The
extras are keyword-only:

- ``lexical``: BM25 candidates (bm25s) beside the dense ones, ranked together by the dense score (DPR's BM25
  negatives).
- ``near_duplicates`` (on): a document whose text is one of the anchor's positives up to case and whitespace is
  never its negative, nor is the anchor's own text; ``duplicate_cosine`` adds a cosine threshold to a positive.
  Every positive of an anchor is excluded, whether it comes from repeated rows or a list in the positive column.
- ``sampling_strategy`` also takes ``semi-hard`` and ``simans``; ``random`` is seeded (``seed``).
- ``return_manifest``: the dataset and a manifest (what each filter removed, which searcher ran, input and model
  fingerprints, package versions, counts).
- ``output_dir`` and ``audit``: the pairs written as a ``build-pairs`` folder, and the false-negative audit
  sheet (``negmine audit``) of the negatives most likely to be relevant, for a person to label.
- ``vectors_on_disk``: a corpus larger than memory (on by default for an ``IterableDataset``): its texts in a
  memory-mapped Arrow file, its vectors in the embedding cache's shards, searched by a streamed approximate FAISS
  index and re-scored exactly, and the rows written in chunks.

References:
    Moreira et al., "NV-Retriever: Improving text embedding models with effective hard-negative mining", 2024;
    Karpukhin et al., "Dense Passage Retrieval for Open-Domain Question Answering", EMNLP 2020.
"""

from __future__ import annotations

import math
import os
from typing import Literal

from negmine.errors import NegmineError


def mine_hard_negatives(
    dataset,
    model,
    anchor_column_name: str | None = None,
    positive_column_name: str | None = None,
    corpus: list[str] | None = None,
    cross_encoder=None,
    range_min: int = 0,
    range_max: int | None = None,
    max_score: float | None = None,
    min_score: float | None = None,
    absolute_margin: float | None = None,
    relative_margin: float | None = None,
    num_negatives: int = 3,
    sampling_strategy: Literal["random", "top", "semi-hard", "simans"] = "top",
    query_prompt_name: str | None = None,
    query_prompt: str | None = None,
    corpus_prompt_name: str | None = None,
    corpus_prompt: str | None = None,
    include_positives: bool = False,
    output_format: Literal["triplet", "n-tuple", "labeled-pair", "labeled-list"] = "triplet",
    output_scores: bool = False,
    batch_size: int = 32,
    faiss_batch_size: int = 16384,
    use_faiss: bool = False,
    use_multi_process: list[str] | bool = False,
    verbose: bool = True,
    cache_folder: str | None = None,
    as_triplets: bool | None = None,
    margin: float | None = None,
    *,
    lexical: bool = False,
    near_duplicates: bool = True,
    duplicate_cosine: float | None = None,
    seed: int = 42,
    vectors_on_disk: bool | None = None,
    index_factory: str | None = None,
    nprobe: int | None = None,
    return_manifest: bool = False,
    output_dir: str | None = None,
    overwrite: bool = False,
    audit: int = 0,
):
    """Add hard negatives to (anchor, positive) pairs, as ``sentence_transformers.util.mine_hard_negatives`` does.

    Args:
        dataset: a ``datasets.Dataset`` or ``IterableDataset`` of (anchor, positive) pairs (a positive cell may
            hold a list of texts), or anything :func:`negmine.data.pairs.read_pairs` reads (a CSV / TSV / JSONL /
            Parquet file, a ``save_to_disk`` folder, FlagEmbedding or Tevatron records, whose negatives are kept).
        model: a ``SentenceTransformer``.
        anchor_column_name, positive_column_name: the columns (default: the first two). A name that is not a
            column is an error listing the columns (sentence-transformers falls back to the first two silently).
        corpus: more candidate texts beside the positives.
        cross_encoder: a ``CrossEncoder`` that rescores candidates and positives; its scores order, filter and
            are returned.
        range_min, range_max, max_score, min_score, absolute_margin, relative_margin, num_negatives: as in
            sentence-transformers: the window counts the candidates left after the filters; margins compare with
            the anchor's lowest positive score; ``range_max`` None is derived the same way.
        sampling_strategy: ``top``, ``random`` (seeded by ``seed``), ``semi-hard`` or ``simans``
            (:func:`negmine.mining.sampling.sample_negatives`).
        query_prompt_name, query_prompt, corpus_prompt_name, corpus_prompt: prompts for the anchors and corpus.
        include_positives: keep positives among the candidates (forces ``n-tuple``, as sentence-transformers does).
        output_format, output_scores: sentence-transformers' four formats, with scores when asked.
        batch_size: texts an encoding batch.
        faiss_batch_size: accepted for compatibility; negmine's searchers batch their own queries.
        use_faiss: search with FAISS (else exact search in torch); both are exact.
        use_multi_process: encode with a sentence-transformers multi-process pool (True or a list of devices).
        verbose: progress bars and a summary of what each filter removed.
        cache_folder: where embeddings are cached (negmine's sharded cache, keyed by model, length, prompt and
            text); None caches nothing, as in sentence-transformers.
        as_triplets, margin: sentence-transformers' deprecated spellings of ``output_format`` and
            ``absolute_margin``.
        lexical: BM25 candidates beside the dense ones.
        near_duplicates: never take a positive's text (up to case and whitespace) as a negative.
        duplicate_cosine: never take a candidate whose cosine to a positive reaches this.
        seed: the seed of random sampling.
        vectors_on_disk: keep the corpus's texts and vectors on disk and search a streamed IVF index (default: for
            an ``IterableDataset``); uses ``cache_folder`` or negmine's default cache, whose ``texts/`` file goes
            when the call ends and whose ``rows/`` file holds the returned dataset (memory-mapped, as ``datasets``
            keeps its cache files: delete it when done).
        index_factory: the FAISS index (default ``Flat``, exact; on disk ``IVF{n},SQ8`` with n about 4 sqrt(docs)).
        nprobe: IVF cells an approximate index visits (default on disk: 4, with which 0.99 of the negatives of a
            1M corpus were exact search's in ``docs/results/scale.md``; in memory FAISS's own 1).
        return_manifest: return ``(dataset, manifest)``.
        output_dir: also write the pairs as a ``negmine build-pairs`` folder (dataset, ``pairs.parquet``,
            ``manifest.json``, README) that ``negmine train --pairs.path``, ``analyze`` and ``audit`` read.
        overwrite: replace an existing ``output_dir``.
        audit: write ``audit.csv`` into ``output_dir``: the ``audit`` mined negatives most likely to be false
            negatives (``negmine audit``'s sheet, scored by ``model``), with an empty ``decision`` column.

    Returns:
        A ``datasets.Dataset`` in ``output_format`` (and the manifest with ``return_manifest``).

    Example:
        >>> from negmine import mine_hard_negatives
        >>> from sentence_transformers import SentenceTransformer
        >>> from datasets import Dataset
        >>> pairs = Dataset.from_dict({"question": ["What is a cat?", "What is a dog?"],
        ...                            "answer": ["A small feline.", "A loyal canine."]})
        >>> model = SentenceTransformer("all-MiniLM-L6-v2")  # doctest: +SKIP
        >>> mine_hard_negatives(pairs, model, num_negatives=1, relative_margin=0.05)  # doctest: +SKIP
        Dataset({features: ['question', 'answer', 'negative'], num_rows: 2})

    References:
        Moreira et al., "NV-Retriever", 2024 (``relative_margin=0.05``, ``sampling_strategy="top"``).
    """
    from datasets import IterableDataset

    from negmine.data.pairs import read_pairs
    from negmine.mining.static import MiningParams
    from negmine.pairs.build import (
        ROW_CHUNK,
        PairsConfig,
        mine_pairs,
        model_name,
        pairs_manifest,
        save_pairs,
        texts_folder,
    )
    from negmine.pairs.formats import dataset_from_chunks, sentence_transformers_columns

    if as_triplets is not None:
        output_format = "triplet" if as_triplets else "n-tuple"
    if margin is not None:
        absolute_margin = margin
    if include_positives:
        output_format = "n-tuple"
    if num_negatives < 1:
        raise NegmineError(f"num_negatives must be at least 1, got num_negatives={num_negatives}")
    if audit and output_dir is None:
        raise NegmineError("audit writes its sheet into output_dir: give output_dir too")
    if output_dir is not None:
        from negmine.outputs import check_writable

        check_writable(output_dir, overwrite)  # before the long work
    streamed = isinstance(dataset, IterableDataset) if vectors_on_disk is None else vectors_on_disk
    data = read_pairs(dataset, anchor_column=anchor_column_name, positive_column=positive_column_name, corpus=corpus,
                      texts_on_disk=texts_folder(cache_folder) if streamed else None)  # fmt: skip
    columns = _output_columns(dataset, anchor_column_name, positive_column_name)
    max_positives = max(len(docs) for docs in data.qrels.values())
    if range_max is None:  # sentence-transformers' own derivation
        filtered = any(v is not None for v in (absolute_margin, relative_margin, max_score)) or (
            cross_encoder is not None and min_score is not None)  # fmt: skip
        range_max = range_min + num_negatives * (10 if filtered else 1) + max_positives
    if index_factory is None:
        index_factory = f"IVF{max(1, min(4096, int(4 * math.sqrt(len(data.corpus)))))},SQ8" if streamed else "Flat"
    try:
        params = MiningParams(range_min=range_min, range_max=range_max, absolute_margin=absolute_margin,
                              relative_margin=relative_margin, max_score=max_score, min_score=min_score,
                              sampling_strategy=sampling_strategy, num_negatives=num_negatives, seed=seed)  # fmt: skip
        config = PairsConfig(dataset=data.name or "pairs", model=model_name(model) or "model", batch_size=batch_size,
                             cache_dir=cache_folder, searchers=["dense", "lexical"] if lexical else ["dense"],
                             searcher="faiss" if use_faiss else "torch", vectors_on_disk=streamed,
                             index_factory=index_factory, nprobe=nprobe, mining=params, output_format=output_format,
                             near_duplicates=near_duplicates, duplicate_cosine=duplicate_cosine, noise_filter=False,
                             seed=seed)  # fmt: skip
    except ValueError as error:  # pydantic's ValidationError is one
        from negmine.errors import describe_validation_error

        raise NegmineError(describe_validation_error(error) if hasattr(error, "errors") else str(error)) from None
    prompts = {role: text for role, text in (("query", _prompt(model, query_prompt, query_prompt_name)),
                                             ("document", _prompt(model, corpus_prompt, corpus_prompt_name)))
               if text is not None}  # fmt: skip
    pool = None
    if use_multi_process:
        pool = model.start_multi_process_pool(None if isinstance(use_multi_process, bool) else use_multi_process)
    try:
        mined = mine_pairs(config, data, model=model, cross_encoder=cross_encoder, prompts=prompts,
                           exclude_positives=not include_positives, extra_candidates=max_positives + 1,
                           show_progress_bar=verbose, use_cache=cache_folder is not None or streamed,
                           pool=pool)  # fmt: skip
    finally:
        if pool is not None:
            model.stop_multi_process_pool(pool)
    anchors, step = mined.anchors, ROW_CHUNK if streamed else max(1, len(mined.anchors))
    chunks = (sentence_transformers_columns(anchors[s : s + step], mined.negatives[s : s + step],
                                            mined.positive_scores[s : s + step], mined.doc_texts.__getitem__,
                                            output_format, num_negatives, *columns, output_scores=output_scores)
              for s in range(0, len(anchors), step))  # fmt: skip
    names = list(sentence_transformers_columns([], [], [], None, output_format, num_negatives, *columns,
                                               output_scores=output_scores))  # fmt: skip
    # a corpus larger than memory: the rows go to an Arrow file in the cache, memory-mapped, as datasets' own are
    result = dataset_from_chunks(chunks, rows_file(cache_folder) if streamed else None, names)
    if verbose:
        report = mined.report["mining"]
        print(f"negmine: {len(result)} {output_format} rows from {len(mined.anchors)} anchors; removed "
              f"{report['removed']}; {report['short_queries']} anchors short of {num_negatives} negatives")
    if output_dir is not None:
        save_pairs(config, data, mined, output_dir, overwrite)
        if audit:
            _write_audit(output_dir, data, model, audit, cache_folder)
    if not return_manifest:
        return result
    short = sum(len(n) < num_negatives for a, n in zip(mined.anchors, mined.negatives, strict=True)
                for _ in a.positives)  # fmt: skip
    manifest = pairs_manifest(config, data, mined, len(result), short if output_format == "n-tuple" else 0)
    manifest["call"] = {"function": "negmine.mine_hard_negatives", "output_scores": output_scores,
                        "include_positives": include_positives, "use_faiss": use_faiss,
                        "anchor_column_name": columns[0], "positive_column_name": columns[1]}  # fmt: skip
    return result, manifest


def rows_file(cache_folder: str | None):
    """A new Arrow file for the rows of a larger-than-memory call: ``rows/`` in the embedding cache, kept (the
    returned dataset is memory-mapped from it, as ``datasets`` keeps its own cache files)."""
    import tempfile
    from pathlib import Path

    from negmine.pairs.build import texts_folder

    folder = texts_folder(cache_folder).parent / "rows"
    folder.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix="negmine-rows-", suffix=".arrow", dir=folder)
    os.close(handle)
    return Path(name)


def _output_columns(dataset, anchor: str | None, positive: str | None) -> tuple[str, str]:
    """The names the output's anchor and positive columns keep: the input's, as in sentence-transformers
    (``query`` / ``positive`` for FlagEmbedding and Tevatron records, ``anchor`` / ``positive`` for a file)."""
    from negmine.data.pairs import detect_format, pair_columns

    columns = list(getattr(dataset, "column_names", None) or [])
    kind = detect_format(columns)
    if kind != "pairs" or len(columns) < 2:
        return anchor or ("query" if kind != "pairs" else "anchor"), "positive"
    return pair_columns(columns, anchor, positive)


def _prompt(model, prompt: str | None, prompt_name: str | None) -> str | None:
    """A raw prompt wins over a named one, as in sentence-transformers."""
    if prompt is not None:
        return prompt
    if prompt_name is None:
        return None
    prompts = getattr(model, "prompts", None) or {}
    if prompt_name not in prompts:
        known = ", ".join(prompts) or "none"
        raise NegmineError(f"prompt name '{prompt_name}' is not in the model's prompts ({known})")
    return prompts[prompt_name]


def _write_audit(folder: str, data, model, top: int, cache_folder: str | None = None) -> None:
    """``negmine audit``'s sheet for a pairs folder written here, scored by the mining model (its cached vectors,
    when the call cached them, are read rather than encoded again)."""
    from pathlib import Path

    from negmine.analysis.audit import audit_csv, audit_rows
    from negmine.analysis.false_negatives import sister_documents
    from negmine.analysis.measure import encode_set
    from negmine.analysis.negatives import load_negative_set
    from negmine.encode import Encoder
    from negmine.outputs import write_text

    nset = load_negative_set(folder)
    encoder = Encoder(model, cache_dir=cache_folder, show_progress_bar=False, use_cache=cache_folder is not None)
    rows = audit_rows(nset, encode_set(nset, encoder), data, sister_documents(data.relevant_docs()), encoder, top)
    write_text(Path(folder) / "audit.csv", audit_csv(rows), overwrite=True)
