"""WordNet and a part-of-speech tagger that work offline, for nlpaug's ``SynonymAug`` / ``AntonymAug``.

nlpaug reads WordNet through ``nltk.corpus.wordnet`` and tags with ``nltk.pos_tag``; both call ``nltk.download``
when their data is missing, which here (no network) fails or hangs. This module never downloads:

- WordNet comes from a WordNet 3.0 dictionary folder (Debian's ``wordnet-base`` package installs one in
  ``/usr/share/wordnet``; ``$NEGMINE_WORDNET`` names another), else from NLTK's own data when it is there. Debian
  lacks the ``lexnames`` file NLTK's reader opens, so negmine ships it (45 lines, WordNet 3.0) and copies both into
  ``CACHE/nltk_data/corpora/wordnet`` once. The reader is NLTK's ``WordNetCorpusReader`` less one step: NLTK 3.9+
  maps the sense keys of the corpus called ``wordnet`` onto the loaded one at every load (``map_wn``, which needs
  ``index.sense`` and took more than half of the 8 s load here); for the same files that map is the identity, so
  :class:`OfflineWordNet` skips it. nlpaug is pointed at this reader (its module-level ``wordnet``).
- The tagger (:class:`WordNetTagger`) needs no model: closed-class words have fixed Penn tags, an open-class word
  takes the part of speech whose WordNet senses are most frequent in SemCor (``cntlist.rev``), with suffix rules
  for words WordNet lacks. It is a unigram tagger, good enough to pick the WordNet part of speech of a word to
  replace (all nlpaug uses the tags for), not a parser.

References:
    Miller, "WordNet: A Lexical Database for English", CACM 1995;
    Bird, Klein and Loper, "Natural Language Processing with Python" (NLTK), 2009, ch. 5 (unigram and regexp taggers).
"""

from __future__ import annotations

import functools
import os
import shutil
import warnings
from pathlib import Path

from negmine.errors import NegmineError

WORDNET_DIRS = ("/usr/share/wordnet",)
INSTALL_HINT = (
    "WordNet is not installed: run `sudo apt-get install wordnet-base` (Debian/Ubuntu; `bash install.sh` does it "
    "where apt is available), or set NEGMINE_WORDNET to a WordNet 3.0 dictionary folder (the one holding data.noun)"
)
LEXNAMES = Path(__file__).parent / "resources" / "lexnames"


def wordnet_source() -> Path | None:
    """The WordNet 3.0 dictionary folder to use: ``$NEGMINE_WORDNET``, else Debian's ``/usr/share/wordnet``; None
    when neither holds ``data.noun``."""
    for folder in filter(None, (os.environ.get("NEGMINE_WORDNET"), *WORDNET_DIRS)):
        if (Path(folder) / "data.noun").is_file():
            return Path(folder)
    return None


def _nltk_has_wordnet() -> bool:
    import nltk

    try:
        nltk.data.find("corpora/wordnet")
    except LookupError:  # find() only looks; it never downloads
        return False
    return True


def _offline_reader_class():
    from nltk.corpus.reader import WordNetCorpusReader

    class OfflineWordNet(WordNetCorpusReader):
        """NLTK's WordNet reader without the sense-key map onto itself (see the module docstring)."""

        def map_wn(self, version="wordnet"):
            return None

    return OfflineWordNet


@functools.cache
def load_wordnet(cache_dir: str | None = None):
    """A WordNet reader that works offline (see the module docstring); never downloads.

    Args:
        cache_dir: where ``nltk_data/corpora/wordnet`` is assembled (default: the embedding cache folder).

    Returns:
        An NLTK WordNet corpus reader (:class:`OfflineWordNet` over the Debian files, else ``nltk.corpus.wordnet``).

    Raises:
        NegmineError: WordNet is nowhere to be found (the message says what to install).

    Example:
        >>> load_wordnet().synsets("increase")[0].lexname()  # doctest: +SKIP
        'noun.quantity'
    """
    import nltk

    source = wordnet_source()
    if source is None:
        if not _nltk_has_wordnet():
            raise NegmineError(INSTALL_HINT)
        from nltk.corpus import wordnet

        wordnet.ensure_loaded()
        return wordnet
    from negmine.encode import default_cache_dir

    root = Path(cache_dir or default_cache_dir()) / "nltk_data"
    target = root / "corpora" / "wordnet"
    if not (target / "lexnames").is_file():
        partial = target.with_name("wordnet.partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        for path in source.iterdir():
            if path.is_file():
                shutil.copyfile(path, partial / path.name)
        if not (partial / "lexnames").is_file():
            shutil.copyfile(LEXNAMES, partial / "lexnames")
        partial.rename(target)
    if str(root) not in nltk.data.path:
        nltk.data.path.insert(0, str(root))
    with warnings.catch_warnings():  # "multilingual functions are not available": no Open Multilingual Wordnet
        warnings.simplefilter("ignore", UserWarning)
        return _offline_reader_class()(str(target), None)


# Closed-class words: the Penn tag a unigram tagger trained on the Penn Treebank gives them most often.
CLOSED_CLASS = {
    **dict.fromkeys("a an the this that these those each every no some any all both either neither".split(), "DT"),
    **dict.fromkeys("of in on at by for with from into during after before between among through over under "
                    "without within against than as via per across along around about upon whereas while "
                    "whether because although though if".split(), "IN"),  # fmt: skip
    **dict.fromkeys("and or but nor".split(), "CC"),
    **dict.fromkeys("i you he she it we they me him her us them".split(), "PRP"),
    **dict.fromkeys("its their his our your my".split(), "PRP$"),
    **dict.fromkeys("can could may might must shall should will would".split(), "MD"),
    **dict.fromkeys("which who whom whose".split(), "WDT"),
    "to": "TO", "not": "RB", "n't": "RB", "is": "VBZ", "are": "VBP", "was": "VBD", "were": "VBD", "be": "VB",
    "been": "VBN", "being": "VBG", "has": "VBZ", "have": "VBP", "had": "VBD", "does": "VBZ", "do": "VBP",
    "did": "VBD", "there": "EX",
}  # fmt: skip
SUFFIX_RULES = [
    (r"^[^\w]+$", "."),
    (r"^-?\d+([.,]\d+)?%?$", "CD"),
    (r".*ly$", "RB"),
    (r".*ing$", "VBG"),
    (r".*ed$", "VBD"),
    (r".*(ous|ive|al|ic|able|ible)$", "JJ"),
    (r".*s$", "NNS"),
    (r".*", "NN"),
]


class WordNetTagger:
    """A download-free unigram Penn Treebank tagger: closed-class lists, then the most frequent WordNet part of
    speech of the word, then suffix rules (NLTK's ``RegexpTagger``).

    Args:
        wordnet: NLTK's WordNet reader (:func:`load_wordnet`).

    Returns:
        ``tag(tokens)`` gives ``[(token, tag), ...]`` as ``nltk.pos_tag`` does.

    Example:
        >>> WordNetTagger(load_wordnet()).tag(["aspirin", "reduces", "the", "risk"])  # doctest: +SKIP
        [('aspirin', 'NN'), ('reduces', 'VBZ'), ('the', 'DT'), ('risk', 'NN')]
    """

    def __init__(self, wordnet):
        from nltk.tag import RegexpTagger

        self.wordnet = wordnet
        self.fallback = RegexpTagger(SUFFIX_RULES)
        self._semcor = _semcor_counts(wordnet)
        self._tag_word = functools.lru_cache(maxsize=1 << 16)(self._tag_word_uncached)

    def tag(self, tokens: list[str]) -> list[tuple[str, str]]:
        return [(token, self._tag_word(token)) for token in tokens]

    def _tag_word_uncached(self, token: str) -> str:
        word = token.lower()
        if word in CLOSED_CLASS:
            return CLOSED_CLASS[word]
        counts: dict[str, int] = {}
        for pos in "nvar":
            base = self.wordnet.morphy(word, pos)
            if base is None:
                continue
            senses = len(self.wordnet._lemma_pos_offset_map.get(base, {}).get(pos, ()))
            counts[pos] = self._semcor.get((base, pos), 0) + senses  # +1 a sense: unseen senses count
        if not counts:
            return self.fallback.tag([token])[0][1]
        pos = max("nvar", key=lambda p: counts.get(p, -1))  # ties keep the order n, v, a, r
        base = self.wordnet.morphy(word, pos)
        if pos == "n":
            return "NN" if base == word else "NNS"
        if pos == "v":
            if base == word:
                return "VBP"
            return "VBG" if word.endswith("ing") else "VBZ" if word.endswith("s") else "VBD"
        if pos == "a":
            return "JJR" if word.endswith("er") and base != word else "JJS" if word.endswith("est") else "JJ"
        return "RB"


SS_TYPES = {"1": "n", "2": "v", "3": "a", "4": "r", "5": "a"}  # sense-key synset types; 5 (satellite) is an adjective


def _semcor_counts(wordnet) -> dict[tuple[str, str], int]:
    """SemCor tag counts summed a (lemma, part of speech), read once from WordNet's ``cntlist.rev``.

    This replaces ``sum(lemma.count() for lemma in wordnet.lemmas(word, pos))``, which binary-searches the file and
    loads the synsets once a lemma (16 of the 21 s the tagger spent on SciFact's abstracts; now 0.5 s in all). The
    sum by (lemma, part of speech) also counts the senses whose keys changed since the SemCor counts were made
    (``ex%5:00:00:past:00`` in the file, ``ex%5:00:00:unfashionable:00`` in WordNet 3.0), which an exact key lookup
    misses; on SciFact's 21,718 token types 37 tags changed with it (``March`` a noun, was a verb; ``limited`` a verb,
    was an adjective)."""
    counts: dict[tuple[str, str], int] = {}
    with wordnet.open("cntlist.rev") as lines:
        for line in lines:
            key, _, count = line.split()
            lemma, _, rest = key.partition("%")
            pair = (lemma, SS_TYPES[rest[0]])
            counts[pair] = counts.get(pair, 0) + int(count)
    return counts


@functools.cache
def offline_tagger(cache_dir: str | None = None) -> WordNetTagger:
    """The :class:`WordNetTagger` over :func:`load_wordnet` (one a process)."""
    return WordNetTagger(load_wordnet(cache_dir))
