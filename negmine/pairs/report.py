"""A pairs folder's README: what was built, from what, and how hard the negatives are."""

from __future__ import annotations

from negmine.outputs import markdown_table


def manifest_markdown(manifest: dict) -> str:
    """The manifest as a short Markdown page (counts, filters, score quantiles).

    Example:
        >>> print(manifest_markdown({"parameters": {"dataset": "x"}, "counts": {"rows": 3}}).splitlines()[0])
        # Pairs: x
    """
    params = manifest.get("parameters", {})
    lines = [f"# Pairs: {params.get('dataset', '')}", ""]
    lines += ["## Counts", "", markdown_table([manifest.get("counts", {})], list(manifest.get("counts", {}))), ""]
    for title, mining in (("Mining", manifest.get("mining")), ("Topic negatives", manifest.get("topic_mining"))):
        if not mining:
            continue
        proposed = ", ".join(f"{name} {count}" for name, count in mining["proposed"].items())
        row = {"candidates": mining["candidates"], **mining["removed"], "survivors": mining["survivors"],
               "in_window": mining["in_window"], "negatives": mining["negatives"]}  # fmt: skip
        lines += [f"## {title}: candidates removed by each filter", "", f"Proposed by searcher: {proposed}.", ""]
        lines += [markdown_table([row], list(row)), ""]
        lines += [f"Anchors left with too few negatives: {mining['short_queries']}", ""]
    stats = manifest.get("score_stats") or {}
    if stats:
        rows = [{"scores": name, **values} for name, values in stats.items()]
        columns = list(dict.fromkeys(key for row in rows for key in row))
        lines += ["## Dense scores (gap = lowest positive - negative)", "", markdown_table(rows, columns), ""]
    lines += ["Parameters, input fingerprints and package versions: `manifest.json`.", ""]
    return "\n".join(lines)
