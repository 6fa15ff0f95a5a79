"""negmine soup: the averaged model's weights are the mean of the inputs', it loads and encodes, and models that
do not match are a one-line error."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from negmine.cli.main import cli
from negmine.errors import NegmineError
from negmine.models import load_model
from negmine.soup import average_models


def test_the_soup_is_the_mean_of_the_weights(build_tiny, tmp_path):
    one, two = build_tiny("one", seed=0), build_tiny("two", seed=1)
    result = CliRunner().invoke(cli, ["soup", str(one), str(two), "--out", str(tmp_path / "soup")])
    assert result.exit_code == 0, result.output
    soup = load_model(str(tmp_path / "soup"))
    a, b = load_model(str(one)).state_dict(), load_model(str(two)).state_dict()
    for key, tensor in soup.state_dict().items():
        expected = (a[key].float() + b[key].float()) / 2 if tensor.is_floating_point() else a[key]
        torch.testing.assert_close(tensor.float(), expected.float())
    vectors = soup.encode(["aspirin and bleeding"], normalize_embeddings=True)
    assert np.isclose(np.linalg.norm(vectors), 1.0)
    manifest = json.loads((tmp_path / "soup" / "soup.json").read_text())
    assert manifest["count"] == 2 and manifest["models"][0]["fingerprint"] != manifest["models"][1]["fingerprint"]
    again = CliRunner().invoke(cli, ["soup", str(one), str(two), "--out", str(tmp_path / "soup")])
    assert again.exit_code != 0 and "--overwrite" in again.output  # no silent overwrite


def test_models_that_do_not_match_are_refused(build_tiny, tmp_path):
    one = build_tiny("one", seed=0)
    longer = build_tiny("longer", seed=0, max_positions=256)  # another position table: other shapes
    with pytest.raises(NegmineError, match="do not match"):
        average_models([one, longer], tmp_path / "soup")
    with pytest.raises(NegmineError, match="at least two"):
        average_models([one], tmp_path / "soup")
    assert not (tmp_path / "soup").exists()
