"""Texts kept on disk read back exactly as written, by position, slice and index array; the file goes with them."""

from __future__ import annotations

import gc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from negmine.data.disk_texts import DiskTextsWriter, write_texts


@settings(max_examples=40, deadline=None)
@given(texts=st.lists(st.text(max_size=30), max_size=60), batch=st.integers(1, 7), data=st.data())
def test_every_access_returns_what_was_written(tmp_path_factory, texts, batch, data):
    stored = write_texts(texts, tmp_path_factory.mktemp("texts"), batch=batch)
    assert len(stored) == len(texts)
    assert list(stored) == texts  # iteration, batch by batch
    if texts:
        i = data.draw(st.integers(-len(texts), len(texts) - 1))
        assert stored[i] == texts[i]
        positions = data.draw(st.lists(st.integers(0, len(texts) - 1), max_size=10))
        assert stored[positions] == [texts[p] for p in positions]
        assert stored[np.array(positions, dtype=np.int64)] == [texts[p] for p in positions]
    start, stop = data.draw(st.integers(0, len(texts))), data.draw(st.integers(0, len(texts)))
    assert stored[start:stop] == texts[start:stop]
    assert stored[::2] == texts[::2]


def test_a_position_outside_is_an_index_error(tmp_path):
    stored = write_texts(["a", "b"], tmp_path)
    with pytest.raises(IndexError):
        stored[2]
    with pytest.raises(IndexError):
        stored[[0, 5]]


def test_the_file_is_deleted_with_its_texts_and_after_a_failed_write(tmp_path):
    stored = write_texts(["a"] * 10, tmp_path, batch=3)
    path = stored.path
    assert path.is_file()
    del stored
    gc.collect()
    assert not path.exists()

    def broken():
        yield "a"
        raise ValueError("bad record")

    with pytest.raises(ValueError):
        write_texts(broken(), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_the_writer_gives_positions_in_order(tmp_path):
    writer = DiskTextsWriter(tmp_path, batch=2)
    assert [writer.append(t) for t in "abcde"] == [0, 1, 2, 3, 4]
    assert writer.close()[3] == "d"
