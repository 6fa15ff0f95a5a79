"""Shared fixtures: the tiny data sets in resources/, a tiny BERT model built offline once per session, and
caches pointed into tmp_path."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

RESOURCES = Path(__file__).parent / "resources"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    """No test reads the user's data root or cache, or reaches the hub."""
    monkeypatch.setenv("NEGMINE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("NEGMINE_DATA", str(tmp_path / "no-data-root"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)


@pytest.fixture(autouse=True)
def _no_base_model(request, monkeypatch):
    """Outside slow tests, loading the 90 MB packaged base model is a bug in the test."""
    if request.node.get_closest_marker("slow"):
        return
    import negmine.models as models

    real = models.load_model

    def guarded(name_or_path=models.BASE_MODEL, *args, **kwargs):
        packaged = models.packaged_base_model()
        if packaged is not None and models.resolve_model(name_or_path) == str(packaged):
            raise AssertionError("a non-slow test loaded the packaged base model; use the tiny model")
        return real(name_or_path, *args, **kwargs)

    monkeypatch.setattr(models, "load_model", guarded)


@pytest.fixture
def scifact_dir() -> Path:
    return RESOURCES / "scifact_tiny"


@pytest.fixture
def beir_dir() -> Path:
    return RESOURCES / "beir_tiny"


def fixture_texts() -> list[str]:
    """Every text in the tiny data sets, for the tiny model's vocabulary."""
    texts = []
    for path in RESOURCES.rglob("*.jsonl"):
        if path.parent.name == "pairs_tiny":  # pair data has its own tiny model (pairs_model)
            continue
        for line in path.read_text().splitlines():
            record = json.loads(line)
            texts += [v for v in record.values() if isinstance(v, str)]
            texts += [s for s in record.get("abstract", [])]
    return texts


def build_tiny_model(folder: Path, texts: list[str], seed: int = 0, max_positions: int = 128) -> Path:
    """A one-layer, 32-dimensional BERT with a WordPiece vocabulary of the fixture words, saved as an ST model."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    words = sorted({w for t in texts for w in re.findall(r"\w+|[^\w\s]", t.lower())})
    hf_dir = folder / "hf"
    hf_dir.mkdir(parents=True)
    (hf_dir / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]) + "\n")
    tokenizer = BertTokenizerFast(vocab_file=str(hf_dir / "vocab.txt"), do_lower_case=True)
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(words) + 5,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=max_positions,
    )
    BertModel(config).save_pretrained(hf_dir)
    tokenizer.save_pretrained(hf_dir)
    transformer = Transformer(str(hf_dir), max_seq_length=64)
    model = SentenceTransformer(modules=[transformer, Pooling(32, "mean"), Normalize()], device="cpu")
    model.save(str(folder / "st"))
    return folder / "st"


@pytest.fixture
def build_tiny(tmp_path):
    """Build another tiny model (``build_tiny(max_positions=512)``, or ``build_tiny("name", seed=1)`` for several)
    into the test's folder; returns its path."""
    return lambda name="built-model", **options: build_tiny_model(tmp_path / name, fixture_texts(), **options)


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"), fixture_texts())


@pytest.fixture(scope="session")
def _tiny_model_once(tiny_model_path):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(tiny_model_path), device="cpu")


@pytest.fixture
def tiny_model(_tiny_model_once):
    """A fresh copy of the tiny model for each test (tests may change its weights)."""
    return copy.deepcopy(_tiny_model_once)


@pytest.fixture
def pairs_data() -> Path:
    """Question / answer pairs (qa.csv, qa.jsonl), a separate corpus (corpus.txt, corpus.jsonl), FlagEmbedding and
    Tevatron records."""
    return RESOURCES / "pairs_tiny"


def build_static_model(folder: Path, texts: list[str], dim: int = 32, seed: int = 0) -> Path:
    """A static-embedding model (seeded random word vectors, mean-pooled, normalised) over the words of ``texts``:
    texts that share words land near each other, so mining has real neighbours and few ties."""
    import numpy as np
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, StaticEmbedding
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    words = sorted({w for t in texts for w in re.findall(r"\w+|[^\w\s]", t.lower())})
    vocab = {word: i for i, word in enumerate(["[UNK]", *words])}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    weights = np.random.default_rng(seed).standard_normal((len(vocab), dim)).astype("float32")
    static = StaticEmbedding(tokenizer, embedding_weights=weights)
    model = SentenceTransformer(modules=[static, Normalize()], device="cpu")
    model.save(str(folder / "st"))
    return folder / "st"


@pytest.fixture(scope="session")
def pairs_model_path(tmp_path_factory) -> Path:
    """A tiny static-embedding model whose vocabulary holds the words of the pair data."""
    folder = RESOURCES / "pairs_tiny"
    texts = [line for path in (folder / "qa.csv", folder / "corpus.txt") for line in path.read_text().splitlines()]
    return build_static_model(tmp_path_factory.mktemp("pairs-model"), texts)


@pytest.fixture
def pairs_model(pairs_model_path):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(pairs_model_path), device="cpu")


@pytest.fixture(scope="module")
def pairs_dir(tmp_path_factory, tiny_model_path):
    """A pairs folder built from the tiny SciFact with the tiny model (n-tuple, 2 negatives), for the analysis
    and audit tests."""
    from negmine.mining.static import MiningParams
    from negmine.pairs import PairsConfig, build_pairs

    scifact = RESOURCES / "scifact_tiny"
    out = tmp_path_factory.mktemp("pairs") / "pairs"
    config = PairsConfig(dataset=str(scifact), model=str(tiny_model_path), validation_fraction=0,
                         mining=MiningParams(range_min=0, range_max=6, relative_margin=None, num_negatives=2),
                         output_format="n-tuple", cache_dir=str(out.parent / "cache"))  # fmt: skip
    build_pairs(config, out, show_progress_bar=False)
    return out


@pytest.fixture
def tiny_recipe(tmp_path, scifact_dir, tiny_model_path):
    """A function giving the tree of a small recipe on the tiny SciFact (n-tuple pairs with 2 negatives, the
    combined loss, validation evaluated); ``training`` entries and whole sections override its defaults."""

    def make(training: dict | None = None, **sections) -> dict:
        tree = {
            "model": {"name": str(tiny_model_path), "max_seq_length": 64},
            "data": {"dataset": str(scifact_dir), "validation_fraction": 0.3, "seed": 1},
            "pairs": {"mining": {"range_min": 0, "range_max": 6, "relative_margin": None, "num_negatives": 2},
                      "output_format": "n-tuple", "cache_dir": str(tmp_path / "cache")},
            "loss": {"type": "combined"},
            "training": {"num_train_epochs": 2, "per_device_train_batch_size": 4, **(training or {})},
            "evaluation": {"splits": ["validation"]},
            "output_dir": str(tmp_path / "run"),
        }  # fmt: skip
        return {**tree, **sections}

    return make
