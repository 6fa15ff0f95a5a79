"""Experiment D's measure: the geometry of every trained model of a study, negatives or not.

``negmine analyze`` measures a run through its negatives, so a run without any (in-batch only, positives only) has
no point there. What replaces negatives is read from the model itself instead: on the validation split's (claim,
relevant abstract) pairs, Wang & Isola's alignment (how close a claim sits to its abstracts) and uniformity (how
spread the embeddings are; a model trained on positives alone can collapse, uniformity near 0), and linear CKA of
its embeddings against the reference model's and against the same seed's model of a chosen strategy (the
hard-negative model).

References:
    Wang & Isola, 2020, "Understanding Contrastive Representation Learning through Alignment and Uniformity on
    the Hypersphere" (ICML); Kornblith et al., 2019, "Similarity of Neural Network Representations Revisited"
    (ICML).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from negmine.analysis.geometry import linear_cka, model_geometry


def study_geometry(spec, out: Path, runs: list[dict], data_dir: str | None = None,
                   cache_dir: str | None = None) -> list[dict]:  # fmt: skip
    """One row a finished run (and one for the reference model): alignment, uniformity, CKA with the reference
    and, when the study names ``geometry_against``, with that strategy's model of the same seed.

    Args:
        spec: the :class:`~negmine.study.spec.StudySpec`.
        out: the study folder (``out/runs/NAME-seedN/model``).
        runs: :func:`~negmine.study.runner.collect_runs`' rows.
        data_dir: a data root replacing the recipes'.
        cache_dir: the embedding cache.

    Returns:
        Rows ``{strategy, seed, run, geometry.alignment, geometry.uniformity, geometry.cka_reference,
        geometry.cka_<strategy>, <quality>}``.

    Example:
        >>> spec = load_study("studies/scifact.yaml")  # doctest: +SKIP
        >>> rows = study_geometry(spec, Path("runs/study-scifact"), collect_runs(spec, out))  # doctest: +SKIP
    """
    from negmine.analysis.analyze import validation_pairs
    from negmine.config import read_yaml
    from negmine.encode import Encoder
    from negmine.models import load_model

    key = spec.quality.removeprefix("validation.")
    texts: dict[str, tuple[list[str], list[str]]] = {}
    vectors: dict[tuple[str, str], np.ndarray] = {}  # (model, data section) -> claims then abstracts
    rows = []
    mine: dict[str, np.ndarray] = {}  # run -> its embeddings
    first: dict[str, str] = {}  # the first data section seen: the reference row's texts

    def embed(name: str, model_path: str, recipe: dict) -> tuple[np.ndarray, int]:
        """A model's embeddings of the claims then the abstracts, and the number of claims."""
        data_key = repr(sorted((recipe.get("data") or {}).items()))
        if data_key not in texts:
            texts[data_key] = validation_pairs(recipe, data_dir)[1:]
        claims, docs = texts[data_key]
        if (name, data_key) not in vectors:
            section = recipe.get("model") or {}  # the length the trained model reads at (as saved)
            max_len = section.get("inference_max_seq_length") or section.get("max_seq_length")
            encoder = Encoder(load_model(model_path, max_seq_length=max_len), cache_dir=cache_dir,
                              show_progress_bar=False)  # fmt: skip
            claim_vectors = encoder.encode(claims, role="query")
            vectors[name, data_key] = np.concatenate([claim_vectors, encoder.encode(docs, role="document")])
            first.setdefault("data_key", data_key)
        return vectors[name, data_key], len(claims)

    for run in runs:
        folder = out / "runs" / run["run"]
        if not (folder / "model").is_dir():
            continue
        recipe = read_yaml((folder / "recipe.yaml").read_text())
        both, n = embed(run["run"], str(folder / "model"), recipe)
        mine[run["run"]] = both
        reference, _ = embed("reference", spec.reference, recipe)
        with threadpool_limits(1, user_api="blas"):
            row = {"strategy": run["strategy"], "seed": run["seed"], "run": run["run"],
                   **model_geometry(both[:n], both[n:], reference), key: run.get(key)}  # fmt: skip
        rows.append(row)
    if spec.geometry_against:
        models = {(r["strategy"], r["seed"]): r["run"] for r in rows}
        for row in rows:
            other = models.get((spec.geometry_against, row["seed"]))
            with threadpool_limits(1, user_api="blas"):
                same_texts = other is not None and mine[other].shape == mine[row["run"]].shape
                row[f"geometry.cka_{spec.geometry_against}"] = (
                    linear_cka(mine[other], mine[row["run"]]) if same_texts else None
                )
    if first:
        n = len(texts[first["data_key"]][0])
        ref = vectors["reference", first["data_key"]]
        with threadpool_limits(1, user_api="blas"):
            rows.insert(0, {"strategy": "reference (untrained)", "seed": None, "run": str(spec.reference),
                            **model_geometry(ref[:n], ref[n:]), "geometry.cka_reference": 1.0, key: None})
    return rows


def geometry_summary(rows: list[dict], quality: str) -> list[dict]:
    """Mean and sd over seeds a strategy of every geometry column and the quality.

    Example:
        >>> geometry_summary([{"strategy": "a", "seed": 1, "geometry.alignment": 0.5, "q": 0.7},
        ...                   {"strategy": "a", "seed": 2, "geometry.alignment": 0.7, "q": 0.6}], "q")[0]["q"]
        '0.6500 ± 0.0707'
    """
    columns = [c for c in dict.fromkeys(k for r in rows for k in r) if c.startswith("geometry.")] + [quality]
    summary = []
    for strategy in dict.fromkeys(r["strategy"] for r in rows):
        mine = [r for r in rows if r["strategy"] == strategy]
        entry = {"strategy": strategy, "seeds": len(mine)}
        for column in columns:
            values = [float(r[column]) for r in mine if r.get(column) is not None]
            spread = f" ± {np.std(values, ddof=1):.4f}" if len(values) > 1 else ""
            entry[column] = f"{np.mean(values):.4f}{spread}" if values else ""
        summary.append(entry)
    return summary
