"""The docs a user reads hold: every relative link resolves, every command on the README's first screen exists, and
the README's Python quick start runs (on the tiny pair fixture)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).parents[1]
PAGES = [ROOT / "README.md", ROOT / "recipes" / "README.md", ROOT / "data" / "README.md",
         *sorted((ROOT / "docs").rglob("*.md"))]  # fmt: skip
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def first_screen() -> str:
    """The README down to its feature list: install, quick starts, results, the main job and the tests."""
    text = (ROOT / "README.md").read_text()
    return text[: text.index("## What is inside")]


def code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    broken = []
    for target in LINK.findall(page.read_text()):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue  # a URL or an anchor on the same page
        path = (page.parent / target.split("#")[0]).resolve()
        if not path.exists():
            broken.append(target)
    assert broken == [], f"{page.relative_to(ROOT)}: links to nothing: {broken}"


def test_every_command_on_the_first_screen_exists():
    from negmine.cli.main import cli

    commands = {line.split()[1] for block in code_blocks(first_screen(), "bash") for line in block.splitlines()
                if line.strip().startswith("negmine ")}  # fmt: skip
    assert {"build-pairs", "train"} <= commands
    for command in sorted(commands):
        result = CliRunner().invoke(cli, [command, "--help"])
        assert result.exit_code == 0, f"negmine {command} --help: {result.output}"


def test_the_python_quick_start_runs(pairs_data, pairs_model):
    """The README's drop-in example, as printed, on the tiny pair fixture: a Dataset with the asked negatives."""
    from datasets import Dataset

    (block,) = code_blocks(first_screen(), "python")
    namespace = {"dataset": Dataset.from_csv(str(pairs_data / "qa.csv")), "model": pairs_model}
    exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - the README's own code
    pairs = namespace["pairs"]
    assert {"negative_1", "negative_2", "negative_3"} <= set(pairs.column_names) and len(pairs) > 0
