"""Inference backends for frozen models: sentence-transformers' ONNX and OpenVINO backends, and their int8 exports.

``torch`` is the model as loaded. ``onnx`` / ``openvino`` load the same weights through sentence-transformers'
``backend=`` (an export made by optimum on first load), computing in f32; ``openvino-bf16`` is the OpenVINO export run
in bf16 (on CPUs with AVX512_BF16 or AMX, where OpenVINO would otherwise choose bf16 on its own); ``onnx-int8`` is its
dynamically quantised ONNX export (``export_dynamic_quantized_onnx_model``, with the AVX-512 VNNI or AVX2 configuration
this CPU supports) and ``openvino-int8`` its statically quantised OpenVINO export
(``export_static_quantized_openvino_model``, calibrated on texts of the corpus being encoded, so no calibration set is
downloaded). An export is made once and kept under the cache folder, keyed by the torch model's fingerprint and the
backend; a failed export is an error, never a silent fall back to torch. Training always runs on torch: these are for
encoding with a model that does not change.

References:
    Jacob et al., "Quantization and Training of Neural Networks for Efficient Integer-Arithmetic-Only Inference",
    CVPR 2018; sentence-transformers, "Speeding up Inference" (sbert.net/docs/sentence_transformer/usage/efficiency).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path
from typing import Literal

from negmine.errors import NegmineError

logger = logging.getLogger(__name__)
Backend = Literal["torch", "onnx", "onnx-int8", "openvino", "openvino-bf16", "openvino-int8"]
BACKENDS: tuple[str, ...] = ("torch", "onnx", "onnx-int8", "openvino", "openvino-bf16", "openvino-int8")
# OpenVINO's CPU plugin lowers an fp32 model to bf16 by itself on CPUs with AVX512_BF16 or AMX; `openvino` asks for
# f32 (the vectors torch gives, on every CPU) and `openvino-bf16` for bf16 by name.
OPENVINO_PRECISION = {"openvino": "f32", "openvino-bf16": "bf16"}
# the exporter names the ONNX file from the weight type the CPU's configuration picks (model_qint8_avx512_vnni,
# model_quint8_avx2): it is found by its configuration after the export
INT8_FILES = {
    "onnx-int8": "onnx/model_*_{config}.onnx",
    "openvino-int8": "openvino/openvino_model_qint8_quantized.xml",
}
CALIBRATION_TEXTS = 300


def check_backend(backend: str) -> None:
    """One line naming the pip extra when ``backend`` is unknown or its packages are missing."""
    import importlib.util

    if backend not in BACKENDS:
        raise NegmineError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if backend == "torch":
        return
    family = backend.split("-")[0]
    needed = {"onnx": ("optimum.onnxruntime", "onnxruntime"), "openvino": ("optimum.intel", "openvino")}[family]
    for module in needed:
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            raise NegmineError(f"backend {backend} needs {module.split('.')[0]}: pip install 'negmine[{family}]'")


def inference_precision(backend: str) -> str:
    """The precision a backend computes in, for manifests: ``int8`` for the int8 exports, ``bf16`` for
    ``openvino-bf16``, ``f32`` for the others.

    Example:
        >>> inference_precision("onnx-int8")
        'int8'
    """
    if backend.endswith("-int8"):
        return "int8"
    return OPENVINO_PRECISION.get(backend, "f32")


def check_bf16(backend: str) -> None:
    """One line when ``openvino-bf16`` is asked for on a CPU without native bf16 (AVX512_BF16 or AMX)."""
    if backend != "openvino-bf16":
        return
    import openvino

    if "BF16" not in openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"):
        raise NegmineError("backend openvino-bf16 needs a CPU with AVX512_BF16 or AMX; this one has neither "
                           "(use openvino)")  # fmt: skip


def onnx_quantization_config() -> str:
    """The ``export_dynamic_quantized_onnx_model`` configuration this CPU runs best: ``avx512_vnni``, ``avx512`` or
    ``avx2``."""
    from negmine.search.blas import cpu_flags

    flags = cpu_flags()
    if "avx512_vnni" in flags:
        return "avx512_vnni"
    return "avx512" if "avx512f" in flags else "avx2"


def exported_folder(cache_dir: Path, fingerprint: str, backend: str) -> Path:
    """Where the export of a model (by its torch fingerprint) for ``backend`` is kept."""
    return cache_dir / "exports" / f"{fingerprint[:24]}-{backend}"


def backend_model(model, backend: Backend, cache_dir: Path, fingerprint: str, calibration_texts: list[str]):
    """``model`` itself for ``torch``; otherwise the same weights loaded through ``backend``, exported once.

    Args:
        model: the torch ``SentenceTransformer`` (the source of the export).
        backend: one of :data:`BACKENDS`.
        cache_dir: the embedding cache's folder; exports live in ``cache_dir/exports``.
        fingerprint: ``model_fingerprint(model)``, the export's key.
        calibration_texts: texts for ``openvino-int8``'s static quantisation (the first 300 are used).

    Returns:
        A ``SentenceTransformer`` whose ``encode`` runs on ``backend``.

    Example:
        >>> fast = backend_model(model, "onnx-int8", cache_dir, model_fingerprint(model), texts)  # doctest: +SKIP
    """
    check_backend(backend)
    if backend == "torch":
        return model
    check_bf16(backend)
    folder = exported_folder(cache_dir, fingerprint, backend)
    if not (folder / "negmine-export.json").is_file():
        export(model, backend, folder, calibration_texts)
    return load_exported(folder, backend, model.max_seq_length)


def load_exported(folder: Path, backend: str, max_seq_length: int | None):
    """Load an export made by :func:`export`."""
    import json

    from sentence_transformers import SentenceTransformer

    meta = json.loads((folder / "negmine-export.json").read_text())
    kwargs = {"file_name": meta["file_name"]} if meta.get("file_name") else {}
    if backend in OPENVINO_PRECISION:
        kwargs["ov_config"] = {"INFERENCE_PRECISION_HINT": OPENVINO_PRECISION[backend]}
    try:
        loaded = SentenceTransformer(str(folder), backend=backend.split("-")[0], model_kwargs=kwargs,
                                     local_files_only=True)  # fmt: skip
    except Exception as error:  # optimum raises several kinds
        raise NegmineError(f"{folder}: the {backend} export does not load ({type(error).__name__}: {error}); "
                           "delete the folder to export again") from None  # fmt: skip
    if max_seq_length:
        loaded.max_seq_length = max_seq_length
    return loaded


def export(model, backend: str, folder: Path, calibration_texts: list[str]) -> None:
    """Export ``model`` for ``backend`` into ``folder`` (atomically: a temporary folder renamed into place)."""
    import json

    from sentence_transformers import SentenceTransformer

    family = backend.split("-")[0]
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, suffix=".tmp"))
    logger.info("exporting the model for %s into %s (once)", backend, folder)
    try:
        source = tmp / "torch"
        model.save(str(source))
        loaded = SentenceTransformer(str(source), backend=family, local_files_only=True)
        loaded.save(str(tmp / "model"))
        file_name = None
        if backend == "onnx-int8":
            from sentence_transformers import export_dynamic_quantized_onnx_model

            config = onnx_quantization_config()
            export_dynamic_quantized_onnx_model(loaded, config, str(tmp / "model"))
            written = sorted((tmp / "model").glob(INT8_FILES[backend].format(config=config)))
            file_name = str(written[0].relative_to(tmp / "model"))
        elif backend == "openvino-int8":
            file_name = _openvino_int8(loaded, tmp, calibration_texts)
        (tmp / "model" / "negmine-export.json").write_text(json.dumps({"backend": backend, "file_name": file_name}))
        shutil.rmtree(folder, ignore_errors=True)
        (tmp / "model").rename(folder)
    except NegmineError:
        raise
    except Exception as error:  # the exporters raise many kinds; the user gets one line and no torch fall-back
        raise NegmineError(f"exporting the model for backend {backend} failed ({type(error).__name__}: "
                           f"{str(error).splitlines()[0] if str(error) else ''})") from None  # fmt: skip
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _openvino_int8(loaded, tmp: Path, calibration_texts: list[str]) -> str:
    """Static int8 quantisation calibrated on the corpus's own texts, written as a local dataset folder."""
    from datasets import Dataset
    from optimum.intel import OVQuantizationConfig
    from sentence_transformers import export_static_quantized_openvino_model

    texts = [t for t in calibration_texts if t.strip()][:CALIBRATION_TEXTS]
    if not texts:
        raise NegmineError("backend openvino-int8 needs texts to calibrate on; none were given")
    calibration = tmp / "calibration"
    Dataset.from_dict({"text": texts}).to_parquet(str(calibration / "train.parquet"))
    config = OVQuantizationConfig(num_samples=len(texts))
    export_static_quantized_openvino_model(loaded, config, str(tmp / "model"), dataset_name=str(calibration),
                                           dataset_config_name="default", dataset_split="train",
                                           column_name="text")  # fmt: skip
    return INT8_FILES["openvino-int8"]
