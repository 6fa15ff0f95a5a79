"""``perturb``: nlpaug augmenters applied to a positive text, each output a document-side negative.

Character level (``RandomCharAug``, ``KeyboardAug``, ``OcrAug``), word level (``RandomWordAug``, ``SpellingAug``,
``SplitAug``) and, with WordNet, ``SynonymAug`` / ``AntonymAug`` (offline, see :mod:`negmine.augment.wordnet`).
nlpaug draws from Python's and NumPy's global generators; each text is augmented under its own seed (derived from
the run's seed and a key such as the query id), with the global state restored afterwards, so an output depends on
its inputs only, not on the order of the calls.

References:
    Ma, "NLP Augmentation" (nlpaug), 2019, https://github.com/makcedward/nlpaug;
    Wei and Zou, "EDA: Easy Data Augmentation Techniques for Boosting Performance on Text Classification
    Tasks", EMNLP 2019 (random swap, deletion, synonym replacement).
"""

from __future__ import annotations

import contextlib
import functools
import random
import zlib

import numpy as np

from negmine.augment.spec import AugmenterSpec


def stable_seed(seed: int, key: str) -> int:
    """A 32-bit seed from the run's seed and a text key, the same in every process (``hash()`` is salted).

    Example:
        >>> stable_seed(42, "claim-7") == stable_seed(42, "claim-7"), stable_seed(42, "a") == stable_seed(43, "a")
        (True, False)
    """
    return zlib.crc32(f"{seed}:{key}".encode()) & 0xFFFFFFFF


@contextlib.contextmanager
def seeded(seed: int):
    """Seed Python's and NumPy's global generators (which nlpaug uses) inside the block, then restore them."""
    py_state, np_state = random.getstate(), np.random.get_state()
    random.seed(seed)
    np.random.seed(seed)
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)


class Perturber:
    """nlpaug augmenters built once, applied to texts under per-text seeds.

    Args:
        augmenters: :class:`~negmine.augment.spec.AugmenterSpec` items; one is drawn for each output.
        seed: the run's seed.
        cache_dir: where offline WordNet is assembled (for ``SynonymAug`` / ``AntonymAug``).

    Returns:
        ``perturb(text, key, n)`` gives up to ``n`` ``(text, source)`` pairs that differ from ``text``.

    Example:
        >>> from negmine.augment.spec import AugmenterSpec
        >>> perturber = Perturber([AugmenterSpec(name="RandomWordAug", params={"action": "swap"})], seed=0)
        >>> [source for _, source in perturber.perturb("aspirin lowers the risk of stroke in adults", "q1", 1)]
        ['perturb:RandomWordAug-swap']
    """

    def __init__(self, augmenters: list[AugmenterSpec], seed: int = 42, cache_dir: str | None = None):
        from negmine.augment.spec import nlpaug_class

        self.specs = list(augmenters)
        self.seed = seed
        self.augmenters = []
        tagger = None
        if any(spec.needs_wordnet for spec in self.specs):
            import importlib

            from negmine.augment.wordnet import load_wordnet, offline_tagger

            # nlpaug's WordNet model reads this module global (else it downloads); the package re-exports NLTK's
            # loader under the same dotted name, hence the module itself from importlib
            nlpaug_wordnet = importlib.import_module("nlpaug.model.word_dict.wordnet")
            nlpaug_wordnet.wordnet = load_wordnet(cache_dir)
            tagger = offline_tagger(cache_dir)
        for spec in self.specs:
            augmenter = nlpaug_class(spec.name)(**spec.params)
            if spec.needs_wordnet:
                augmenter.model.pos_tag = tagger.tag  # instead of nltk.pos_tag, which downloads its model
                augmenter.model.predict = _memoized(augmenter.model.predict)
            self.augmenters.append(augmenter)

    def perturb(self, text: str, key: str, n: int = 1) -> list[tuple[str, str]]:
        """Up to ``n`` distinct perturbations of ``text`` with their ``negative_source``; fewer when an augmenter
        finds nothing to change (e.g. no antonym)."""
        outputs: dict[str, str] = {}
        with seeded(stable_seed(self.seed, key)):
            order = np.random.permutation(len(self.augmenters)).tolist()
            for attempt in range(n * len(order)):
                if len(outputs) >= n:
                    break
                i = order[attempt % len(order)]
                result = self.augmenters[i].augment(text)
                changed = result[0] if isinstance(result, list) and result else result
                if isinstance(changed, str) and changed.strip() and changed != text and changed not in outputs:
                    outputs[changed] = self.specs[i].source
        return list(outputs.items())


def _memoized(predict):
    """nlpaug's WordNet lookup ``predict(word, pos)`` remembered a word and part of speech: it is pure, and
    ``AntonymAug`` asks it about every token of every text, some twice (119,000 calls on SciFact's positives).
    A fresh list each call, as nlpaug's own returns."""
    cached = functools.lru_cache(maxsize=1 << 16)(lambda *args, **kwargs: tuple(predict(*args, **kwargs)))
    return lambda *args, **kwargs: list(cached(*args, **kwargs))
