"""``negmine soup MODEL MODEL [...] --out DIR``: average fine-tuned models' weights into one."""

from __future__ import annotations

import click


@click.command("soup")
@click.argument("models", nargs=-1, required=True)
@click.option("--out", required=True, type=click.Path(file_okay=False), help="The averaged model's folder.")
@click.option("--overwrite", is_flag=True, help="Replace an existing --out folder.")
def soup_command(models, out, overwrite) -> None:
    """Average the weights of MODELS (fine-tuned from one start: seeds or checkpoints) into one model ("model
    soup"); evaluate it with negmine eval like any other."""
    from negmine.soup import average_models

    manifest = average_models(list(models), out, overwrite=overwrite)
    click.echo(f"wrote {out}: the mean of {manifest['count']} models")
