"""``negmine train`` under torchrun: 2 CPU processes (gloo) train a tiny recipe with a refresh, write one model, and
train on the same negatives; a launch where a process never comes is one line and writes nothing."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys

import pytest
import yaml

from negmine.distributed import array_checksum, my_slice


def run(command: list[str], env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.run(command, capture_output=True, text=True, env=environment, timeout=timeout)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def ddp_recipe(tiny_recipe, tmp_path):
    tree = tiny_recipe(training={"per_device_train_batch_size": 2, "batch_sampler": "batch_sampler",
                                 "logging_steps": 1})  # fmt: skip
    tree["loss"] = {"type": "combined", "gather_across_devices": True}
    tree["refresh"] = {"every_epochs": 1, "query_fraction": 0.5}
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(tree))
    return path


NO_TORCHRUN = shutil.which("torchrun") is None and not os.path.exists(
    os.path.join(os.path.dirname(sys.executable), "torchrun")
)


def torchrun_train(recipe) -> subprocess.CompletedProcess:
    torchrun = os.path.join(os.path.dirname(sys.executable), "torchrun")
    return run([torchrun, "--nproc_per_node", "2", "--master_port", str(free_port()), "-m", "negmine", "train",
                str(recipe)])  # fmt: skip


@pytest.mark.skipif(NO_TORCHRUN, reason="torchrun is not installed")
def test_two_processes_train_one_model_on_the_same_negatives(ddp_recipe, tmp_path):
    done = torchrun_train(ddp_recipe)
    assert done.returncode == 0, done.stderr[-3000:]
    out = tmp_path / "run"
    assert (out / "model" / "model.safetensors").is_file()
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["processes"] == 2 and metrics["splits"]["validation"]["n_queries"] == 3
    assert done.stdout.count("| validation |") == 1  # one process prints the table
    refreshes = json.loads((out / "dynamics.json").read_text())["refresh"]
    assert [entry["epoch"] for entry in refreshes] == [0.0, 1.0]  # the first mining and one refresh
    for entry in refreshes:
        assert entry["processes"] == 2 and entry["checksums_equal"] and len(set(entry["rank_checksums"])) == 1
    log = json.loads((out / "train_log.json").read_text())
    assert any("mnrl" in entry for entry in log)
    assert not list(out.glob("*.tmp*"))


@pytest.mark.skipif(NO_TORCHRUN, reason="torchrun is not installed")
def test_a_refresh_on_openvino_under_torchrun_gives_every_process_the_same_negatives(ddp_recipe, tmp_path):
    pytest.importorskip("optimum.intel", reason="negmine[openvino] is not installed")
    tree = yaml.safe_load(ddp_recipe.read_text())
    tree["refresh"]["backend"] = "openvino"  # each process exports its weights and encodes its slice with them
    ddp_recipe.write_text(yaml.safe_dump(tree))
    done = torchrun_train(ddp_recipe)
    assert done.returncode == 0, done.stderr[-3000:]
    refreshes = json.loads((tmp_path / "run" / "dynamics.json").read_text())["refresh"]
    assert [entry["backend"] for entry in refreshes][1:] == ["openvino"]
    assert all(entry["checksums_equal"] and len(set(entry["rank_checksums"])) == 1 for entry in refreshes)
    assert (tmp_path / "run" / "model" / "model.safetensors").is_file()


def test_a_process_that_never_joins_is_one_line_and_writes_nothing(ddp_recipe, tmp_path):
    env = {"WORLD_SIZE": "2", "RANK": "0", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1",
           "MASTER_PORT": str(free_port()), "NEGMINE_JOIN_TIMEOUT": "2"}  # fmt: skip
    done = run([sys.executable, "-m", "negmine", "train", str(ddp_recipe)], env=env)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "WORLD_SIZE=2 but not every process joined" in errors[0], done.stderr[-2000:]
    assert not (tmp_path / "run").exists()


def test_slices_cover_every_item_once(monkeypatch):
    import negmine.distributed as distributed

    for world in (1, 2, 3, 5):
        covered = []
        for rank in range(world):
            monkeypatch.setattr(distributed, "world_size", lambda world=world: world)
            monkeypatch.setattr(distributed, "rank", lambda rank=rank: rank)
            covered.extend(range(13)[my_slice(13)])
        assert covered == list(range(13))
    assert array_checksum([1, 2]) != array_checksum([2, 1])
