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
    lines += synthetic_markdown(manifest.get("synthetic"))
    stats = manifest.get("score_stats") or {}
    if stats:
        rows = [{"scores": name, **values} for name, values in stats.items()]
        columns = list(dict.fromkeys(key for row in rows for key in row))
        lines += ["## Dense scores (gap = lowest positive - negative)", "", markdown_table(rows, columns), ""]
    lines += ["Parameters, input fingerprints and package versions: `manifest.json`.", ""]
    return "\n".join(lines)


def synthetic_markdown(report: dict | None) -> list[str]:
    """The synthetic-negative section: per generator, counts and rules, then up to five examples.

    Example:
        >>> synthetic_markdown({"reverse": {"anchors": 2, "anchors_with_output": 1, "negatives": 1,
        ...     "dropped_known_positive": 0, "rules": {"reverse:direction": 1}, "examples": []}, "seconds": 0.1})[0]
        '## Synthetic negatives (0.1 s)'
    """
    if not report:
        return []
    lines = [f"## Synthetic negatives ({report.get('seconds', 0)} s)", ""]
    rows = []
    for name, entry in report.items():
        if not isinstance(entry, dict):
            continue
        row = {"generator": name, **{k: v for k, v in entry.items() if k not in ("examples", "rules")}}
        row["rules"] = ", ".join(f"{rule} {count}" for rule, count in entry["rules"].items())
        rows.append(row)
    lines += [markdown_table(rows, list(dict.fromkeys(key for row in rows for key in row))), ""]
    for name, entry in report.items():
        if not isinstance(entry, dict) or not entry.get("examples"):
            continue
        lines += [f"### Examples: {name}", ""]
        for example in entry["examples"]:
            lines += [f"- `{example['source']}` (query {example['query_id']}): {_clip(example['original'])}",
                      f"  -> {_clip(example['negative'])}"]  # fmt: skip
            if example.get("mapping"):  # the swapped terms, which the clipped text may not reach
                lines.append("  swapped: " + ", ".join(f"{a} -> {b}" for a, b in example["mapping"].items()))
        lines.append("")
    return lines


def _clip(text: str, width: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."
