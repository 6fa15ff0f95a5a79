"""Options shared by several commands: where the data is, which split, and the validation carve."""

from __future__ import annotations

import click

from negmine.data.sources import DEFAULT_SEED, DEFAULT_VALIDATION_FRACTION, SPLITS


def data_options(func):
    """``--dataset``, ``--split``, and :func:`data_location_options`."""
    options = [
        click.option("--dataset", default="scifact", show_default=True,
                     help="A data set name under the data root, or a folder (SciFact release or BEIR layout)."),
        click.option("--split", type=click.Choice(SPLITS), default="validation", show_default=True,
                     help="validation is carved from train; dev/test are SciFact's held-out labelled claims."),
    ]  # fmt: skip
    for option in reversed(options):
        func = option(func)
    return data_location_options(func)


def data_location_options(func):
    """``--data-dir``, ``--validation-fraction``, ``--seed``."""
    options = [
        click.option("--data-dir", type=click.Path(file_okay=False), default=None,
                     help="The data root (default: $NEGMINE_DATA, else ./data)."),
        click.option("--validation-fraction", type=click.FloatRange(0, 1, max_open=True), default=None,
                     help=f"Share of training queries carved out as the validation split, by query (0: none; "
                          f"default {DEFAULT_VALIDATION_FRACTION} for SciFact and BEIR, 0 for pair data)."),
        click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Seed of the carve."),
    ]  # fmt: skip
    for option in reversed(options):
        func = option(func)
    return func


def backend_option(func):
    """``--backend``: how a frozen model encodes (torch, or sentence-transformers' ONNX / OpenVINO backends and int8
    exports; see :mod:`negmine.backends`)."""
    from negmine.backends import BACKENDS

    return click.option("--backend", type=click.Choice(BACKENDS), default="torch", show_default=True,
                        help="Encode with torch, ONNX or OpenVINO (int8: quantised; exported once, cached; the "
                             "onnx/openvino extras).")(func)  # fmt: skip
