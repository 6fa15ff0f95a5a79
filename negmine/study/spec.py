"""A study file: strategies (a recipe plus overrides), the budget every strategy shares, the seeds, the baseline,
and what the analysis correlates.

Example (``studies/scifact.yaml``)::

    name: scifact
    seeds: [1, 2, 3]
    baseline: static
    budget: {training.num_train_epochs: 1, model.max_seq_length: 128}
    strategies:
      - {name: static, recipe: recipes/scifact-static.yaml}
      - {name: random, recipe: recipes/scifact-static.yaml, set: {pairs.mining.sampling_strategy: random}}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from negmine.errors import NegmineError, describe_validation_error

HARDNESS = "hardness.margin.mean"
DIVERSITY = "diversity.vendi"
METRICS = ["hardness.score.mean", "hardness.margin.mean", "hardness.relative.mean", "hardness.rank.median",
           "hardness.infonce_share.mean", "diversity.vendi", "diversity.pairwise_distance.mean",
           "diversity.per_anchor_distance", "diversity.duplicate_rate", "diversity.cluster_entropy",
           "gap.frechet_corpus", "gap.mmd_corpus", "gap.score_wasserstein", "false_negatives.inversion",
           "framework.score_gap_hardness.mean", "framework.coverage", "framework.value_entropy"]  # fmt: skip


class Strategy(BaseModel):
    """One way of choosing negatives: a recipe and dotted overrides (``set``)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    recipe: str
    set: dict[str, Any] = Field(default_factory=dict)


class StudySpec(BaseModel):
    """Everything ``negmine study`` takes."""

    model_config = ConfigDict(extra="forbid")

    name: str = "study"
    seeds: list[int] = Field(default_factory=lambda: [1, 2, 3], min_length=1)
    baseline: str | None = None
    comparisons: list[tuple[str, str]] = Field(
        default_factory=list, description="More paired comparisons, [strategy, against], besides the baseline's."
    )
    budget: dict[str, Any] = Field(default_factory=dict, description="Overrides every strategy gets.")
    strategies: list[Strategy] = Field(min_length=2)
    metrics: list[str] = Field(default_factory=lambda: list(METRICS))
    hardness: str = HARDNESS
    diversity: str = DIVERSITY
    sweeps: dict[Literal["hardness", "diversity"], list[str]] = Field(
        default_factory=dict, description="The strategies of each ordered sweep (hardness at fixed diversity, "
        "diversity at fixed hardness): its curvature test (H3) takes their units only, a strategy a level. Without "
        "one, the test takes every unit and counts distinct values as levels.")
    quality: str = "validation.ndcg@10"
    reference: str = "all-MiniLM-L6-v2"
    bootstrap: int = Field(2000, ge=100)
    trained: bool = Field(False, description="Also measure each run with its trained model (geometry, CKA).")
    checkpoints: bool = Field(False, description="Re-measure with each kept checkpoint (training dynamics).")
    geometry: bool = Field(False, description="Alignment, uniformity and CKA of every trained model (experiment D).")
    geometry_against: str | None = Field(None, description="CKA with this strategy's model of the same seed too.")
    mining_seed: Literal["fixed", "training"] = Field(
        "fixed", description="'training': each run mines with its training seed (pairs.mining.seed), so the seeds of "
        "a strategy whose sampling is random train on different negatives and are independent units; 'fixed': the "
        "recipe's mining seed, so its seeds share negatives and count as one unit.")

    @model_validator(mode="after")
    def _names(self):
        names = [s.name for s in self.strategies]
        if len(set(names)) < len(names):
            raise ValueError(f"strategy names must be unique: {sorted(n for n in set(names) if names.count(n) > 1)}")
        if self.baseline is not None and self.baseline not in names:
            raise ValueError(f"baseline '{self.baseline}' is not a strategy ({', '.join(names)})")
        if self.geometry_against is not None and self.geometry_against not in names:
            raise ValueError(f"geometry_against: '{self.geometry_against}' is not a strategy ({', '.join(names)})")
        for pair in self.comparisons:
            for name in pair:
                if name not in names:
                    raise ValueError(f"comparisons: '{name}' is not a strategy ({', '.join(names)})")
        for axis, members in self.sweeps.items():
            for name in members:
                if name not in names:
                    raise ValueError(f"sweeps.{axis}: '{name}' is not a strategy ({', '.join(names)})")
        return self


def load_study(path: str | Path) -> StudySpec:
    """Read and validate a study file; recipes are resolved against the current folder, then the file's own.

    Raises:
        NegmineError: one line naming the file and the field.
    """
    from negmine.config import read_yaml
    from negmine.training.recipe import load_recipe

    path = Path(path)
    if not path.is_file():
        raise NegmineError(f"{path}: no such study file")
    try:
        spec = StudySpec(**(read_yaml(path.read_text()) or {}))
    except ValidationError as error:
        raise NegmineError(f"{path}: {describe_validation_error(error)}") from None
    for strategy in spec.strategies:
        recipe = Path(strategy.recipe)
        if not recipe.is_file() and (path.parent / recipe).is_file():
            strategy.recipe = str(path.parent / recipe)
        try:  # every strategy must make a valid recipe before hours of training start
            load_recipe(strategy.recipe, list({**spec.budget, **strategy.set}.items()))
        except NegmineError as error:
            raise NegmineError(f"{path}: strategy '{strategy.name}': {error}") from None
    return spec
