"""The probe: does a model rank the true text above a synthetic negative of each kind, on held-out claims.

For each generator, items are made from the validation claims (never trained on), and the probe is the share of
items a model gets right, through sentence-transformers' ``TripletEvaluator`` (accuracy = share with
``cos(anchor, positive) > cos(anchor, negative)``), so it runs inside the Trainer like any evaluator:

- ``perturb`` / ``swap``: anchor = the claim, positive = its cited abstract, negative = that abstract perturbed /
  with its claim terms swapped for those of the claim's top BM25 non-relevant document;
- ``reverse``: anchor = an abstract, positive = a claim it supports, negative = that claim reversed (is the claim
  closer to its own abstract than the reversed claim is?). On SciFact only SUPPORT abstracts are used (a CONTRADICT
  abstract supports the reversed claim); on a BEIR data set without labels, every relevant document.

This is the NevIR question (most bi-encoders are at chance when two documents differ by a negation) asked of our
data and of every generator, before and after training.

References:
    Weller et al., "NevIR: Negation in Neural Information Retrieval", EACL 2024.
"""

from __future__ import annotations

from negmine.augment.spec import GENERATORS, SyntheticConfig
from negmine.data.retrieval import RetrievalData

Items = dict[str, tuple[list[str], list[str], list[str]]]


def probe_items(
    data: RetrievalData,
    release=None,
    generators: tuple[str, ...] = GENERATORS,
    config: SyntheticConfig | None = None,
    seed: int = 42,
    cache_dir: str | None = None,
) -> Items:
    """``{generator: (anchors, positives, negatives)}`` from the queries of ``data`` (use the validation split).

    Args:
        data: the split the items come from.
        release: the SciFact release (its SUPPORT labels restrict the reversal items); None for BEIR data.
        generators: which generators to probe.
        config: generator settings (augmenters, swap terms); the defaults of :class:`SyntheticConfig` if None.
        seed: the generators' seed.
        cache_dir: where offline WordNet is assembled, if an augmenter needs it.

    Returns:
        The triplets of each generator; a generator with no item is left out.

    Example:
        >>> items = probe_items(load_retrieval("scifact", "validation"))  # doctest: +SKIP
        >>> sorted(items)  # doctest: +SKIP
        ['perturb', 'reverse', 'swap']
    """
    from negmine.augment.perturb import Perturber
    from negmine.augment.reverse import reverse_claim
    from negmine.augment.swap import KeywordSwapper
    from negmine.data.scifact import SUPPORT
    from negmine.search.bm25 import BM25Searcher

    config = config or SyntheticConfig()
    doc_ids = list(data.corpus)
    index = {doc: i for i, doc in enumerate(doc_ids)}
    texts = data.document_texts(doc_ids)
    relevant = {q: sorted(docs, key=index.__getitem__) for q, docs in data.relevant_docs().items() if docs}
    queries = list(relevant)
    items: Items = {name: ([], [], []) for name in generators}
    claims = {}
    if release is not None:
        for split_claims in release.claims.values():
            claims.update({str(c.id): c for c in split_claims.values()})
    if "perturb" in generators:
        perturber = Perturber(config.augmenters, seed=seed, cache_dir=cache_dir)
        for q in queries:
            positive = texts[index[relevant[q][0]]]
            for text, _ in perturber.perturb(positive, q, 1):
                _add(items["perturb"], data.queries[q], positive, text)
    if "swap" in generators:
        swapper = KeywordSwapper(texts, terms=config.swap_terms)
        k = 1 + max(len(docs) for docs in relevant.values())
        found = BM25Searcher(texts).search([data.queries[q] for q in queries], k).indices
        for q, row in zip(queries, found.tolist(), strict=True):
            donor = next((i for i in row if doc_ids[i] not in relevant[q]), None)
            positive = texts[index[relevant[q][0]]]
            swapped = swapper.swap(data.queries[q], positive, texts[donor]) if donor is not None else None
            if swapped is not None:
                _add(items["swap"], data.queries[q], positive, swapped.text)
    if "reverse" in generators:
        for q in queries:
            reversed_claims = reverse_claim(data.queries[q], q, 1, seed)
            if not reversed_claims:
                continue
            claim = claims.get(q)
            docs = [d for d in relevant[q] if claim is None or (d.isdigit() and claim.label(int(d)) == SUPPORT)]
            for doc in docs:
                _add(items["reverse"], texts[index[doc]], data.queries[q], reversed_claims[0][0])
    return {name: triplets for name, triplets in items.items() if triplets[0]}


def _add(triplets: tuple[list[str], list[str], list[str]], anchor: str, positive: str, negative: str) -> None:
    for column, text in zip(triplets, (anchor, positive, negative), strict=True):
        column.append(text)


def probe_evaluator(items: Items, batch_size: int = 32):
    """A ``SequentialEvaluator`` of one ``TripletEvaluator`` a generator, named ``probe_<generator>``; its metrics
    are ``probe_<generator>_cosine_accuracy``.

    Example:
        >>> evaluator = probe_evaluator({"reverse": (["abstract"], ["claim"], ["reversed claim"])})
        >>> [e.name for e in evaluator.evaluators]
        ['probe_reverse']
    """
    from sentence_transformers.sentence_transformer.evaluation import SequentialEvaluator, TripletEvaluator

    evaluators = [TripletEvaluator(a, p, n, name=f"probe_{name}", batch_size=batch_size, write_csv=False,
                                   similarity_fn_names=["cosine"]) for name, (a, p, n) in items.items()]  # fmt: skip
    return SequentialEvaluator(evaluators, main_score_function=lambda scores: sum(scores) / max(len(scores), 1))


def probe(model, items: Items, batch_size: int = 32) -> dict[str, float]:
    """``{generator: accuracy, ...}`` of ``model`` on the probe items, with the number of items of each.

    Example:
        >>> probe(model, probe_items(validation))  # doctest: +SKIP
        {'perturb': 0.98, 'perturb_items': 162, 'swap': 0.91, 'swap_items': 160, 'reverse': 0.55, 'reverse_items': 73}
    """
    metrics = probe_evaluator(items, batch_size)(model)
    out: dict[str, float] = {}
    for name, (anchors, _, _) in items.items():
        out[name] = round(float(metrics[f"probe_{name}_cosine_accuracy"]), 4)
        out[f"{name}_items"] = len(anchors)
    return out
