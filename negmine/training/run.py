"""``negmine train``: a recipe -> pairs -> SentenceTransformerTrainer -> model, metrics and log in one folder.

OUTPUT/model (a sentence-transformers model folder with its model card), OUTPUT/metrics.json (every labelled
split asked for, in ``negmine eval``'s keys), OUTPUT/recipe.yaml (the resolved recipe), OUTPUT/train_log.json
(the trainer's log history, loss components included), OUTPUT/pairs (the pairs it trained on),
OUTPUT/dynamics.json (each negative refresh and temperature step, when the recipe asks for them) and
OUTPUT/checkpoints (the trainer's; an interrupted run resumes from the last one).
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import yaml

from negmine.errors import NegmineError
from negmine.training.recipe import PairsFromDisk, Recipe

logger = logging.getLogger(__name__)


def last_checkpoint(folder: Path) -> str | None:
    """The newest ``checkpoint-N`` folder of a trainer output folder, if any."""
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(str(folder)) if folder.is_dir() else None


def load_split(recipe: Recipe, split: str):
    """A split of the recipe's data set, with the recipe's validation carve."""
    from negmine.data import load_retrieval

    return load_retrieval(recipe.data.dataset, split, **recipe.data.source_options())


def plain_pairs(recipe: Recipe):
    """(anchor, positive) rows from the training split's relevance judgements: no mined negatives."""
    from datasets import Dataset

    anchors, positives = load_split(recipe, "train").judged_texts()
    return Dataset.from_dict({"anchor": anchors, "positive": positives})


def training_pairs(recipe: Recipe, output: Path, show_progress_bar: bool):
    """The dataset a loss reads: built (or reused) into OUTPUT/pairs, read from a folder, or plain pairs."""
    from datasets import load_from_disk

    from negmine.pairs.build import build_pairs
    from negmine.pairs.formats import training_view

    if recipe.pairs is None:
        return plain_pairs(recipe), "plain (claim, cited document) pairs"
    if isinstance(recipe.pairs, PairsFromDisk):
        folder = Path(recipe.pairs.path)
        manifest = json.loads((folder / "manifest.json").read_text())
        dataset = load_from_disk(str(folder / "dataset"))
    else:
        folder = output / "pairs"
        config = recipe.pairs_config()
        manifest_path = folder / "manifest.json"
        if manifest_path.is_file() and json.loads(manifest_path.read_text())["parameters"] == config.model_dump(
            mode="json"
        ):
            dataset = load_from_disk(str(folder / "dataset"))
            manifest = json.loads(manifest_path.read_text())
        else:
            dataset, manifest = build_pairs(config, folder, overwrite=True, show_progress_bar=show_progress_bar)
    output_format = manifest["parameters"]["output_format"]
    if output_format not in ("triplet", "n-tuple"):
        raise NegmineError(f"{folder}: training needs triplet or n-tuple pairs, got {output_format}")
    view = training_view(dataset, output_format)
    if recipe.loss.weights_as_cosine_targets:
        view = view.add_column("label", dataset["weight"])
    counts = manifest["counts"]
    return view, f"{counts['rows']} {output_format} rows, negatives by source {counts['negatives_by_source']}"


def refresh_callback(recipe: Recipe, memory=None, output: Path | None = None):
    """The recipe's :class:`~negmine.mining.dynamic.HardNegativeRefresh` over the training split, mining with the
    pairs section's searchers and filters, build-pairs' exclusions included (defaults with one negative where the
    recipe has none, the window starting where build-pairs' does for the data); ``memory`` is an
    :class:`~negmine.encode.EmbeddingMemory` shared with the evaluator."""
    from negmine.data.sources import is_pair_data
    from negmine.mining.dynamic import HardNegativeRefresh
    from negmine.mining.static import MiningParams
    from negmine.pairs.anchors import Anchor, Positive, mark_copies
    from negmine.pairs.build import PAIR_DATA_RANGE_MIN, uses_scifact_habits
    from negmine.pairs.noise import noise_mask

    data = load_split(recipe, "train")
    doc_ids, query_ids = list(data.corpus), list(data.queries)
    doc_index, query_index = {d: i for i, d in enumerate(doc_ids)}, {q: i for i, q in enumerate(query_ids)}
    rows = [(query_index[q], doc_index[d]) for q, d in data.judged_pairs()]
    config = recipe.pairs_config()
    start = {"range_min": PAIR_DATA_RANGE_MIN} if is_pair_data(recipe.data.dataset) else {}  # as build-pairs
    params = config.mining if config is not None else MiningParams(num_negatives=1, **start)
    options = recipe.refresh.model_dump(exclude={"random_rate", "curriculum"})
    documents = data.document_texts(doc_ids)
    # the static pipeline's exclusions: the anchor's own text, copies of its positives, the noise mask where it applies
    anchors = [Anchor(q, data.queries[q], []) for q in query_ids]
    for query, doc in rows:
        anchors[query].positives.append(Positive(doc, documents[doc]))
    mark_copies(anchors, documents, near_duplicates=config.near_duplicates if config is not None else True)
    exclude = {reason: [a.excluded.get(reason, []) for a in anchors] for reason in ("anchor_text", "near_duplicate")}
    noise = config.noise_filter if config is not None else None
    if noise is None:
        noise = uses_scifact_habits(data)
    excluded = noise_mask(data, doc_ids, config.min_words if config is not None else 10)[0] if noise else None
    # each mining's negatives go to OUTPUT/negatives/refresh-NN as a pairs folder negmine analyze can read
    snapshot = {"parameters": {**(config.model_dump(mode="json") if config is not None else recipe.data.model_dump()),
                               "split": "train", "mining": params.model_dump(mode="json")},
                "model": {"name": recipe.model.name, "max_seq_length": recipe.model.max_seq_length}}  # fmt: skip
    return HardNegativeRefresh([data.queries[q] for q in query_ids], documents, rows, params,
                               searchers=["dense", "lexical"] if config is not None and "lexical" in config.searchers
                               else ["dense"], exclude=exclude,
                               excluded=excluded,
                               random_rate=recipe.refresh.random_rate, curriculum=recipe.refresh.curriculum,
                               seed=recipe.training.arguments().get("seed", 42), memory=memory,
                               snapshot_dir=output / "negatives" if output is not None else None,
                               query_ids=query_ids, doc_ids=doc_ids, snapshot_manifest=snapshot,
                               first_backend=recipe.model.backend, **options)  # fmt: skip


def make_loss(recipe: Recipe, model):
    """The recipe's loss as a sentence-transformers loss module."""
    from sentence_transformers.sentence_transformer.losses import (
        CachedMultipleNegativesRankingLoss,
        MultipleNegativesRankingLoss,
    )

    from negmine.losses import CombinedLoss
    from negmine.models import load_model

    loss = recipe.loss
    if loss.type == "cached-mnrl":  # GradCache: the batch's in-batch negatives at a mini-batch's memory
        return CachedMultipleNegativesRankingLoss(model, scale=loss.scale, mini_batch_size=loss.mini_batch_size,
                                                  gather_across_devices=loss.gather_across_devices)  # fmt: skip
    if loss.type == "mnrl" and loss.false_negative_margin is None and loss.in_batch_negatives and not loss.mixing:
        return MultipleNegativesRankingLoss(model, scale=loss.scale, gather_across_devices=loss.gather_across_devices)
    weights = {"mnrl": 1.0} if loss.type == "mnrl" else loss.weights  # masked MNRL alone is CombinedLoss's MNRL
    guide = load_model(loss.guide, max_seq_length=recipe.model.max_seq_length) if loss.guide else None
    return CombinedLoss(model, weights=weights, scale=loss.scale, contrastive_margin=loss.contrastive_margin,
                        weights_as_cosine_targets=loss.weights_as_cosine_targets,
                        false_negative_margin=loss.false_negative_margin, margin_strategy=loss.margin_strategy,
                        guide=guide, in_batch_negatives=loss.in_batch_negatives,
                        track_scores=recipe.temperature is not None, gather_across_devices=loss.gather_across_devices,
                        **mixing_options(loss.mixing))  # fmt: skip


def mixing_options(mixing) -> dict:
    """``CombinedLoss`` keywords of a recipe's ``loss.mixing`` section (none when it is absent)."""
    if mixing is None:
        return {}
    return {"mix_negatives": mixing.negatives, "mix_anchor_negatives": mixing.anchor_negatives,
            "mix_hardest": mixing.hardest, "mix_detach": mixing.detach, "mix_seed": mixing.seed}  # fmt: skip


def evaluates_once(arguments: dict) -> bool:
    """Whether the trainer would evaluate only at the end of a single epoch, which the final evaluation repeats.

    Args:
        arguments: ``SentenceTransformerTrainingArguments`` keywords.

    Returns:
        True for one epoch evaluated per epoch and no step limit; the corpus is then encoded once, not twice.

    Example:
        >>> evaluates_once({"num_train_epochs": 1, "eval_strategy": "epoch"})
        True
        >>> evaluates_once({"num_train_epochs": 3, "eval_strategy": "epoch"})
        False
    """
    return (arguments.get("eval_strategy") == "epoch" and arguments.get("num_train_epochs", 3) <= 1
            and arguments.get("max_steps", -1) <= 0)  # fmt: skip


def train(recipe: Recipe, output_dir: str | Path | None = None, resume: bool = True, show_progress_bar: bool = True):
    """Run a recipe and return the metrics of every split evaluated at the end.

    Args:
        recipe: a validated :class:`Recipe`.
        output_dir: overrides ``recipe.output_dir``.
        resume: continue from the last checkpoint in OUTPUT/checkpoints when there is one.
        show_progress_bar: progress bars.

    Returns:
        ``{split: {ndcg@10, mrr@10, recall@10, recall@100, map@100, n_queries}}``.

    Example:
        >>> metrics = train(load_recipe("recipes/scifact-static.yaml"))  # doctest: +SKIP
    """
    import torch
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments

    from negmine import distributed
    from negmine.encode import EmbeddingMemory, Encoder
    from negmine.evaluation import evaluate_model, make_evaluator
    from negmine.models import load_model
    from negmine.outputs import write_json

    distributed.init_distributed()  # under torchrun / accelerate launch: join the group (a wrong launch: one line)
    main = distributed.is_main()
    show_progress_bar = show_progress_bar and main
    if not main:  # logs and progress bars from the main process only
        logging.getLogger("negmine").setLevel(logging.WARNING)
    output = Path(output_dir or recipe.output_dir)
    checkpoints = output / "checkpoints"
    if main:
        output.mkdir(parents=True, exist_ok=True)
        (output / "recipe.yaml").write_text(yaml.safe_dump(recipe.model_dump(mode="json"), sort_keys=False))

    model = load_model(recipe.model.name, max_seq_length=recipe.model.max_seq_length)
    callbacks = []
    refresh = None
    memory = EmbeddingMemory()  # corpus vectors of the last weights evaluated, for the refresh that follows
    if recipe.refresh is not None:
        refresh = refresh_callback(recipe, memory, output)
        train_dataset = refresh.initial_dataset(model)
        pairs_summary = f"{len(train_dataset)} n-tuple rows, re-mined with the model being trained "
        pairs_summary += str(recipe.refresh.model_dump(mode="json", exclude_defaults=True))
        callbacks.append(refresh)
    else:
        with distributed.main_process_first(), distributed.all_cores():  # main builds OUTPUT/pairs, others read
            train_dataset, pairs_summary = training_pairs(recipe, output, show_progress_bar)
    loss = make_loss(recipe, model)
    controller = None
    if recipe.temperature is not None:
        from negmine.training.temperature import TemperatureController

        controller = TemperatureController(loss, **recipe.temperature.model_dump())
        callbacks.append(controller)
    evaluator = None
    arguments = recipe.training.arguments()
    if recipe.data.carve() > 0 and not evaluates_once(arguments):
        evaluator = make_evaluator(load_split(recipe, "validation"), name="validation", memory=memory)
        arguments.setdefault("metric_for_best_model", "eval_validation_cosine_ndcg@10")
    else:  # no validation split, or one evaluation at the end that the final one below repeats
        arguments.update(load_best_model_at_end=False, eval_strategy="no")
    if distributed.is_distributed() and not torch.cuda.is_available():
        arguments.setdefault("use_cpu", True)  # what makes accelerate treat CPU processes as DDP (gloo)
    try:
        args = SentenceTransformerTrainingArguments(output_dir=str(checkpoints), disable_tqdm=not show_progress_bar,
                                                    report_to="none", **arguments)  # fmt: skip
    except ValueError as error:  # the trainer's own checks of the recipe's training section
        raise NegmineError(f"training section: {' '.join(str(error).split())}") from None
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=train_dataset, loss=loss,
                                         evaluator=evaluator, callbacks=callbacks)  # fmt: skip
    start = time.perf_counter()
    checkpoint = last_checkpoint(checkpoints) if resume else None
    if checkpoint:
        logger.info("resuming from %s", checkpoint)
    trainer.train(resume_from_checkpoint=checkpoint)
    train_seconds = time.perf_counter() - start
    if not main:  # the model, metrics and logs are the main process's to write
        return {}

    if recipe.model.inference_max_seq_length is not None:  # read more of each text than training did
        from negmine.models import set_max_seq_length

        set_max_seq_length(model, recipe.model.inference_max_seq_length)  # (the memory keys vectors by length too)
    metrics, per_query = {}, {}
    # The corpus is encoded once for all splits (not at all when the last evaluation saw these weights).
    encoder = Encoder(model, show_progress_bar=show_progress_bar, memory=memory)
    with distributed.all_cores():  # the others wait at the end: this process may take their cores
        for split in recipe.evaluation.splits:
            per_query[split] = {}
            metrics[split] = evaluate_model(model, load_split(recipe, split), encoder=encoder,
                                            per_query=per_query[split])  # fmt: skip
    model.save(str(output / "model"))
    card = output / "model" / "README.md"
    card.write_text(card.read_text() + "\n" + _card_section(recipe, pairs_summary, metrics))
    summary = {"splits": metrics, "train_seconds": round(train_seconds, 1), "resumed_from": checkpoint,
               "processes": distributed.world_size(),
               "per_query_ndcg@10": per_query}  # fmt: skip
    if refresh is not None:  # the first mining happens before training; the refreshes inside it
        during = sum(entry["seconds"] for entry in refresh.history[1:])
        summary.update(initial_mining_seconds=refresh.history[0]["seconds"], refresh_seconds=round(during, 1),
                       refresh_share=round(during / train_seconds, 4) if train_seconds else None)  # fmt: skip
    write_json(output / "metrics.json", summary, overwrite=True)
    write_json(output / "dynamics.json", {"refresh": refresh.history if refresh else [],
                                          "temperature": controller.history if controller else []},
               overwrite=True)  # fmt: skip
    write_json(output / "train_log.json", trainer.state.log_history, overwrite=True)
    return metrics


def _card_section(recipe: Recipe, pairs_summary: str, metrics: dict) -> str:
    """What negmine adds to the model card: data, negatives, losses and metrics."""
    lines = ["## Trained with negmine", "", f"- data: {recipe.data.dataset}, split train, validation fraction "
             f"{recipe.data.carve()} (seed {recipe.data.seed})", f"- pairs: {pairs_summary}",
             f"- loss: {recipe.loss.type}, weights {recipe.loss.weights}, scale {recipe.loss.scale}", ""]  # fmt: skip
    for split, values in metrics.items():
        lines.append(f"- {split}: " + ", ".join(f"{k} {v:.4f}" for k, v in values.items() if k != "n_queries"))
    return "\n".join(lines) + "\n"
