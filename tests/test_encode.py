"""The embedding cache: a second run skips encoding, any change of model, length or prompt misses, and an
interrupted run resumes from its finished shards."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from negmine.encode import EmbeddingMemory, Encoder, model_fingerprint, token_counts

TEXTS = ["vitamin d and fractures", "aspirin and bleeding", "bed nets and malaria", "aspirin and bleeding"]


def test_second_run_hits_the_cache(tiny_model, tmp_path):
    encoder = Encoder(tiny_model, cache_dir=tmp_path, show_progress_bar=False)
    first = encoder.encode(TEXTS)
    assert encoder.last_encoded == 3  # the repeated text is encoded once
    second = encoder.encode(TEXTS)
    assert encoder.last_encoded == 0
    np.testing.assert_array_equal(first, second)
    assert first.dtype == np.float32 and first.shape == (4, 32)
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(first[1], first[3])


def test_cached_vectors_equal_fresh_ones(tiny_model, tmp_path):
    cached = Encoder(tiny_model, cache_dir=tmp_path, show_progress_bar=False)
    cached.encode(TEXTS[:2])
    mixed = cached.encode(TEXTS)  # two from the cache, one new
    assert cached.last_encoded == 1
    fresh = tiny_model.encode_document(TEXTS, normalize_embeddings=True)
    np.testing.assert_allclose(mixed, fresh, atol=1e-6)


def test_key_changes_with_length_role_and_weights(tiny_model, tmp_path):
    encoder = Encoder(tiny_model, cache_dir=tmp_path, show_progress_bar=False)
    folder = encoder.cache_folder("document")
    assert encoder.cache_folder("query") != folder
    tiny_model.max_seq_length = 16
    assert encoder.cache_folder("document") != folder
    tiny_model.max_seq_length = 64
    assert encoder.cache_folder("document") == folder
    before = model_fingerprint(tiny_model)
    with torch.no_grad():
        next(tiny_model.parameters()).add_(0.01)
    assert model_fingerprint(tiny_model) != before
    encoder.encode(TEXTS)
    assert encoder.last_encoded == 3  # new weights: nothing stale is read


def test_prompt_is_part_of_the_key(tiny_model, tmp_path):
    encoder = Encoder(tiny_model, cache_dir=tmp_path, show_progress_bar=False)
    plain = encoder.cache_folder("query")
    tiny_model.prompts = {"query": "query: "}
    assert encoder.cache_folder("query") != plain


def test_interrupted_run_resumes(tiny_model, tmp_path, monkeypatch):
    encoder = Encoder(tiny_model, cache_dir=tmp_path, shard_size=2, show_progress_bar=False)
    texts = [f"claim number {i} about aspirin" for i in range(7)]
    calls = {"n": 0}
    real = encoder._encode

    def failing(batch, role):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(batch, role)

    monkeypatch.setattr(encoder, "_encode", failing)
    with pytest.raises(KeyboardInterrupt):
        encoder.encode(texts)
    assert len(list(encoder.cache_folder("document").glob("*.shard"))) == 2
    assert not list(encoder.cache_folder("document").glob("*.tmp"))
    monkeypatch.setattr(encoder, "_encode", real)
    encoder.encode(texts)
    assert encoder.last_encoded == 3  # 4 came from the two finished shards


@pytest.mark.parametrize("damage", ["truncate", "flip", "meta"])
def test_a_damaged_shard_is_encoded_again_never_read_as_vectors(tiny_model, tmp_path, damage, caplog):
    encoder = Encoder(tiny_model, cache_dir=tmp_path, shard_size=2, show_progress_bar=False)
    texts = [f"claim number {i} about aspirin" for i in range(4)]
    truth = encoder.encode(texts)
    shard = sorted(encoder.cache_folder("document").glob("*.shard"))[0]
    vectors_file = shard / "embeddings.npy"
    if damage == "truncate":  # what a write cut short on disk leaves
        vectors_file.write_bytes(vectors_file.read_bytes()[:-40])
    elif damage == "flip":  # same size, one byte changed
        data = bytearray(vectors_file.read_bytes())
        data[-3] ^= 0xFF
        vectors_file.write_bytes(bytes(data))
    else:
        (shard / "meta.json").unlink()
    again = encoder.encode(texts)
    assert encoder.last_encoded == 2  # the damaged shard's two texts, and only those
    np.testing.assert_allclose(again, truth, atol=1e-6)
    assert "damaged cache shard" in caplog.text
    assert shard.is_dir() and shard.with_name(shard.name + ".damaged").exists()  # rewritten; the bad one kept aside
    encoder.encode(texts)
    assert encoder.last_encoded == 0


def test_legacy_npz_shards_are_still_read(tiny_model, tmp_path):
    from negmine.encode import text_keys

    encoder = Encoder(tiny_model, cache_dir=tmp_path, show_progress_bar=False)
    folder = encoder.cache_folder("document")
    folder.mkdir(parents=True)
    np.savez(folder / "old.npz", keys=text_keys(TEXTS[:2]), embeddings=np.full((2, 32), 0.5, dtype=np.float32))
    vectors = encoder.encode(TEXTS)
    assert encoder.last_encoded == 1 and (vectors[:2] == 0.5).all()  # TEXTS[3] repeats TEXTS[1]


def test_no_cache_writes_nothing(tiny_model, tmp_path):
    encoder = Encoder(tiny_model, cache_dir=tmp_path / "c", use_cache=False, show_progress_bar=False)
    encoder.encode(TEXTS)
    assert not (tmp_path / "c").exists()


def test_empty_input(tiny_model, tmp_path):
    assert Encoder(tiny_model, cache_dir=tmp_path).encode([]).shape == (0, 32)


def test_memory_shares_one_model_state_between_encoders(tiny_model, tmp_path):
    memory = EmbeddingMemory()
    first = Encoder(tiny_model, use_cache=False, memory=memory, show_progress_bar=False)
    vectors = first.encode(TEXTS)
    assert first.last_encoded == 4
    second = Encoder(tiny_model, use_cache=False, memory=memory, show_progress_bar=False)
    np.testing.assert_array_equal(second.encode(TEXTS[1:3]), vectors[1:3])  # any subset of what it holds
    assert second.last_encoded == 0
    second.encode(TEXTS[:1], role="query")  # another role is held apart
    assert second.last_encoded == 1
    second.encode([*TEXTS, "an unseen text"])
    assert second.last_encoded == 5  # not all held: encoded again
    with torch.no_grad():
        next(tiny_model.parameters()).add_(0.01)
    second.encode(TEXTS)
    assert second.last_encoded == 4  # new weights: the old state is dropped
    assert not list(tmp_path.iterdir())  # use_cache=False wrote nothing to disk


def test_vectors_on_disk_are_the_cached_vectors_in_text_order(tiny_model, tmp_path):
    encoder = Encoder(tiny_model, cache_dir=tmp_path, shard_size=2, show_progress_bar=False)
    encoder.encode(["an unrelated text of another corpus", TEXTS[2]])  # the folder is shared with other corpora
    view = encoder.encode_to_disk(TEXTS)
    assert encoder.last_encoded == 2  # text 2 was cached, text 1's repeat is encoded once
    assert len(view) == 4 and view.shape == (4, 32)
    in_memory = Encoder(tiny_model, cache_dir=tmp_path, show_progress_bar=False).encode(TEXTS)
    np.testing.assert_array_equal(view[np.arange(4)], in_memory)
    np.testing.assert_array_equal(view[3], in_memory[1])
    np.testing.assert_array_equal(np.concatenate([b for _, b in view.blocks(3)]), in_memory)
    again = encoder.encode_to_disk(TEXTS)
    assert encoder.last_encoded == 0 and len(again.vectors) == 4  # 3 texts and the other corpus's one


def test_vectors_on_disk_need_the_cache(tiny_model):
    from negmine.errors import NegmineError

    with pytest.raises(NegmineError, match="cache"):
        Encoder(tiny_model, use_cache=False).encode_to_disk(TEXTS)


@given(st.lists(st.text(max_size=30), max_size=20))
def test_key_prefixes_are_the_first_16_hex_digits(texts):
    from negmine.encode import key_prefixes, text_keys

    keys = text_keys(texts)
    assert key_prefixes(keys).tolist() == [int(key[:16], 16) for key in keys.tolist()]


def test_vectors_on_disk_refuse_two_texts_whose_key_prefixes_collide(tiny_model, tmp_path, monkeypatch):
    import negmine.encode as encode
    from negmine.errors import NegmineError

    monkeypatch.setattr(encode, "key_prefixes", lambda keys: np.zeros(len(keys), dtype=np.uint64))
    with pytest.raises(NegmineError, match="share 16 hex digits"):  # never the other text's vector
        Encoder(tiny_model, cache_dir=tmp_path, show_progress_bar=False).encode_to_disk(TEXTS[:2])


def test_token_counts_are_the_tokenizers_own_cut_at_the_length(tiny_model):
    texts = ["aspirin", "aspirin and bleeding", "vitamin d and fractures " * 20, ""]
    tiny_model.preprocess(texts)  # a padded call leaves padding set on the model's own tokenizer
    read = [len(ids) for ids in tiny_model.tokenizer(texts, truncation=True, max_length=64)["input_ids"]]
    assert token_counts(tiny_model, texts).tolist() == read == [3, 5, 64, 2]
    tiny_model.max_seq_length = 4
    assert token_counts(tiny_model, texts).tolist() == [3, 4, 4, 2]


def test_batches_hold_equal_token_counts_where_characters_would_mix_them(tiny_model, monkeypatch):
    # an unknown word is one token however long; by characters the two groups interleave, by tokens they part
    long_words = ["x" * n for n in (45, 33, 26, 18)]  # 3 tokens each
    short_words = [" ".join(["zq"] * n) for n in (13, 10, 8, 5)]  # 38, 29, 23, 14 characters; 15, 12, 10, 7 tokens
    texts = long_words + short_words
    batches = []
    encode = tiny_model.encode_document
    monkeypatch.setattr(tiny_model, "encode_document", lambda part, **kw: batches.append(part) or encode(part, **kw))
    vectors = Encoder(tiny_model, use_cache=False, batch_size=4, show_progress_bar=False).encode(texts)
    assert batches == [short_words, long_words]  # longest first, as sentence-transformers orders
    np.testing.assert_allclose(vectors, encode(texts, normalize_embeddings=True), atol=1e-6)


@given(st.lists(st.sampled_from(TEXTS + ["x" * 30, "malaria " * 9, "d"]), min_size=1, max_size=12),
       st.integers(1, 5))  # fmt: skip
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])  # not changed
def test_vectors_come_back_in_text_order_whatever_the_batching(tiny_model, texts, batch_size):
    vectors = Encoder(tiny_model, use_cache=False, batch_size=batch_size, show_progress_bar=False).encode(texts)
    np.testing.assert_allclose(vectors, tiny_model.encode_document(texts, normalize_embeddings=True), atol=1e-6)
