"""torch's exact search against FAISS's, the rule that picks a searcher, and the OpenBLAS kernel choice."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from negmine.errors import NegmineError
from negmine.search.blas import choose_openblas_coretype, coretype_for, cpu_flags
from negmine.search.dense import choose_searcher, dense_searcher
from negmine.search.torch_exact import TorchSearcher


def unit_rows(rng, n, dim):
    vectors = rng.standard_normal((n, dim)).astype("float32")
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 300), queries=st.integers(1, 40), k=st.integers(1, 60), chunk=st.integers(1, 128),
       query_batch=st.integers(1, 16), seed=st.integers(0, 2**16))  # fmt: skip
def test_torch_search_finds_faiss_exact_neighbours(n, queries, k, chunk, query_batch, seed):
    faiss_searcher = pytest.importorskip("negmine.search.faiss").FaissSearcher
    rng = np.random.default_rng(seed)
    docs, found_for = unit_rows(rng, n, 16), unit_rows(rng, queries, 16)
    truth = faiss_searcher(docs, use_gpu=False).search(found_for, k)
    found = TorchSearcher(docs, device="cpu", chunk_size=chunk, query_batch=query_batch).search(found_for, k)
    assert found.indices.shape == truth.indices.shape == (queries, min(k, n))
    np.testing.assert_allclose(found.scores, truth.scores, atol=1e-5)  # same scores in the same order
    # same neighbours, ties aside: every index found scores what FAISS's k-th neighbour scores or better
    direct = np.take_along_axis(found_for @ docs.T, found.indices, axis=1)
    np.testing.assert_allclose(direct, found.scores, atol=1e-5)
    same = (found.indices == truth.indices) | np.isclose(found.scores, truth.scores, atol=1e-6)
    assert same.all()


def test_choice_of_searcher():
    # FAISS installed, no GPU anywhere: FAISS on the CPU
    assert choose_searcher("Flat", "auto", None, cuda=False, faiss=True, faiss_gpus=0) == ("faiss", "cpu")
    # torch sees CUDA, faiss-cpu only: exact search goes to torch on the GPU, approximate stays with FAISS
    assert choose_searcher("Flat", "auto", None, cuda=True, faiss=True, faiss_gpus=0) == ("torch", "cuda")
    assert choose_searcher("IVF64,Flat", "auto", None, cuda=True, faiss=True, faiss_gpus=0) == ("faiss", "cpu")
    assert choose_searcher("Flat", "auto", None, cuda=True, faiss=True, faiss_gpus=1) == ("faiss", "cuda")
    assert choose_searcher("Flat", "auto", False, cuda=True, faiss=True, faiss_gpus=1) == ("faiss", "cpu")
    # no FAISS at all: exact search still runs, on torch
    assert choose_searcher("Flat", "auto", None, cuda=False, faiss=False, faiss_gpus=0) == ("torch", "cpu")
    for args, message in (
        (("IVF64,Flat", "auto", None, False, False, 0), "needs FAISS: pip install 'negmine[cpu]'"),
        (("HNSW32,Flat", "torch", None, False, True, 0), "only FAISS builds it"),
        (("Flat", "torch", True, False, True, 0), "torch sees no CUDA device"),
        (("Flat", "faiss", True, True, True, 0), "FAISS sees no GPU"),
        (("Flat", "nope", None, False, True, 0), "searcher must be auto, faiss or torch"),
    ):  # fmt: skip
        with pytest.raises(NegmineError, match=message.replace("[", r"\[").replace("]", r"\]")):
            choose_searcher(*args)


def test_without_faiss_exact_search_runs_on_torch(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "faiss", None)  # `import faiss` now fails
    docs = unit_rows(np.random.default_rng(0), 50, 8)
    searcher = dense_searcher(docs, use_gpu=False)
    assert searcher.name == "torch-cpu exact"
    assert searcher.search(docs[:3], 1).indices.ravel().tolist() == [0, 1, 2]
    with pytest.raises(NegmineError, match="needs FAISS"):
        dense_searcher(docs, "IVF4,Flat")


def test_openblas_kernel_follows_the_cpu_and_a_user_setting_wins(tmp_path):
    assert coretype_for({"avx2", "fma"}) == "Haswell"
    assert coretype_for({"avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"}) == "SkylakeX"
    assert coretype_for({"avx512f", "avx2"}) is None  # no fma: let OpenBLAS decide
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma\n\nprocessor\t: 1\nflags\t\t: fpu\n")
    assert cpu_flags(cpuinfo) == {"fpu", "sse2", "avx", "avx2", "fma"}
    environ: dict = {}
    assert choose_openblas_coretype(environ, cpuinfo) == {"coretype": "Haswell", "by": "negmine"}
    assert environ == {"OPENBLAS_CORETYPE": "Haswell"}
    environ = {"OPENBLAS_CORETYPE": "Zen"}
    assert choose_openblas_coretype(environ, cpuinfo) == {"coretype": "Zen", "by": "user"}
    assert environ == {"OPENBLAS_CORETYPE": "Zen"}
    assert choose_openblas_coretype({}, tmp_path / "missing") == {"coretype": None, "by": None}
