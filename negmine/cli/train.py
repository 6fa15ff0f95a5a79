"""``negmine train RECIPE [--output-dir DIR] [--section.key value ...]``."""

from __future__ import annotations

import shutil

import click


@click.command("train", context_settings={"ignore_unknown_options": True})
@click.argument("recipe_path", metavar="RECIPE", type=click.Path(dir_okay=False))
@click.option("--output-dir", default=None, help="Overrides the recipe's output_dir.")
@click.option("--overwrite", is_flag=True, help="Delete an existing output folder first (else: resume).")
@click.argument("overrides", nargs=-1, type=click.UNPROCESSED)
def train_command(recipe_path, output_dir, overwrite, overrides) -> None:
    """Train the model of RECIPE; an interrupted run started again resumes from its last checkpoint."""
    from pathlib import Path

    from negmine import distributed
    from negmine.errors import NegmineError
    from negmine.outputs import markdown_table
    from negmine.training.recipe import load_recipe, parse_overrides
    from negmine.training.run import train

    recipe = load_recipe(recipe_path, parse_overrides(list(overrides)))
    output = Path(output_dir or recipe.output_dir)
    distributed.init_distributed()  # under torchrun / accelerate launch; a wrong launch is one line here
    with distributed.main_process_first():  # only the main process deletes; the others look after it
        if overwrite and output.exists() and distributed.is_main():
            shutil.rmtree(output)
        elif (output / "model").exists() and not overwrite:
            raise NegmineError(f"{output} already holds a trained model (pass --overwrite to train again)")
    metrics = train(recipe, output)
    main = distributed.is_main()
    distributed.finish()
    if not main:
        return
    rows = [{"split": split, **values} for split, values in metrics.items()]
    if rows:
        click.echo(markdown_table(rows, list(rows[0])))
    click.echo(f"model: {output / 'model'}", err=True)
