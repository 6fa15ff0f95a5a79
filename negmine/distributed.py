"""The processes of one training run under ``torchrun`` or ``accelerate launch``: who is the main process, joining
the process group with a clear error when the launch is wrong, and the few collectives negmine needs (one process
mines, every process gets its negatives; the corpus is encoded in slices and gathered).

Outside a launcher (``WORLD_SIZE`` unset or 1) every function is the single-process identity, so the same code runs
either way. The group itself is PyTorch's (``torch.distributed``); the Hugging Face Trainer and accelerate find it
initialised and use it.

Reference:
    Li et al., "PyTorch Distributed: Experiences on Accelerating Data Parallel Training", VLDB 2020.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from datetime import timedelta

import numpy as np

from negmine.errors import NegmineError

JOIN_TIMEOUT_ENV = "NEGMINE_JOIN_TIMEOUT"  # seconds every process has to join a hand-made launch (default 120)


def _dist():
    import torch.distributed as dist

    return dist if dist.is_available() else None


def launched_world_size() -> int:
    """``WORLD_SIZE`` as the launcher set it (1 without one)."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        raise NegmineError(f"WORLD_SIZE={os.environ['WORLD_SIZE']!r} is not a number") from None


def is_distributed() -> bool:
    """Whether this process is one of several in an initialised process group."""
    dist = _dist()
    return bool(dist and dist.is_initialized() and dist.get_world_size() > 1)


def rank() -> int:
    """This process's rank (0 outside a group)."""
    return _dist().get_rank() if is_distributed() else 0


def world_size() -> int:
    """The number of processes (1 outside a group)."""
    return _dist().get_world_size() if is_distributed() else 1


def is_main() -> bool:
    """Whether this process writes outputs, logs and progress bars."""
    return rank() == 0


def init_distributed() -> bool:
    """Join the process group a launcher asked for, before the trainer does, so a wrong launch is one clear line.

    Under ``torchrun`` or ``accelerate launch`` the launcher's agent has already gathered the processes, and this
    joins through its store. A hand-made launch (``WORLD_SIZE``, ``RANK``, ``MASTER_ADDR`` and ``MASTER_PORT`` set by
    the user) is given ``NEGMINE_JOIN_TIMEOUT`` seconds (default 120) for every process to arrive, instead of
    PyTorch's 30 minutes of silence.

    Returns:
        True when this process is now one of several.

    Raises:
        NegmineError: a variable missing or not a number, or processes that never joined.

    Example:
        >>> init_distributed()  # WORLD_SIZE unset: one process
        False
    """
    world = launched_world_size()
    dist = _dist()
    if world <= 1:
        return False
    if dist is None:
        raise NegmineError(f"WORLD_SIZE={world} but this PyTorch build has no torch.distributed")
    if dist.is_initialized():
        return True
    import torch

    backend = "nccl" if torch.cuda.is_available() else "gloo"
    missing = [name for name in ("RANK", "MASTER_ADDR", "MASTER_PORT") if name not in os.environ]
    if missing:
        raise NegmineError(f"WORLD_SIZE={world} but {', '.join(missing)} unset: launch with torchrun "
                           f"--nproc_per_node {world} -m negmine train RECIPE (or accelerate launch)")  # fmt: skip
    if torch.cuda.is_available() and "LOCAL_RANK" in os.environ:
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
    if os.environ.get("TORCHELASTIC_USE_AGENT_STORE") == "True":  # torchrun / accelerate: already gathered
        dist.init_process_group(backend)
        return True
    this_rank, host, port = int(os.environ["RANK"]), os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"])
    wait = float(os.environ.get(JOIN_TIMEOUT_ENV, "120"))
    try:
        store = dist.TCPStore(host, port, world, is_master=this_rank == 0, timeout=timedelta(seconds=wait),
                              wait_for_workers=True)  # fmt: skip
    except (RuntimeError, ValueError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise NegmineError(f"WORLD_SIZE={world} but not every process joined {host}:{port} within {wait:g} s "
                           f"(rank {this_rank}: {first}); start {world} processes, e.g. torchrun --nproc_per_node "
                           f"{world} -m negmine train RECIPE") from None  # fmt: skip
    dist.init_process_group(backend, store=store, rank=this_rank, world_size=world)
    return True


@contextlib.contextmanager
def main_process_first() -> Iterator[None]:
    """The main process runs the block first (building pairs, filling a cache), the others after it, reading what it
    wrote. The identity in one process."""
    if not is_distributed():
        yield
        return
    dist = _dist()
    if not is_main():
        dist.barrier()
    try:
        yield
    finally:
        if is_main():
            dist.barrier()


@contextlib.contextmanager
def all_cores() -> Iterator[None]:
    """For work only the main process does while the others wait (building pairs, the final evaluation): torch may
    use every core this process may run on. CPU processes under torchrun get one thread each (it sets
    ``OMP_NUM_THREADS=1``), right for training side by side and 2x slow for a phase the main process runs alone.
    The identity in one process and on GPUs."""
    import torch

    if not is_distributed() or torch.cuda.is_available():
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(max(before, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def finish() -> None:
    """Wait for every process (the main one writes the outputs last), then leave the group: a process that exits
    with the group still open aborts (``terminate called without an active exception``)."""
    if is_distributed():
        dist = _dist()
        dist.barrier()
        dist.destroy_process_group()


def broadcast(value=None):
    """The main process's ``value`` on every process (any picklable object)."""
    if not is_distributed():
        return value
    box = [value if is_main() else None]
    _dist().broadcast_object_list(box, src=0)
    return box[0]


def gather_all(value) -> list:
    """Every process's ``value``, in rank order, on every process."""
    if not is_distributed():
        return [value]
    found = [None] * world_size()
    _dist().all_gather_object(found, value)
    return found


def my_slice(count: int) -> slice:
    """This process's contiguous share of ``count`` items (the first processes take one more when it does not
    divide): the slices of all ranks, in rank order, cover ``range(count)`` once.

    Example:
        >>> my_slice(10)  # one process
        slice(0, 10, None)
    """
    size, extra = divmod(count, world_size())
    start = rank() * size + min(rank(), extra)
    return slice(start, start + size + (rank() < extra))


def array_checksum(*arrays: np.ndarray) -> str:
    """A short SHA-256 of arrays' bytes (object arrays by their string form): equal negatives on every process."""
    digest = hashlib.sha256()
    for array in arrays:
        array = np.asarray(array)
        digest.update(array.astype(str).tobytes() if array.dtype == object else np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]
