"""``negmine validate RECIPE...``: check recipes without running them."""

from __future__ import annotations

import click


@click.command("validate", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_context
def validate_command(ctx: click.Context, args: tuple[str, ...]) -> None:
    """Validate each RECIPE (RECIPE... [--section.key value ...]); exit 1 if one is invalid."""
    from negmine.errors import NegmineError
    from negmine.training.recipe import load_recipe, parse_overrides

    first_option = next((i for i, arg in enumerate(args) if arg.startswith("--")), len(args))
    recipes, overrides = args[:first_option], parse_overrides(list(args[first_option:]))
    failures = 0
    for path in recipes:
        try:
            load_recipe(path, overrides)
            click.echo(f"ok {path}")
        except NegmineError as error:
            failures += 1
            click.echo(f"invalid {error}", err=True)
    if failures:
        ctx.exit(1)
