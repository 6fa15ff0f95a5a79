"""``negmine audit``: the negatives of a pairs folder most likely to be relevant, as a page to label in the browser
and a CSV to relabel."""

from __future__ import annotations

import click


@click.command("audit")
@click.argument("pairs_dir", type=click.Path())
@click.option("--out", required=True, type=click.Path(),
              help="A folder (audit.csv and index.html, the page to label in a browser), or a .csv file (the sheet "
                   "alone).")
@click.option("--top", type=click.IntRange(min=1), default=50, show_default=True, help="Rows to list.")
@click.option("--reference", default="all-MiniLM-L6-v2", show_default=True, help="The reference encoder.")
@click.option("--judge", default=None, help="A bi- or cross-encoder whose verdict also flags negatives.")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="Data root replacing the one in the pairs' manifest.")
@click.option("--cache-dir", type=click.Path(file_okay=False), default=None, help="Embedding cache.")
@click.option("--overwrite", is_flag=True, help="Replace an existing --out.")
def audit_command(pairs_dir, out, top, reference, judge, data_dir, cache_dir, overwrite) -> None:
    """List the negatives of PAIRS_DIR most likely to be false negatives (sister evidence, judge, inversion, then
    relative score) with the claim, the title and the two closest sentences, and an empty ``decision`` column
    (relevant / not_relevant / skip) that ``negmine build-pairs --relabel`` reads back."""
    from pathlib import Path

    from negmine.analysis.audit import audit_csv, audit_rows
    from negmine.analysis.false_negatives import sister_documents
    from negmine.analysis.measure import encode_set
    from negmine.analysis.negatives import load_negative_set, load_pairs_data
    from negmine.encode import Encoder
    from negmine.models import load_model
    from negmine.outputs import check_writable, write_text

    check_writable(out, overwrite)
    nset = load_negative_set(Path(pairs_dir))
    data = load_pairs_data(nset.manifest, data_dir, Path(pairs_dir))
    max_len = (nset.manifest.get("model") or {}).get("max_seq_length")
    encoder = Encoder(load_model(reference, max_seq_length=max_len), cache_dir=cache_dir)
    vectors = encode_set(nset, encoder)
    judge_flags = None
    if judge:
        from negmine.analysis.false_negatives import judge_flags as flags_of
        from negmine.analysis.false_negatives import load_judge

        judge_flags = flags_of(load_judge(judge), nset)
    decided = {tuple(p) for p in ((nset.manifest.get("relabel") or {}).get("not_relevant") or [])}
    rows = audit_rows(nset, vectors, data, sister_documents(data.relevant_docs()), encoder, top, judge_flags,
                      decided)  # fmt: skip
    flagged = sum(1 for r in rows if r["flags"])
    if str(out).lower().endswith(".csv"):
        write_text(out, audit_csv(rows), overwrite=overwrite)
        how = "fill in 'decision'"
    else:
        from negmine.analysis.audit_page import audit_html, page_rows
        from negmine.outputs import atomic_folder

        with atomic_folder(out) as tmp:
            (tmp / "audit.csv").write_text(audit_csv(rows))
            (tmp / "index.html").write_text(audit_html(page_rows(rows, data), f"negmine audit: {pairs_dir}"))
        how = f"open {Path(out) / 'index.html'} in a browser, label, download the CSV"
    click.echo(f"wrote {out}: {len(rows)} negatives to review ({flagged} flagged, {len(decided)} already judged not "
               f"relevant left out); {how}, then build-pairs --relabel", err=True)  # fmt: skip
