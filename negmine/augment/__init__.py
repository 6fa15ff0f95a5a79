"""Synthetic negatives: nlpaug perturbations (``perturb``), keyword swaps (``swap``), rule-based claim reversal
(``reverse``); hard-negative mixing in embedding space lives in the loss (``negmine.losses.mixing``). The probe that
shows what each teaches is :mod:`negmine.augment.probe`."""

from negmine.augment.spec import GENERATORS, AugmenterSpec, SyntheticConfig, parse_synthetic_spec

__all__ = ["GENERATORS", "AugmenterSpec", "SyntheticConfig", "parse_synthetic_spec"]
