"""What ``negmine analyze`` was pointed at: pairs folders, training runs, or a folder of runs
(``benchmarks/quality.py``'s output)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from negmine.analysis.negatives import is_pairs_folder
from negmine.errors import NegmineError


@dataclass
class Target:
    """One thing to analyse: a pairs folder alone, or a run with the pairs it trained on.

    Attributes:
        name: the folder's name (a run's is its output folder's, e.g. ``scifact-static-seed1``).
        pairs: the pairs folder.
        run: the run folder, or None for a pairs folder.
        refreshes: a dynamic run's later minings (``negatives/refresh-01`` ...), measured as the negatives move.
    """

    name: str
    pairs: Path
    run: Path | None = None
    refreshes: list[Path] = field(default_factory=list)


def is_run_folder(folder: Path) -> bool:
    """A folder written by ``negmine train``: its resolved ``recipe.yaml`` and a ``model/`` or ``metrics.json``."""
    return (folder / "recipe.yaml").is_file() and ((folder / "model").is_dir() or (folder / "metrics.json").is_file())


def refresh_folders(run: Path) -> list[Path]:
    """A dynamic run's minings (``RUN/negatives/refresh-NN``, the first before training), in order."""
    return sorted(p for p in (run / "negatives").glob("refresh-*") if is_pairs_folder(p))


def run_pairs(run: Path) -> Path:
    """The pairs a run trained on: ``RUN/pairs``, the folder its recipe's ``pairs.path`` names, or a dynamic
    run's first mining (``RUN/negatives/refresh-00``)."""
    if is_pairs_folder(run / "pairs"):
        return run / "pairs"
    if refresh_folders(run):
        return refresh_folders(run)[0]
    from negmine.config import read_yaml

    recipe = read_yaml((run / "recipe.yaml").read_text()) or {}
    path = (recipe.get("pairs") or {}).get("path") if isinstance(recipe.get("pairs"), dict) else None
    if path and is_pairs_folder(Path(path)):
        return Path(path)
    raise NegmineError(f"{run}: a run without its pairs (no pairs/ folder, and its recipe names none that exists); "
                       "runs trained on plain pairs have no negatives to analyse")  # fmt: skip


def find_targets(paths: list[str | Path]) -> tuple[list[Target], list[str]]:
    """The targets under ``paths``, and a note for each run of a folder of runs that was left out (no pairs).

    Raises:
        NegmineError: a path that is none of the three, or a run named directly that lacks its pairs.

    Example:
        >>> find_targets(["runs/quality"])  # doctest: +SKIP
        ([Target(name='scifact-static-seed1', ...), ...], ['scifact-inbatch-seed1: ...'])
    """
    targets, skipped = [], []
    for raw in paths:
        path = Path(raw)
        if not path.is_dir():
            raise NegmineError(f"{path}: no such folder")
        if is_pairs_folder(path):
            targets.append(Target(path.name, path))
        elif is_run_folder(path):
            targets.append(Target(path.name, run_pairs(path), path, refresh_folders(path)[1:]))
        else:
            runs = sorted(p for p in path.iterdir() if p.is_dir() and is_run_folder(p))
            if not runs:
                raise NegmineError(f"{path}: neither a pairs folder (manifest.json, pairs.parquet), nor a run "
                                   "(recipe.yaml, model/), nor a folder of runs")  # fmt: skip
            for run in runs:
                try:
                    targets.append(Target(run.name, run_pairs(run), run, refresh_folders(run)[1:]))
                except NegmineError as error:
                    skipped.append(str(error))
    names = [t.name for t in targets]
    if len(set(names)) < len(names):
        # two folders of the same name from different places: tell them apart by their parent
        for target in targets:
            if names.count(target.name) > 1:
                target.name = f"{(target.run or target.pairs).parent.name}/{target.name}"
    if not targets:
        raise NegmineError("nothing to analyse: " + "; ".join(skipped))
    return targets, skipped


def checkpoints(run: Path) -> list[tuple[int, Path]]:
    """A run's kept checkpoints (``checkpoints/checkpoint-STEP``) as ``(step, folder)``, by step."""
    found = []
    for folder in (run / "checkpoints").glob("checkpoint-*"):
        suffix = folder.name.rsplit("-", 1)[-1]
        if suffix.isdigit() and (folder / "modules.json").is_file():
            found.append((int(suffix), folder))
    return sorted(found)
