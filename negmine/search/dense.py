"""Choose the dense searcher: FAISS where it is installed (and on its GPU where faiss-gpu sees one), torch's exact
search on a CUDA device when faiss-gpu is missing, and torch on the CPU when FAISS is missing altogether, so a plain
``pip install negmine`` still mines exactly. Approximate indexes (IVF, HNSW, PQ) need FAISS.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Literal

import numpy as np

from negmine.errors import NegmineError

SearcherName = Literal["auto", "faiss", "torch"]


def faiss_installed() -> bool:
    """Whether ``import faiss`` would find a package (without importing it)."""
    if "faiss" in sys.modules:  # imported already, or blocked (None)
        return sys.modules["faiss"] is not None
    return importlib.util.find_spec("faiss") is not None


def is_exact(index_factory: str) -> bool:
    """Whether a FAISS factory string asks for exact search (``Flat``)."""
    return index_factory.strip().lower() == "flat"


def dense_searcher(
    embeddings: np.ndarray,
    index_factory: str = "Flat",
    searcher: SearcherName = "auto",
    use_gpu: bool | None = None,
    nprobe: int | None = None,
    ef_search: int | None = None,
    seed: int = 0,
    show_progress_bar: bool = False,
):
    """A searcher over ``embeddings`` with ``search(queries, k) -> SearchResults`` and a ``name`` saying what ran.

    ``auto``: FAISS when installed, except for exact search when torch sees CUDA and FAISS sees no GPU (then torch on
    the GPU); torch on the CPU (or GPU) for exact search when FAISS is not installed.

    Args:
        embeddings: the corpus, ``(n, dim)`` float32, unit rows.
        index_factory: ``Flat`` (exact) or a FAISS factory string.
        searcher: ``auto``, ``faiss`` or ``torch`` (exact only).
        use_gpu: None: a GPU when one is usable; True: require one; False: the CPU.
        nprobe, ef_search, seed: FAISS index parameters (see :class:`~negmine.search.faiss.FaissSearcher`).
        show_progress_bar: progress bars.

    Returns:
        A :class:`~negmine.search.faiss.FaissSearcher` or :class:`~negmine.search.torch_exact.TorchSearcher`.

    Example:
        >>> docs = np.eye(4, dtype="float32")
        >>> dense_searcher(docs, searcher="torch", use_gpu=False).name
        'torch-cpu exact'
    """
    import torch

    cuda = torch.cuda.is_available()
    faiss = faiss_installed()
    if faiss and use_gpu is not False and searcher != "torch":
        from negmine.search.faiss import gpu_count

        faiss_gpus = gpu_count()
    else:
        faiss_gpus = 0
    searcher, device = choose_searcher(index_factory, searcher, use_gpu, cuda=cuda, faiss=faiss, faiss_gpus=faiss_gpus)
    if searcher == "torch":
        from negmine.search.torch_exact import TorchSearcher

        found = TorchSearcher(embeddings, device=device, show_progress_bar=show_progress_bar)
        found.name = f"torch-{device} exact"
        return found
    from negmine.search.blas import openblas_kernel
    from negmine.search.faiss import FaissSearcher

    found = FaissSearcher(embeddings, index_factory, nprobe=nprobe, ef_search=ef_search, use_gpu=device == "cuda",
                          seed=seed,
                          show_progress_bar=show_progress_bar)  # fmt: skip
    where = "gpu" if found.use_gpu else f"cpu, OpenBLAS {openblas_kernel() or 'unknown'}"
    found.name = f"faiss-{where} {index_factory}"
    return found


def choose_searcher(index_factory: str, searcher: SearcherName, use_gpu: bool | None, cuda: bool, faiss: bool,
                    faiss_gpus: int) -> tuple[str, str]:  # fmt: skip
    """The rule :func:`dense_searcher` applies, as a pure function: ``(faiss | torch, cpu | cuda)``.

    Args:
        index_factory: ``Flat`` or an approximate FAISS factory string.
        searcher: ``auto``, ``faiss`` or ``torch``.
        use_gpu: None, True or False, as in :func:`dense_searcher`.
        cuda: whether torch sees a CUDA device.
        faiss: whether FAISS is installed.
        faiss_gpus: the GPUs FAISS sees (0 for faiss-cpu).

    Returns:
        The searcher and the device it runs on.

    Example:
        >>> choose_searcher("Flat", "auto", None, cuda=True, faiss=True, faiss_gpus=0)
        ('torch', 'cuda')
        >>> choose_searcher("Flat", "auto", None, cuda=False, faiss=False, faiss_gpus=0)
        ('torch', 'cpu')
    """
    if searcher not in ("auto", "faiss", "torch"):
        raise NegmineError(f"searcher must be auto, faiss or torch, got {searcher!r}")
    exact = is_exact(index_factory)
    if searcher == "torch" and not exact:
        raise NegmineError(f"index_factory '{index_factory}' is approximate: only FAISS builds it (searcher faiss)")
    if searcher == "faiss" and not faiss or not exact and not faiss:
        raise NegmineError(f"index_factory '{index_factory}' (searcher {searcher}) needs FAISS: "
                           "pip install 'negmine[cpu]' (or 'negmine[gpu]' with CUDA 12)")  # fmt: skip
    if searcher == "auto":
        if not faiss:
            searcher = "torch"
        elif exact and cuda and use_gpu is not False and not faiss_gpus:
            searcher = "torch"
        else:
            searcher = "faiss"
    if searcher == "faiss":
        if use_gpu and not faiss_gpus:
            raise NegmineError("use_gpu=True but FAISS sees no GPU (install faiss-gpu, or use searcher torch)")
        return "faiss", "cuda" if faiss_gpus and use_gpu is not False else "cpu"
    if use_gpu and not cuda:
        raise NegmineError("use_gpu=True but torch sees no CUDA device")
    return "torch", "cuda" if cuda and use_gpu is not False else "cpu"
