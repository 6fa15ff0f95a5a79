"""The ``negmine`` click group: user mistakes (:class:`NegmineError`) become one line and a non-zero exit."""

from __future__ import annotations

import logging

import click

from negmine import __version__
from negmine.errors import NegmineError


class NegmineGroup(click.Group):
    """A click group that reports :class:`NegmineError` as ``Error: <message>`` (exit 1) without a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except NegmineError as error:
            raise click.ClickException(str(error)) from None


@click.group(cls=NegmineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="negmine")
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
def cli(verbose: bool) -> None:
    """negmine: train sentence-embedding retrievers on better negatives, and show why they are better."""
    logging.basicConfig(
        format="%(levelname)s %(name)s: %(message)s", level=logging.DEBUG if verbose else logging.WARNING
    )
    logging.getLogger("negmine").setLevel(logging.DEBUG if verbose else logging.INFO)
    logging.getLogger("bm25s").setLevel(logging.DEBUG if verbose else logging.WARNING)


def _register() -> None:
    from negmine.cli.analyze import analyze_command
    from negmine.cli.audit import audit_command
    from negmine.cli.build_pairs import build_pairs_command
    from negmine.cli.encode import encode_command
    from negmine.cli.env import env
    from negmine.cli.eval import eval_command
    from negmine.cli.soup import soup_command
    from negmine.cli.study import study_command
    from negmine.cli.train import train_command
    from negmine.cli.validate import validate_command

    cli.add_command(env)
    cli.add_command(eval_command)
    cli.add_command(build_pairs_command)
    cli.add_command(encode_command)
    cli.add_command(validate_command)
    cli.add_command(train_command)
    cli.add_command(analyze_command)
    cli.add_command(audit_command)
    cli.add_command(study_command)
    cli.add_command(soup_command)


_register()


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="negmine")
