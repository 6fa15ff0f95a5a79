"""``negmine env``: versions and devices for bug reports."""

from __future__ import annotations

import json

import click


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def env(as_json: bool) -> None:
    """Print package versions, the torch device and the FAISS build (paste it into bug reports)."""
    from negmine.env import environment_report

    report = environment_report()
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    for key, value in report.items():
        if key == "packages":
            for name, version in value.items():
                click.echo(f"- {name}: {version or 'not installed'}")
        else:
            click.echo(f"{key}: {value}")
