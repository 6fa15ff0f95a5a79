"""Weight averaging ("model soup"): one sentence-transformers model whose weights are the mean of several fine-tuned
from the same start (seeds, or checkpoints of one run). It costs nothing at inference: the result is an ordinary
model of the same size.

Reference:
    Wortsman et al., "Model soups: averaging weights of multiple fine-tuned models improves accuracy without
    increasing inference time", ICML 2022 (the uniform soup).
"""

from __future__ import annotations

import json
from pathlib import Path

from negmine.errors import NegmineError


def average_models(paths: list[str | Path], out: str | Path, overwrite: bool = False) -> dict:
    """Save the uniform soup of ``paths`` into ``out`` and return its manifest.

    Every floating-point weight is the mean of the models' weights; integer buffers (position ids) must be equal
    and are copied. The models must share architecture, shapes and tokenizer; the first one's configuration,
    modules and tokenizer are saved with the averaged weights.

    Args:
        paths: two or more sentence-transformers model folders (or names).
        out: the output folder (must not exist unless ``overwrite``).
        overwrite: replace an existing ``out``.

    Returns:
        ``{"models": [{"path", "fingerprint"}], "count", "soup_fingerprint"}``, also written as ``out/soup.json``.

    Example:
        >>> average_models(["runs/static-seed1/model", "runs/static-seed2/model"], "runs/soup")  # doctest: +SKIP
    """
    import torch

    from negmine.encode import model_fingerprint
    from negmine.models import load_model
    from negmine.outputs import atomic_folder, check_writable

    out = check_writable(out, overwrite)
    if len(paths) < 2:
        raise NegmineError("a soup needs at least two models")
    models = [load_model(str(path), device="cpu") for path in paths]
    first = models[0]
    states = [model.state_dict() for model in models]
    vocab = first.tokenizer.get_vocab()
    for path, model, state in zip(paths[1:], models[1:], states[1:], strict=True):
        if state.keys() != states[0].keys() or any(state[k].shape != states[0][k].shape for k in state):
            raise NegmineError(f"{path}: its weights do not match {paths[0]}'s (another architecture)")
        if model.tokenizer.get_vocab() != vocab:
            raise NegmineError(f"{path}: its tokenizer differs from {paths[0]}'s")
    averaged = {}
    for key, tensor in states[0].items():
        if tensor.is_floating_point():
            averaged[key] = torch.stack([state[key].float() for state in states]).mean(dim=0).to(tensor.dtype)
        elif all(torch.equal(state[key], tensor) for state in states):
            averaged[key] = tensor
        else:
            raise NegmineError(f"weight {key}: an integer buffer that differs between the models")
    first.load_state_dict(averaged)
    manifest = {"method": "uniform soup (Wortsman et al., ICML 2022)", "count": len(models),
                "models": [{"path": str(p), "fingerprint": model_fingerprint(m)} for p, m in zip(paths, models,
                                                                                                  strict=True)],
                "soup_fingerprint": model_fingerprint(first)}  # fmt: skip
    with atomic_folder(out) as tmp:
        first.save(str(tmp))
        (tmp / "soup.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest
