"""Training recipes: a YAML file validated by pydantic (unknown keys are errors that name their path), with
dotted overrides from the command line (``--loss.weights.mnrl 0.5``)."""

from __future__ import annotations

import functools
import typing
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    PydanticSchemaGenerationError,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from negmine.backends import Backend
from negmine.config import read_yaml
from negmine.errors import NegmineError, describe_validation_error
from negmine.losses.combined import DEFAULT_WEIGHTS
from negmine.mining.schedules import CurriculumStage, RandomRateSchedule
from negmine.models import BASE_MODEL
from negmine.pairs.build import PairsConfig

Strict = ConfigDict(extra="forbid")


class ModelSection(BaseModel):
    model_config = Strict
    name: str = BASE_MODEL
    max_seq_length: int | None = Field(256, ge=8)
    inference_max_seq_length: int | None = Field(
        None, ge=8, description="Token limit the final evaluation encodes with and the saved model keeps "
                                "(None: max_seq_length). Training, refreshes and per-epoch evaluation truncate "
                                "at max_seq_length (train on 128 tokens, read 256).")  # fmt: skip
    backend: Backend = Field(
        "torch", description="How the frozen base model encodes for the pairs and a refresh's first mining "
                             "(negmine.backends); training always runs on torch.")  # fmt: skip


class DataSection(BaseModel):
    model_config = Strict
    dataset: str = Field("scifact", description="scifact, a BEIR folder, or pair data (a CSV / TSV / JSONL / "
                         "Parquet file, a saved Dataset folder, a hub name; FlagEmbedding or Tevatron records).")
    split: Literal["train"] = "train"
    validation_fraction: float | None = Field(None, ge=0, lt=1, description="Queries carved out for validation, by "
                                              "query; 0 trains on every one; None: 0.2 for SciFact and BEIR, 0 for "
                                              "pair data.")
    seed: int = 42
    data_dir: str | None = None
    anchor_column: str | None = Field(None, description="Pair data: the anchor column (default: the first).")
    positive_column: str | None = Field(None, description="Pair data: the positive column (default: the second).")
    corpus: str | None = Field(None, description="Pair data: a file of more passages to mine from.")
    data_format: Literal["auto", "pairs", "flagembedding", "tevatron"] = "auto"
    extra_training: list[Literal["scifact_test_claims"]] = Field(
        default_factory=list, description="More training queries after the validation carve: scifact_test_claims "
        "(claims_test.jsonl's 300 unlabelled claims with their cited documents; not the dev claims)."
    )


    def carve(self) -> float:
        """The validation fraction in force: the one set, else the data set's default."""
        from negmine.data.sources import default_validation_fraction

        if self.validation_fraction is None:
            return default_validation_fraction(self.dataset)
        return self.validation_fraction

    def source_options(self) -> dict:
        """Keywords of :func:`negmine.data.load_retrieval` for this section (the carve resolved)."""
        return {"data_dir": self.data_dir, "validation_fraction": self.carve(), "seed": self.seed,
                "extra_training": self.extra_training, "anchor_column": self.anchor_column,
                "positive_column": self.positive_column, "corpus": self.corpus, "data_format": self.data_format}


class PairsFromDisk(BaseModel):
    """A pairs folder written by ``negmine build-pairs``."""

    model_config = Strict
    path: str


class MixingSection(BaseModel):
    """MoCHi's hard-negative mixing inside the loss (see ``negmine.losses.mixing``)."""

    model_config = Strict
    negatives: int = Field(4, ge=0, description="s: points mixed from two hard candidates.")
    anchor_negatives: int = Field(0, ge=0, description="s': points mixed from the anchor and a hard candidate.")
    hardest: int = Field(8, ge=1, description="N: the hardest candidates mixed from.")
    detach: bool = True
    seed: int = 0

    @model_validator(mode="after")
    def _some(self) -> MixingSection:
        if not (self.negatives or self.anchor_negatives):
            raise ValueError("negatives or anchor_negatives must be above 0 (leave mixing out to turn it off)")
        return self


class LossSection(BaseModel):
    model_config = Strict
    # cached-mnrl: sentence-transformers' CachedMultipleNegativesRankingLoss (GradCache): batches far larger than
    # memory holds, encoded mini_batch_size texts at a time, with the same gradients as one large batch
    type: Literal["combined", "mnrl", "cached-mnrl"] = "combined"
    mini_batch_size: int = Field(32, ge=1, description="cached-mnrl: texts a forward pass.")
    weights: dict[Literal["mnrl", "contrastive", "cosine"], NonNegativeFloat] = Field(
        default_factory=lambda: dict(DEFAULT_WEIGHTS)
    )
    scale: float = Field(20.0, gt=0)
    contrastive_margin: float = Field(0.5, ge=0)
    weights_as_cosine_targets: bool = False
    false_negative_margin: float | None = None  # GISTEmbed-style masking of likely false negatives in MNRL
    margin_strategy: Literal["absolute", "relative"] = "absolute"
    guide: str | None = None  # a model name or path that scores the candidates; None: the model being trained
    in_batch_negatives: bool = True  # False: each anchor sees only its own positive and hard negatives
    mixing: MixingSection | None = None  # MoCHi synthetic negatives in embedding space
    gather_across_devices: bool = False  # DDP: MNRL's in-batch negatives from every process (ST's name)

    @field_validator("weights")
    @classmethod
    def _some_weight(cls, weights: dict[str, float]) -> dict[str, float]:
        if not any(w > 0 for w in weights.values()):
            raise ValueError("at least one weight must be above 0")
        return weights

    @model_validator(mode="after")
    def _cached_is_plain_mnrl(self) -> LossSection:
        if self.type == "cached-mnrl" and (self.false_negative_margin is not None or not self.in_batch_negatives
                                           or self.mixing is not None or self.guide is not None):  # fmt: skip
            raise ValueError("type cached-mnrl is plain MNRL with GradCache: it takes no false_negative_margin, "
                             "guide, mixing or in_batch_negatives false")  # fmt: skip
        return self


TRAINING_DEFAULTS: dict[str, Any] = {
    "num_train_epochs": 1,
    "per_device_train_batch_size": 32,
    "learning_rate": 2e-5,
    "warmup_steps": 0.1,  # a float below 1 is a share of the steps (transformers v5)
    "batch_sampler": "no_duplicates",
    "seed": 42,
    "eval_strategy": "epoch",
    "save_strategy": "epoch",
    "save_total_limit": 2,
    "load_best_model_at_end": True,
    "logging_steps": 10,
}


# Training arguments that can only be wrong outside these bounds: (lowest, whether the lowest itself is allowed).
POSITIVE_ARGUMENTS = {
    "num_train_epochs": (0, False), "per_device_train_batch_size": (0, False),
    "per_device_eval_batch_size": (0, False),
    "learning_rate": (0, False), "gradient_accumulation_steps": (0, False), "warmup_steps": (0, True),
    "weight_decay": (0, True), "logging_steps": (0, False), "save_total_limit": (0, True),
}  # fmt: skip


@functools.cache
def _argument_types() -> dict[str, Any]:
    from sentence_transformers import SentenceTransformerTrainingArguments

    return typing.get_type_hints(SentenceTransformerTrainingArguments)


def _warmup_is_a_share(value: Any) -> bool:
    """Whether ``warmup_steps: value`` is a share of the steps that this transformers reads only as
    ``warmup_ratio``: transformers 5 takes a float below 1 in ``warmup_steps``, transformers 4 (beside
    sentence-transformers 5, where the ``onnx`` extra installs) declares it an int."""
    return isinstance(value, float) and 0 < value < 1 and _argument_types()["warmup_steps"] is int


def _typed_argument(key: str, value: Any) -> Any:
    """``value`` checked (and coerced, as pydantic does) against the type the Trainer declares for ``key``, so that
    ``learning_rate: fast`` fails when the recipe is read, not inside the optimizer."""
    if key == "warmup_steps" and _warmup_is_a_share(value):
        return value  # arguments() passes it on as warmup_ratio
    try:
        adapter = TypeAdapter(_argument_types()[key], config=ConfigDict(arbitrary_types_allowed=True))
    except PydanticSchemaGenerationError:  # callables and sampler classes: the Trainer checks them itself
        return value
    try:
        value = adapter.validate_python(value)
    except ValidationError as error:
        raise ValueError(f"'{key}': {error.errors()[0]['msg']} (got {value!r})") from None
    if key in POSITIVE_ARGUMENTS and isinstance(value, int | float):
        lowest, inclusive = POSITIVE_ARGUMENTS[key]
        if value < lowest or (value == lowest and not inclusive):
            raise ValueError(f"'{key}' must be {'>=' if inclusive else '>'} {lowest} (got {value!r})")
    return value


class TrainingSection(BaseModel):
    """Arguments of ``SentenceTransformerTrainingArguments``; an unknown name is an error."""

    model_config = ConfigDict(extra="allow")

    @model_validator(mode="before")
    @classmethod
    def _known_arguments(cls, values: Any) -> Any:
        import dataclasses

        from sentence_transformers import SentenceTransformerTrainingArguments

        known = {f.name for f in dataclasses.fields(SentenceTransformerTrainingArguments)}
        for key in values or {}:
            if key not in known:
                raise ValueError(f"'{key}' is not an argument of SentenceTransformerTrainingArguments")
        return {**TRAINING_DEFAULTS, **{key: _typed_argument(key, value) for key, value in (values or {}).items()}}

    def arguments(self) -> dict[str, Any]:
        arguments = dict(self.model_extra or {})
        if _warmup_is_a_share(arguments.get("warmup_steps")):
            arguments["warmup_ratio"] = arguments.pop("warmup_steps")
        return arguments


class RefreshSection(BaseModel):
    """Dynamic hard negatives: re-mined with the model being trained (see ``HardNegativeRefresh``)."""

    model_config = Strict
    every_epochs: int | None = Field(1, ge=1)
    every_steps: int | None = Field(None, ge=1)
    query_fraction: float = Field(1.0, gt=0, le=1, description="Share of the queries re-mined at each refresh.")
    candidate_pool: int | None = Field(None, ge=1, description="Re-encode only the union of each query's top-K.")
    random_rate: RandomRateSchedule | None = None
    curriculum: list[CurriculumStage] = Field(default_factory=list)
    searcher: Literal["faiss", "balltree"] = "faiss"
    exclude_shared_positives: bool = Field(
        False, description="balltree: no claim negative that cites one of the anchor's abstracts (a sister claim)."
    )
    shard_encoding: bool = Field(True, description="Under DDP: each process encodes a slice of the texts for a "
                                 "refresh (False: the main process encodes them all).")  # fmt: skip
    backend: Literal["auto", Backend] = Field(
        "auto", description="Encode each refresh with the model in training (torch) or with an export of its "
        "current weights made at the refresh (negmine.backends); auto: openvino where installed and the model is "
        "on the CPU, else torch. The first mining follows model.backend.")

    @model_validator(mode="after")
    def _sisters_need_balltree(self) -> RefreshSection:
        if self.exclude_shared_positives and self.searcher != "balltree":
            raise ValueError(
                "exclude_shared_positives: only the balltree searcher takes claims as negatives; "
                "set searcher: balltree"
            )
        return self


class TemperatureSection(BaseModel):
    """Keep the entropy of the InfoNCE negative weights in a band by moving the temperature (1 / scale)."""

    model_config = Strict
    entropy_low: float = Field(0.3, ge=0, le=1, description="Lower edge, as a share of log(number of candidates).")
    entropy_high: float = Field(0.7, ge=0, le=1)
    every_steps: int = Field(10, ge=1)
    min_scale: float = Field(5.0, gt=0)
    max_scale: float = Field(100.0, gt=0)

    @model_validator(mode="after")
    def _band(self) -> TemperatureSection:
        if self.entropy_low >= self.entropy_high:
            raise ValueError("entropy_low must be below entropy_high")
        return self


class EvaluationSection(BaseModel):
    model_config = Strict
    splits: list[Literal["validation", "train", "dev", "test"]] = Field(default_factory=lambda: ["validation"])


# keys both sections have: set once, in the data section (pairs_config copies them over); derived, so a key added to
# both (extra_training was missed by a hand-written list) cannot be set in pairs and silently replaced
DATA_KEYS_IN_PAIRS = tuple(key for key in DataSection.model_fields if key in PairsConfig.model_fields)


class Recipe(BaseModel):
    """A whole training run.

    Example:
        >>> recipe = Recipe.model_validate({"output_dir": "runs/x", "loss": {"weights": {"mnrl": 1.0}}})
        >>> recipe.loss.weights, recipe.model.max_seq_length
        ({'mnrl': 1.0}, 256)
    """

    model_config = Strict
    model: ModelSection = Field(default_factory=ModelSection)
    data: DataSection = Field(default_factory=DataSection)
    pairs: PairsConfig | PairsFromDisk | None = None
    loss: LossSection = Field(default_factory=LossSection)
    refresh: RefreshSection | None = None
    temperature: TemperatureSection | None = None
    training: TrainingSection = Field(default_factory=TrainingSection)
    evaluation: EvaluationSection = Field(default_factory=EvaluationSection)
    output_dir: str

    @model_validator(mode="after")
    def _data_lives_in_data(self) -> Recipe:
        if isinstance(self.pairs, PairsConfig):
            for key in DATA_KEYS_IN_PAIRS:
                if key in self.pairs.model_fields_set:
                    raise ValueError(f"pairs.{key}: set it once, in the data section")
        if self.refresh is not None and isinstance(self.pairs, PairsConfig) and self.pairs.synthetic is not None:
            raise ValueError("refresh: re-mining does not regenerate synthetic negatives; leave pairs.synthetic out")
        if self.refresh is not None and isinstance(self.pairs, PairsFromDisk):
            raise ValueError("refresh: re-mining needs inline pairs options (or none), not a built pairs folder")
        if self.temperature is not None and self.loss.type != "combined":
            raise ValueError("temperature: the controller moves CombinedLoss's scale; set loss.type: combined")
        if self.data.carve() == 0 and "validation" in self.evaluation.splits:
            raise ValueError("evaluation.splits: 'validation' needs data.validation_fraction above 0")
        return self

    def pairs_config(self) -> PairsConfig | None:
        """The build-pairs configuration with the data section (and, unless ``pairs.model`` is set, the model
        section) filled in; None when the recipe mines no negatives."""
        if not isinstance(self.pairs, PairsConfig):
            return None
        update = {**self.data.model_dump(exclude={"split"}), "split": "train"}
        if "model" not in self.pairs.model_fields_set:  # mine with the model being trained unless told otherwise
            update.update(model=self.model.name, max_seq_length=self.model.max_seq_length)
            if self.model.backend != "torch":
                update.update(backend=self.model.backend)
        # validated again with the data in: the pairs section alone saw SciFact and kept SciFact's window start
        return PairsConfig.model_validate({**self.pairs.model_dump(exclude_unset=True), **update})


def set_dotted(tree: dict, dotted: str, value: Any) -> None:
    """``set_dotted(d, "loss.weights.mnrl", 0.5)`` sets ``d["loss"]["weights"]["mnrl"] = 0.5``."""
    *parents, leaf = dotted.split(".")
    node = tree
    for key in parents:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise NegmineError(f"override --{dotted}: '{key}' is not a section")
    node[leaf] = value


def parse_overrides(args: list[str]) -> list[tuple[str, Any]]:
    """``["--loss.weights.mnrl", "0.5", "--output_dir=x"]`` -> ``[("loss.weights.mnrl", 0.5), ("output_dir", "x")]``;
    values are read as YAML (numbers, booleans, lists).

    Example:
        >>> parse_overrides(["--loss.weights.mnrl", "0.5", "--training.seed=3", "--training.eval_strategy", "no"])
        [('loss.weights.mnrl', 0.5), ('training.seed', 3), ('training.eval_strategy', 'no')]
    """
    pairs, i = [], 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--"):
            raise NegmineError(f"unexpected argument '{arg}' (overrides look like --section.key value)")
        if "=" in arg:
            key, raw = arg[2:].split("=", 1)
            i += 1
        elif i + 1 < len(args):
            key, raw = arg[2:], args[i + 1]
            i += 2
        else:
            raise NegmineError(f"override {arg} has no value")
        pairs.append((key.replace("-", "_") if "." not in key else key, read_yaml(raw)))
    return pairs


def load_recipe(path: str | Path, overrides: list[tuple[str, Any]] = ()) -> Recipe:
    """Read, override and validate a recipe; every problem is one line naming the file and the key path.

    Example:
        >>> recipe = load_recipe("recipes/scifact-static.yaml", [("loss.weights.mnrl", 0.5)])  # doctest: +SKIP
        >>> recipe.loss.weights["mnrl"]  # doctest: +SKIP
        0.5
    """
    path = Path(path)
    if not path.is_file():
        raise NegmineError(f"{path}: file not found")
    try:
        tree = read_yaml(path.read_text()) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise NegmineError(f"{path}{where}: invalid YAML ({getattr(error, 'problem', error)})") from None
    if not isinstance(tree, dict):
        raise NegmineError(f"{path}: a recipe is a mapping of sections")
    for key, value in overrides:
        set_dotted(tree, key, value)
    try:
        return Recipe.model_validate(tree)
    except ValidationError as error:
        raise NegmineError(f"{path}: {describe_validation_error(error)}") from None
