"""The OpenBLAS kernel under FAISS: chosen from the CPU's instruction sets before FAISS is first imported.

faiss-cpu wheels bundle an OpenBLAS (0.3.15 in faiss-cpu 1.15) that may not recognise a recent CPU and then picks a
generic kernel (``Prescott``), under which exact search runs 2 to 4x slower (docs/mining.md). OpenBLAS reads
``OPENBLAS_CORETYPE`` once, when the library loads, so negmine sets it (AVX-512: ``SkylakeX``; AVX2: ``Haswell``)
just before its first ``import faiss``, unless the variable is already set (or ``NEGMINE_OPENBLAS_AUTO=0`` asks
negmine to leave OpenBLAS to its own detection). numpy's own OpenBLAS is loaded before and is left alone.
"""

from __future__ import annotations

import os
from pathlib import Path

# (CPU flags all required, OpenBLAS core type), best first
CORETYPES = (
    (("avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"), "SkylakeX"),
    (("avx2", "fma"), "Haswell"),
)
chosen: dict[str, str | None] = {"coretype": None, "by": None}


def cpu_flags(cpuinfo: str | Path = "/proc/cpuinfo") -> set[str]:
    """The instruction-set flags of the first CPU in ``cpuinfo`` (empty where there is no such file)."""
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def coretype_for(flags: set[str]) -> str | None:
    """The OpenBLAS core type for a CPU with ``flags``, or None to let OpenBLAS decide.

    Example:
        >>> coretype_for({"avx2", "fma", "sse4_2"})
        'Haswell'
        >>> coretype_for({"sse2"}) is None
        True
    """
    for needed, coretype in CORETYPES:
        if all(flag in flags for flag in needed):
            return coretype
    return None


def choose_openblas_coretype(environ: dict | None = None, cpuinfo: str | Path = "/proc/cpuinfo") -> dict:
    """Set ``OPENBLAS_CORETYPE`` for this CPU unless it is set already; call before the first ``import faiss``.

    Args:
        environ: the environment to read and write (default ``os.environ``).
        cpuinfo: where the CPU's flags are read.

    Returns:
        ``{"coretype": value or None, "by": "user" | "negmine" | None}``.
    """
    environ = os.environ if environ is None else environ
    if environ.get("NEGMINE_OPENBLAS_AUTO") == "0":  # leave OpenBLAS to its own detection (benchmarks compare)
        user = environ.get("OPENBLAS_CORETYPE")
        return {"coretype": user, "by": "user" if user else None}
    if environ.get("OPENBLAS_CORETYPE"):
        return {"coretype": environ["OPENBLAS_CORETYPE"], "by": "user"}
    coretype = coretype_for(cpu_flags(cpuinfo))
    if coretype is None:
        return {"coretype": None, "by": None}
    environ["OPENBLAS_CORETYPE"] = coretype
    return {"coretype": coretype, "by": "negmine"}


def openblas_kernel() -> str | None:
    """The kernel (OpenBLAS's ``architecture``) that the OpenBLAS bundled with FAISS runs, None when none is loaded."""
    from threadpoolctl import threadpool_info

    for info in threadpool_info():
        if info.get("internal_api") == "openblas" and "faiss" in info.get("filepath", ""):
            return info.get("architecture")
    return None


def blas_report() -> dict:
    """What the manifests record: the kernel FAISS's OpenBLAS runs and who chose it."""
    return {"faiss_openblas_kernel": openblas_kernel(), "coretype_set_by": chosen["by"],
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE")}  # fmt: skip
