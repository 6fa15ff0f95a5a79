"""Writing an analysis: ``metrics.json`` (flat records), ``dynamics.json``, the plots as PNG, ``report.md`` and a
self-contained ``report.html`` (images embedded), plus ``manifest.json``; all into a temporary folder that is
renamed into place, so an interrupted or failed analysis leaves nothing behind."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

from negmine.outputs import atomic_folder, check_writable, json_default, markdown_table

SUMMARY = [
    ("set", "set"), ("encoder", "encoder"), ("negatives_at", "negatives"), ("source", "source"), ("negatives", "n"),
    ("hardness.score.mean", "s(q,n)"), ("hardness.margin.mean", "margin"), ("hardness.relative.mean", "s(q,n)/s(q,p)"),
    ("hardness.rank.median", "rank (median)"), ("hardness.inversion_rate", "inversion"),
    ("hardness.infonce_share.mean", "InfoNCE share"), ("diversity.vendi", "Vendi"),
    ("diversity.pairwise_distance.mean", "pairwise dist."), ("diversity.duplicate_rate", "duplicates"),
    ("diversity.cluster_entropy", "cluster entropy"), ("gap.frechet_corpus", "Fréchet (corpus)"),
    ("gap.score_wasserstein", "W(pos, neg)"), ("false_negatives.sister", "FN sister"),
    ("false_negatives.inversion", "FN inversion"), ("false_negatives.judge", "FN judge"),
    ("validation.ndcg@10", "val nDCG@10"),
]  # fmt: skip

PLOTS = {"violins.png": "Score violins", "map.png": "Embedding map", "evolution.png": "Training dynamics",
         "hardness_diversity.png": "Hardness vs diversity"}  # fmt: skip

# Counts the images that rendered into <body data-images-loaded="N">, so a headless browser's DOM dump shows it.
CHECK_SCRIPT = """<script>
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  document.body.setAttribute("data-images-loaded", images.filter(function (i) { return i.naturalWidth > 0; }).length);
  document.body.setAttribute("data-images", images.length);
});
</script>"""


def summary_rows(records: list[dict]) -> tuple[list[dict], list[str], list[str]]:
    """The report's table: one row per record, the key metrics with short headers; a metric that no record has,
    or that is 0 for every record, is left out (and named, so the reader knows it was measured).

    Returns:
        ``(rows, columns, all_zero)``.
    """
    names = dict(SUMMARY)
    present = [k for k, _ in SUMMARY if any(r.get(k) is not None for r in records)]
    all_zero = [k for k in present if all(isinstance(r.get(k), int | float) and not isinstance(r.get(k), bool)
                                          and r.get(k) == 0 for r in records if r.get(k) is not None)]  # fmt: skip
    keys = [k for k in present if k not in all_zero]
    rows = [{names[k]: ("" if r.get(k) is None else r[k]) for k in keys} for r in records]
    return rows, [names[k] for k in keys], [names[k] for k in all_zero]


def report_markdown(analysis, plots: list[str], skipped: list[str], seconds: float) -> str:
    rows, columns, all_zero = summary_rows(analysis.records)
    lines = ["# negmine analyze", "",
             f"{len({r['set'] for r in analysis.records})} set(s), {len(analysis.records)} records "
             f"({seconds:.1f} s). Scores are cosine similarities; `reference` rows use the fixed reference encoder "
             "so sets compare; `trained` / `checkpoint-N` rows re-measure a run's negatives with its own model. "
             "All metrics: metrics.json (definitions: docs/analysis.md).", "",
             markdown_table(rows, columns), ""]  # fmt: skip
    if all_zero:
        lines += [f"0 for every row, so not shown: {', '.join(all_zero)}.", ""]
    lines += ["To label the likely false negatives in a browser: `negmine audit PAIRS --out audit` writes "
              "`audit/index.html` (docs/analysis.md, the false-negative audit).", ""]
    reused = [(r["set"], r["diversity.most_reused"]) for r in analysis.records
              if r["source"] == "all" and r["encoder"] == "reference" and r.get("diversity.most_reused")]
    if reused:
        lines += ["## Most reused negative documents (reference rows)", ""]
        lines += [f"- {name}: " + "; ".join(f"{doc} \"{words}\" ({n} anchors)" for doc, n, words in docs)
                  for name, docs in reused]  # fmt: skip
        lines.append("")
    for plot in plots:
        lines += [f"## {PLOTS.get(plot, plot)}", "", f"![{PLOTS.get(plot, plot)}]({plot})", ""]
    if skipped:
        lines += ["## Left out", ""] + [f"- {note}" for note in skipped] + [""]
    timing = [{"step": k, "seconds": round(v, 2)} for k, v in analysis.timings.items()]
    lines += ["## Where the time went", "", markdown_table(timing, ["step", "seconds"]), ""]
    return "\n".join(lines)


def report_html(markdown_text: str, folder: Path, plots: list[str]) -> str:
    """A self-contained HTML page: the Markdown's tables as HTML tables and the plots embedded as base64 PNGs."""
    body = []
    table: list[str] = []

    def flush():
        if table:
            head, *rest = [[html.escape(c.strip()) for c in row.strip().strip("|").split("|")] for row in table]
            rest = [r for r in rest if not all(set(c) <= {"-"} for c in r)]
            body.append("<table><thead><tr>" + "".join(f"<th>{c}</th>" for c in head) + "</tr></thead><tbody>"
                        + "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rest)
                        + "</tbody></table>")  # fmt: skip
            table.clear()

    for line in markdown_text.splitlines():
        if line.startswith("|"):
            table.append(line)
            continue
        flush()
        if line.startswith("# "):
            body.append(f"<h1>{html.escape(line[2:])}</h1>")
        elif line.startswith("## "):
            body.append(f"<h2>{html.escape(line[3:])}</h2>")
        elif line.startswith("![") and "](" in line:
            name = line.split("](", 1)[1].rstrip(")")
            if name in plots:
                data = base64.b64encode((folder / name).read_bytes()).decode()
                body.append(f'<img alt="{html.escape(name)}" src="data:image/png;base64,{data}">')
        elif line.startswith("- "):
            body.append(f"<li>{html.escape(line[2:])}</li>")
        elif line.strip():
            body.append(f"<p>{html.escape(line)}</p>")
    flush()
    style = ("body{font-family:sans-serif;margin:2em;max-width:1800px}table{border-collapse:collapse;font-size:12px}"
             "td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}th{background:#eee}"
             "img{max-width:100%;border:1px solid #ddd;margin:8px 0}")  # fmt: skip
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>negmine analyze</title><style>{style}</style>"
            f"</head><body>{''.join(body)}{CHECK_SCRIPT}</body></html>\n")  # fmt: skip


def write_analysis(analysis, out: Path, manifest: dict, skipped: list[str], seconds: float, overwrite: bool,
                   seed: int = 0) -> list[str]:  # fmt: skip
    """Write everything into ``out`` atomically and return the plot names written."""
    import numpy as np

    from negmine.analysis import plots as draw

    out = check_writable(out, overwrite)
    with atomic_folder(out) as tmp:
        written = [draw.score_violins(analysis.scores, tmp / "violins.png").name]
        if analysis.maps:
            # claims and positives once (from the first set: sets of one data set share them), negatives of every set
            vectors, kinds = [], []
            many = len(analysis.maps) > 1
            for number, (name, m) in enumerate(analysis.maps.items()):
                keep = [i for i, k in enumerate(m["kinds"]) if number == 0 or k.startswith("negative")]
                vectors.append(m["vectors"][keep])
                kinds += [f"{name}: {m['kinds'][i]}" if many and m["kinds"][i].startswith("negative")
                          else m["kinds"][i] for i in keep]  # fmt: skip
            vectors = np.concatenate(vectors)
            written.append(draw.embedding_map(vectors, kinds, tmp / "map.png", seed=seed).name)
        for path in (draw.evolution(analysis.records, analysis.dynamics, tmp / "evolution.png"),
                     draw.hardness_diversity(analysis.records, tmp / "hardness_diversity.png")):  # fmt: skip
            if path is not None:
                written.append(path.name)
        (tmp / "metrics.json").write_text(json.dumps(analysis.records, indent=1, default=json_default) + "\n")
        (tmp / "dynamics.json").write_text(json.dumps(analysis.dynamics, indent=1, default=json_default) + "\n")
        manifest = {**manifest, "timings": {k: round(v, 3) for k, v in analysis.timings.items()},
                    "seconds": round(seconds, 2), "plots": written}  # fmt: skip
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=json_default) + "\n")
        text = report_markdown(analysis, written, skipped, seconds)
        (tmp / "report.md").write_text(text)
        (tmp / "report.html").write_text(report_html(text, tmp, written))
    return written
