"""Reading a person's relevance decisions back into the data: the ``decision`` column of a filled-in audit sheet
(``negmine audit``'s CSV, or the page's export) turns the documents marked relevant into positives before mining, so
they are never mined as negatives again. This is the pipeline's side of the audit loop; writing the sheet is
``negmine.analysis.audit``.

References:
    Thakur et al., 2021, "BEIR" (missing judgements in retrieval benchmarks).
"""

from __future__ import annotations

import csv
import dataclasses
import io
from dataclasses import dataclass, field
from pathlib import Path

from negmine.errors import DataError, NegmineError

DECISIONS = ("relevant", "not_relevant", "skip", "")


@dataclass
class Relabel:
    """Decisions read from a filled-in audit CSV: (query id, document id) pairs."""

    path: str
    relevant: set[tuple[str, str]] = field(default_factory=set)
    not_relevant: set[tuple[str, str]] = field(default_factory=set)
    skipped: int = 0

    def summary(self, fingerprint: str) -> dict:
        """The manifest's record: counts, and the pairs (so a later audit leaves the not-relevant ones out)."""
        return {"file": self.path, "sha256": fingerprint,
                "applied": {"relevant": len(self.relevant), "not_relevant": len(self.not_relevant)},
                "relevant": sorted(map(list, self.relevant)), "not_relevant": sorted(map(list, self.not_relevant)),
                "skipped": self.skipped}  # fmt: skip


def read_relabel(path: str | Path, data) -> Relabel:
    """Read a filled-in audit CSV against the data it will relabel.

    Args:
        path: the CSV (its header must hold ``query_id``, ``negative_id`` and ``decision``).
        data: the split being built (its queries and corpus decide what matches).

    Returns:
        A :class:`Relabel`.

    Raises:
        DataError: ``FILE:LINE: field 'decision': ...`` for an unknown decision, a query or document that is not in
            the data, a claim text that differs from the query's, or a pair decided twice differently.

    Example:
        >>> read_relabel("audit.csv", data).relevant  # doctest: +SKIP
        {('13', '4414547')}
    """
    path = Path(path)
    if not path.is_file():
        raise NegmineError(f"{path}: no such file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not valid UTF-8 (byte {error.object[error.start]:#04x})") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("query_id", "negative_id", "decision") if c not in (reader.fieldnames or [])]
    if missing:
        raise DataError(f"{path}:1: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    relabel = Relabel(str(path))
    decisions: dict[tuple[str, str], tuple[str, int]] = {}
    for row in reader:
        line = reader.line_num
        decision = (row.get("decision") or "").strip().lower()
        query, doc = (row.get("query_id") or "").strip(), (row.get("negative_id") or "").strip()
        if decision not in DECISIONS:
            raise DataError(f"{path}:{line}: field 'decision': unknown decision {row['decision']!r} "
                            "(relevant, not_relevant, skip or empty)")  # fmt: skip
        if query not in data.queries:
            raise DataError(f"{path}:{line}: field 'query_id': {query!r} is not a query of {data.name}/{data.split}; "
                            "the row does not match these pairs")  # fmt: skip
        if doc not in data.corpus:
            raise DataError(f"{path}:{line}: field 'negative_id': {doc!r} is not a document of {data.name}")
        claim = (row.get("claim") or "").strip()
        if claim and claim != data.queries[query].strip():
            raise DataError(f"{path}:{line}: field 'claim': differs from query {query}'s text; the row does not "
                            "match these pairs")  # fmt: skip
        if decision in ("", "skip"):
            relabel.skipped += decision == "skip"
            continue
        earlier = decisions.get((query, doc))
        if earlier is not None and earlier[0] != decision:
            raise DataError(f"{path}:{line}: field 'decision': {decision} contradicts line {earlier[1]} "
                            f"({earlier[0]}) for query {query}, document {doc}")  # fmt: skip
        decisions[(query, doc)] = (decision, line)
        (relabel.relevant if decision == "relevant" else relabel.not_relevant).add((query, doc))
    return relabel


def apply_relabel(data, relabel: Relabel):
    """The data with each ``relevant`` decision added to its query's relevance judgements (so it becomes a
    positive, and the miners' known-positive filter keeps it out of the negatives)."""
    qrels = {q: dict(docs) for q, docs in data.qrels.items()}
    for query, doc in relabel.relevant:
        qrels.setdefault(query, {})[doc] = max(1, qrels.get(query, {}).get(doc, 0))
    return dataclasses.replace(data, qrels=qrels)  # every other field (given negatives, counts) kept
