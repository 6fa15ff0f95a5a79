"""The combined loss across processes: 2 gloo processes with batch b give the loss of 1 process with batch 2b on the
same examples, and each process's embeddings get the gradient they would get in the single large batch."""

from __future__ import annotations

import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from negmine.losses import CombinedLoss

BATCH, DIM, NEGATIVES = 4, 8, 2
VARIANTS = {
    "mnrl": dict(weights={"mnrl": 1.0}),  # sentence-transformers' MNRL, gathering itself
    "combined": dict(weights={"mnrl": 0.6, "contrastive": 0.3, "cosine": 0.1}),
    "masked": dict(weights={"mnrl": 1.0}, false_negative_margin=0.1),  # negmine's masked MNRL, gathering
    "per-example": dict(weights={"mnrl": 1.0}, in_batch_negatives=False),
}


def columns(world: int) -> list[torch.Tensor]:
    """Anchor, positive and negatives for ``world * BATCH`` rows, seeded."""
    generator = torch.Generator().manual_seed(7)
    return [torch.randn(world * BATCH, DIM, generator=generator) for _ in range(2 + NEGATIVES)]


def loss_and_grads(embeddings: list[torch.Tensor], variant: str, gather: bool) -> tuple[float, list[torch.Tensor]]:
    leaves = [e.clone().requires_grad_(True) for e in embeddings]
    loss = CombinedLoss(torch.nn.Identity(), gather_across_devices=gather, **VARIANTS[variant])
    total = sum(loss.compute_loss_from_embeddings(leaves).values())
    total.backward()
    return float(total.detach()), [leaf.grad for leaf in leaves]


def worker(rank: int, world: int, port: int, results) -> None:
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    try:
        local = [column[rank * BATCH : (rank + 1) * BATCH] for column in columns(world)]
        for variant in sorted(VARIANTS):
            value, grads = loss_and_grads(local, variant, gather=True)
            results.put((variant, rank, value, [g.numpy() for g in grads]))  # by value: the process ends first
        dist.barrier()  # neither process tears gloo down while the other is still in a collective
    finally:
        dist.destroy_process_group()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def two_processes() -> dict:
    """``{variant: {rank: (loss, gradients)}}`` from one run of 2 gloo processes (spawning is the slow part)."""
    results = mp.get_context("spawn").SimpleQueue()
    processes = mp.start_processes(worker, args=(2, free_port(), results), nprocs=2, start_method="spawn",
                                   join=False)  # fmt: skip
    found: dict = {}
    for variant, rank, value, grads in (results.get() for _ in range(2 * len(VARIANTS))):
        found.setdefault(variant, {})[rank] = (value, grads)
    try:
        while not processes.join():
            pass
    except mp.ProcessExitedException as error:
        # every result is in; a process that then dies in gloo's teardown ("terminate called without an active
        # exception", SIGABRT, seen under load) has finished the work this fixture checks
        if error.signal_name != "SIGABRT":
            raise
    return found


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_two_processes_of_batch_b_are_one_process_of_batch_2b(variant, two_processes):
    world = 2
    single_value, single_grads = loss_and_grads(columns(world), variant, gather=True)  # not distributed: no gather
    by_rank = two_processes[variant]
    # DDP averages the processes' gradients, so the loss it optimises is the mean of the processes' losses
    assert sum(value for value, _ in by_rank.values()) / world == pytest.approx(single_value, rel=1e-5)
    for rank, (_, grads) in by_rank.items():
        rows = slice(rank * BATCH, (rank + 1) * BATCH)
        for local, full in zip(grads, single_grads, strict=True):
            # each process's gradient is of the sum of all processes' losses (gathered with gradients); DDP's
            # average over processes then gives the single batch's gradient of the mean
            torch.testing.assert_close(torch.from_numpy(local) / world, full[rows], rtol=1e-4, atol=1e-6)


def test_without_gather_each_process_sees_only_its_own_batch():
    world = 2
    gathered = loss_and_grads(columns(world), "mnrl", gather=True)[0]
    halves = [loss_and_grads([c[r * BATCH : (r + 1) * BATCH] for c in columns(world)], "mnrl", gather=False)[0]
              for r in range(world)]  # fmt: skip
    assert sum(halves) / world < gathered  # fewer in-batch negatives: an easier task, a lower loss
