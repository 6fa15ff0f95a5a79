"""The false-negative audit as one self-contained HTML page a person labels in the browser: one flagged (anchor,
negative) pair at a time, with the anchor's known positives, the suspected negative's text, the words they share
highlighted and the signals that flagged it; decisions by click or key (r relevant, n not relevant, s skip, b back),
kept in the browser's storage, exported as the CSV that ``negmine build-pairs --relabel`` reads.

No server, no network, no CDN: the rows are embedded as JSON and the page is plain HTML, CSS and JavaScript.

References:
    Settles, 2009, "Active Learning Literature Survey" (label the ambiguous items first);
    FlagEmbedding issue #850 (mined negatives that are false negatives).
"""

from __future__ import annotations

import hashlib
import html
import json
import re

from negmine.analysis.audit import COLUMNS

STOPWORDS = frozenset("""a an and are as at be been but by can did do does for from had has have how i if in into is
it its may not of on or our than that the their them then there these they this those to was we were what when which
who whom why will with would you your""".split())  # fmt: skip
_WORD = re.compile(r"[A-Za-z0-9]+")


def content_words(text: str) -> set[str]:
    """Lower-cased words of three letters or more that are not stop words.

    Example:
        >>> sorted(content_words("Vitamin D lowers the risk of fractures"))
        ['fractures', 'lowers', 'risk', 'vitamin']
    """
    return {w for w in (m.lower() for m in _WORD.findall(text)) if len(w) >= 3 and w not in STOPWORDS}


def lexical_overlap(anchor: str, text: str) -> float:
    """The share of the anchor's content words that the text contains (0 when the anchor has none).

    Example:
        >>> lexical_overlap("vitamin d and fractures", "Fractures fell with vitamin D.")
        1.0
    """
    words = content_words(anchor)
    return round(len(words & content_words(text)) / len(words), 3) if words else 0.0


def page_rows(rows: list[dict], data) -> list[dict]:
    """The sheet's rows with what the page shows besides: the anchor's known positives (texts), the negative's full
    text and the lexical overlap of anchor and negative.

    Args:
        rows: :func:`negmine.analysis.audit.audit_rows`' rows.
        data: the pairs' retrieval data (queries, corpus, judgements).

    Returns:
        One dict a row: the sheet's columns plus ``positives``, ``negative_text`` and ``overlap``.
    """
    relevant = data.relevant_docs()
    out = []
    for row in rows:
        doc = data.corpus[row["negative_id"]]
        text = " ".join(part for part in (doc.get("title", ""), doc.get("text", "")) if part)
        positives = data.document_texts(sorted(relevant.get(row["query_id"], ())))
        out.append({**row, "positives": positives, "negative_text": text,
                    "overlap": lexical_overlap(row["claim"], text)})  # fmt: skip
    return out


def audit_html(rows: list[dict], title: str = "negmine audit") -> str:
    """The page (see the module docstring) for :func:`page_rows`' rows.

    Args:
        rows: the rows, in the sheet's order.
        title: the page title (the pairs folder, say).

    Returns:
        The HTML text.

    Example:
        >>> "<script" in audit_html([], "empty")
        True
    """
    key = hashlib.sha256(json.dumps([(r["query_id"], r["negative_id"]) for r in rows]).encode()).hexdigest()[:16]
    payload = json.dumps({"key": key, "columns": COLUMNS, "rows": rows, "stopwords": sorted(STOPWORDS)})
    payload = payload.replace("</", "<\\/")  # nothing in the data can close the script element
    return PAGE.replace("__TITLE__", html.escape(title)).replace("__DATA__", payload)


PAGE = r"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>__TITLE__</title>
<style>
 body { font: 15px/1.5 system-ui, sans-serif; margin: 0; color: #1d1d1f; background: #f5f5f7; }
 header { background: #fff; border-bottom: 1px solid #ddd; padding: 10px 20px; display: flex; flex-wrap: wrap;
          gap: 12px; align-items: center; position: sticky; top: 0; }
 header h1 { font-size: 16px; margin: 0; flex: 1 1 auto; }
 #progress { font-variant-numeric: tabular-nums; }
 #bar { height: 4px; background: #e5e5ea; } #bar div { height: 4px; background: #0a84ff; width: 0; }
 main { max-width: 1100px; margin: 0 auto; padding: 16px 20px 0; }
 .grid { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
 @media (max-width: 760px) { .grid { grid-template-columns: 1fr; } }
 section { background: #fff; border: 1px solid #ddd; border-radius: 8px; padding: 12px 16px; }
 section h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: #6e6e73; margin: 0 0 6px; }
 .anchor { font-size: 17px; font-weight: 600; }
 mark { background: #ffe58f; padding: 0 1px; }
 .positive { border-left: 3px solid #34c759; padding-left: 8px; margin: 6px 0; }
 .negative { border-left: 3px solid #ff9f0a; padding-left: 8px; }
 table.signals { border-collapse: collapse; width: 100%; font-size: 14px; }
 table.signals td { padding: 3px 6px; border-bottom: 1px solid #eee; }
 table.signals td:first-child { color: #6e6e73; width: 45%; }
 .buttons { display: flex; flex-wrap: wrap; gap: 8px; position: sticky; bottom: 0; padding: 10px 0;
            background: #f5f5f7; border-top: 1px solid #ddd; }
 button { font: inherit; padding: 8px 14px; border-radius: 6px; border: 1px solid #bbb; background: #fff;
          cursor: pointer; }
 button.relevant { border-color: #34c759; } button.not_relevant { border-color: #ff3b30; }
 button.chosen { background: #1d1d1f; color: #fff; }
 kbd { font: 12px ui-monospace, monospace; border: 1px solid #ccc; border-radius: 3px; padding: 0 4px; }
 .decision { font-weight: 600; } .muted { color: #6e6e73; font-size: 13px; }
</style></head>
<body>
<header><h1>__TITLE__</h1><span id="progress"></span>
 <button id="export">Download decisions (CSV)</button></header>
<div id="bar"><div></div></div>
<main>
 <p class="muted">Is the suspected negative relevant to the anchor, as its known positives are? <kbd>r</kbd> relevant,
 <kbd>n</kbd> not relevant, <kbd>s</kbd> skip, <kbd>b</kbd> back, <kbd>&rarr;</kbd> next. Decisions stay in this
 browser; the download is the CSV <code>negmine build-pairs --relabel</code> reads.</p>
 <div id="pair"></div>
 <div class="buttons">
  <button class="relevant" data-decision="relevant">Relevant <kbd>r</kbd></button>
  <button class="not_relevant" data-decision="not_relevant">Not relevant <kbd>n</kbd></button>
  <button data-decision="skip">Skip <kbd>s</kbd></button>
  <button id="back">Back <kbd>b</kbd></button>
  <button id="next">Next <kbd>&rarr;</kbd></button>
 </div>
</main>
<script type="application/json" id="data">__DATA__</script>
<script>
"use strict";
const DATA = JSON.parse(document.getElementById("data").textContent);
const ROWS = DATA.rows, STORE = "negmine-audit:" + DATA.key, STOP = new Set(DATA.stopwords);
let decisions = {};
try { decisions = JSON.parse(localStorage.getItem(STORE) || "{}"); } catch (e) { decisions = {}; }
let at = Math.max(0, ROWS.findIndex(r => !decisions[id(r)]));
if (ROWS.length && ROWS.every(r => decisions[id(r)])) at = ROWS.length - 1;
function id(r) { return r.query_id + "\u0000" + r.negative_id; }
function words(text) {
  return new Set((text.toLowerCase().match(/[a-z0-9]+/g) || []).filter(w => w.length >= 3 && !STOP.has(w)));
}
function escape(text) {
  return text.replace(/[&<>"]/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]));
}
function highlight(text, shared) {
  return escape(text).replace(/[A-Za-z0-9]+/g, w => shared.has(w.toLowerCase()) ? "<mark>" + w + "</mark>" : w);
}
function save() { localStorage.setItem(STORE, JSON.stringify(decisions)); }
function show() {
  const done = ROWS.filter(r => decisions[id(r)]).length;
  document.getElementById("progress").textContent = done + " / " + ROWS.length + " decided";
  document.querySelector("#bar div").style.width = (ROWS.length ? 100 * done / ROWS.length : 0) + "%";
  const box = document.getElementById("pair");
  if (!ROWS.length) { box.innerHTML = "<section>Nothing to audit.</section>"; return; }
  const r = ROWS[at], shared = new Set([...words(r.claim)].filter(w => words(r.negative_text).has(w)));
  const decision = decisions[id(r)] || "";
  const signals = [
    ["rank in the audit", r.rank + " of " + ROWS.length],
    ["reference score, negative", r.negative_score], ["reference score, best positive", r.positive_score],
    ["negative / positive", r.relative_score], ["anchor words in the negative", Math.round(100 * r.overlap) + "%"],
    ["flags", r.flags || "none"], ["judge", r.judge === "" ? "not run" : (r.judge ? "relevant" : "not relevant")],
    ["source", r.negative_source], ["query / document id", r.query_id + " / " + r.negative_id]];
  box.innerHTML =
    "<section><h2>Anchor</h2><div class='anchor'>" + highlight(r.claim, shared) + "</div></section>" +
    "<div class='grid' style='margin-top:16px'>" +
    "<section><h2>Suspected negative</h2><div class='negative'>" + highlight(r.negative_text, shared) +
    "</div><p class='muted'>Closest sentences: " + escape(r.evidence || "") + "</p></section>" +
    "<section><h2>Known positive" + (r.positives.length === 1 ? "" : "s") + "</h2>" +
    r.positives.map(p => "<div class='positive'>" + highlight(p, shared) + "</div>").join("") +
    "<h2 style='margin-top:12px'>Why it was flagged</h2><table class='signals'>" +
    signals.map(([k, v]) => "<tr><td>" + k + "</td><td>" + escape(String(v)) + "</td></tr>").join("") +
    "</table><p>Decision: <span class='decision' id='decision'>" + (decision || "none yet") + "</span></p>" +
    "</section></div>";
  document.querySelectorAll("button[data-decision]").forEach(
    b => b.classList.toggle("chosen", b.dataset.decision === decision));
}
function decide(value) {
  if (!ROWS.length) return;
  decisions[id(ROWS[at])] = value; save();
  if (at < ROWS.length - 1) at += 1;
  show();
}
function move(step) { at = Math.min(ROWS.length - 1, Math.max(0, at + step)); show(); }
function csvCell(value) {
  const text = value === undefined || value === null ? "" : String(value);
  return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
}
function exportCsv() {
  const lines = [DATA.columns.join(",")].concat(ROWS.map(r => DATA.columns.map(
    c => csvCell(c === "decision" ? (decisions[id(r)] || "") : r[c])).join(",")));
  const blob = new Blob([lines.join("\n") + "\n"], {type: "text/csv"});
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob); link.download = "audit.csv";
  document.body.appendChild(link); link.click(); link.remove();
}
document.querySelectorAll("button[data-decision]").forEach(
  b => b.addEventListener("click", () => decide(b.dataset.decision)));
document.getElementById("back").addEventListener("click", () => move(-1));
document.getElementById("next").addEventListener("click", () => move(1));
document.getElementById("export").addEventListener("click", exportCsv);
document.addEventListener("keydown", e => {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const keys = {r: () => decide("relevant"), n: () => decide("not_relevant"), s: () => decide("skip"),
                b: () => move(-1), ArrowLeft: () => move(-1), ArrowRight: () => move(1)};
  if (keys[e.key]) { e.preventDefault(); keys[e.key](); }
});
show();
</script>
</body></html>
"""
