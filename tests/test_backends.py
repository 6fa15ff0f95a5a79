"""Backends for frozen models: a missing package or unknown name is one line, a failed export is an error (never a
quiet torch fall-back), exports are made once, and the cache keeps each backend's vectors apart."""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest

from negmine.encode import Encoder
from negmine.errors import NegmineError

TEXTS = ["vitamin d and fractures", "aspirin and bleeding", "bed nets and malaria", "statins and muscle pain"]
HAS_OPENVINO = importlib.util.find_spec("openvino") is not None and importlib.util.find_spec("optimum") is not None
HAS_ONNX = importlib.util.find_spec("onnxruntime") is not None and importlib.util.find_spec("optimum") is not None
# .ci/extras installs each backend extra into a fresh environment and sets this: there, a missing backend fails
REQUIRED = set(filter(None, os.environ.get("NEGMINE_REQUIRE_BACKENDS", "").split(",")))


def test_unknown_backend_and_missing_packages_are_one_line(tiny_model, tmp_path, monkeypatch):
    with pytest.raises(NegmineError, match="backend must be one of torch, onnx, onnx-int8, openvino, openvino-bf16, "
                                           "openvino-int8"):  # fmt: skip
        Encoder(tiny_model, cache_dir=tmp_path, backend="tensorrt")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(NegmineError, match=r"backend onnx-int8 needs optimum: pip install 'negmine\[onnx\]'"):
        Encoder(tiny_model, cache_dir=tmp_path, backend="onnx-int8")


def test_a_failed_export_is_an_error_and_leaves_nothing(tiny_model, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("exporter exploded\nwith a long trace")

    monkeypatch.setattr(type(tiny_model), "save", broken)
    monkeypatch.setattr("negmine.backends.check_backend", lambda backend: None)  # as if openvino were installed
    encoder = Encoder(tiny_model, cache_dir=tmp_path, show_progress_bar=False, backend="openvino")
    with pytest.raises(NegmineError, match=r"exporting the model for backend openvino failed \(RuntimeError: "
                                           r"exporter exploded\)$"):  # fmt: skip
        encoder.encode(TEXTS)
    assert not list((tmp_path / "exports").iterdir())  # no half-made export
    assert not any(p.name.endswith("-openvino") for p in tmp_path.iterdir())  # and no vectors from torch


def cpu_has_bf16() -> bool:
    import openvino

    return "BF16" in openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


@pytest.mark.skipif(not HAS_OPENVINO and "openvino" not in REQUIRED, reason="needs negmine[openvino]")
@pytest.mark.parametrize("backend", ["openvino", "openvino-bf16", "openvino-int8"])
def test_openvino_vectors_match_torch_and_the_export_is_made_once(build_tiny, tmp_path, backend, monkeypatch):
    from sentence_transformers import SentenceTransformer

    if backend == "openvino-bf16" and not cpu_has_bf16():
        with pytest.raises(NegmineError, match="backend openvino-bf16 needs a CPU with AVX512_BF16 or AMX"):
            Encoder(SentenceTransformer(str(build_tiny())), cache_dir=tmp_path, backend=backend).encode(TEXTS)
        return

    # sentence-transformers calibrates on texts padded to 384 tokens: the model needs that many positions
    tiny_model = SentenceTransformer(str(build_tiny(max_positions=512)))
    torch_vectors = Encoder(tiny_model, cache_dir=tmp_path, show_progress_bar=False).encode(TEXTS * 40)
    encoder = Encoder(tiny_model, cache_dir=tmp_path, show_progress_bar=False, backend=backend)
    vectors = encoder.encode(TEXTS * 40)
    assert encoder.last_encoded == len(TEXTS)  # not read from torch's cache
    assert encoder.cache_folder("document") != Encoder(tiny_model, cache_dir=tmp_path).cache_folder("document")
    cosine = np.sum(vectors * torch_vectors, axis=1)
    assert cosine.min() > {"openvino": 0.99999, "openvino-bf16": 0.99}.get(backend, 0.95), cosine.min()

    monkeypatch.setattr("negmine.backends.export", lambda *a, **k: pytest.fail("exported twice"))
    again = Encoder(tiny_model, cache_dir=tmp_path, show_progress_bar=False, backend=backend, use_cache=False)
    np.testing.assert_allclose(again.encode(TEXTS), vectors[: len(TEXTS)], atol=1e-6)


@pytest.mark.skipif(not HAS_ONNX and "onnx" not in REQUIRED, reason="needs negmine[onnx]")
@pytest.mark.parametrize("backend", ["onnx", "onnx-int8"])
def test_onnx_vectors_match_torch(build_tiny, tmp_path, backend):
    """The ONNX export encodes as torch does (f32: the same vectors; int8: close), into its own cache folder."""
    from sentence_transformers import SentenceTransformer

    tiny_model = SentenceTransformer(str(build_tiny()))
    torch_vectors = Encoder(tiny_model, cache_dir=tmp_path, show_progress_bar=False).encode(TEXTS)
    encoder = Encoder(tiny_model, cache_dir=tmp_path, show_progress_bar=False, backend=backend)
    vectors = encoder.encode(TEXTS)
    assert encoder.last_encoded == len(TEXTS)
    cosine = np.sum(vectors * torch_vectors, axis=1)
    assert cosine.min() > {"onnx": 0.99999}.get(backend, 0.95), cosine.min()
