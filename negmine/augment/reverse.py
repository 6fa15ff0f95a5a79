"""``reverse``: rule-based reversal of a claim: the direction of an effect, a number, or a negation.

Rules, tried in this order (the first ``n`` that apply are kept; nothing is returned when none applies):

1. ``reverse:direction``: the first direction word is swapped for its opposite (increases -> decreases,
   higher -> lower, activates -> inhibits, up-regulates -> down-regulates, promotes -> suppresses, more -> less, ...),
   in the same inflection (lemminflect makes every form of each curated pair).
2. ``reverse:number``: the first free-standing number or percentage changes (a percentage p becomes 100 - p, another
   number is multiplied or divided by 2, 3, 5 or 10, chosen by the seed); years are left alone.
3. ``reverse:negation-remove`` / ``reverse:negation-insert``: ``does not increase`` -> ``increases`` and back,
   ``is`` -> ``is not``, ``can`` -> ``cannot``, ``no effect`` -> ``an effect``, with do-support in the verb's
   inflection (``reduced`` -> ``did not reduce``).

Only negation rules make a reversal that differs from its claim by negation words alone, the surface cue that
SugarCrepe found vision-language benchmarks full of; :func:`negation_only` tells such pairs apart so that the share
can be reported.

References:
    Weller et al., "NevIR: Negation in Neural Information Retrieval", EACL 2024;
    Hsieh et al., "SugarCrepe: Fixing Hackable Benchmarks for Vision-Language Compositionality", NeurIPS 2023;
    Wadden et al., "Fact or Fiction: Verifying Scientific Claims", EMNLP 2020 (claim negations in SciFact).
"""

from __future__ import annotations

import functools
import random
import re

from negmine.augment.perturb import stable_seed

# Curated for biomedical claims: (word, opposite); both directions unless listed in ONE_WAY.
VERB_PAIRS = [
    ("increase", "decrease"), ("activate", "inhibit"), ("upregulate", "downregulate"),
    ("up-regulate", "down-regulate"), ("promote", "suppress"), ("enhance", "impair"), ("improve", "worsen"),
    ("raise", "lower"), ("accelerate", "decelerate"), ("prolong", "shorten"), ("strengthen", "weaken"),
    ("exacerbate", "alleviate"), ("facilitate", "hinder"), ("amplify", "attenuate"), ("overexpress", "underexpress"),
]  # fmt: skip
ONE_WAY_VERBS = [("stimulate", "inhibit"), ("reduce", "increase"), ("elevate", "lower"), ("diminish", "increase"),
                 ("induce", "suppress"), ("boost", "reduce"), ("lessen", "increase")]  # fmt: skip
ADJ_PAIRS = [("high", "low"), ("great", "small"), ("good", "bad"), ("short", "long"), ("fast", "slow"),
             ("strong", "weak"), ("early", "late")]  # fmt: skip
WORD_PAIRS = [
    ("more", "less"), ("higher", "lower"), ("increased", "decreased"), ("positive", "negative"),
    ("positively", "negatively"), ("beneficial", "harmful"), ("effective", "ineffective"), ("safe", "unsafe"),
    ("sufficient", "insufficient"), ("necessary", "unnecessary"), ("activation", "inhibition"),
    ("upregulation", "downregulation"), ("up-regulation", "down-regulation"), ("gain", "loss"),
    ("agonist", "antagonist"), ("overexpression", "underexpression"), ("enhancement", "impairment"),
    ("improvement", "deterioration"), ("elevated", "reduced"), ("protective", "harmful"), ("larger", "smaller"),
    ("fewer", "more"), ("most", "least"),
]  # fmt: skip
ONE_WAY = {"protective", "fewer", "larger", "elevated"}
AUXILIARIES = {"is", "are", "was", "were", "can", "could", "may", "might", "must", "should", "will", "would",
               "has", "have", "had"}  # fmt: skip
DO_FORMS = {"VBZ": "does", "VBD": "did", "VBP": "do"}
NEGATION_WORDS = {"not", "n't", "no", "does", "do", "did", "a", "an"}
TOKEN = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*|\d+(?:\.\d+)?|\S")
NUMBER = re.compile(r"(?<![\w.\-/'])(\d+(?:\.\d+)?)(\s*%|\s*percent\b)?(?![\w/']|\.\d)")


@functools.cache
def direction_map() -> dict[str, str]:
    """Every inflected form of each curated word -> the same form of its opposite (lower-case).

    Example:
        >>> m = direction_map()
        >>> m["increases"], m["down-regulated"], m["higher"], m["inhibiting"]
        ('decreases', 'up-regulated', 'lower', 'activating')
    """
    from lemminflect import getInflection

    mapping: dict[str, str] = {}
    for first, second in WORD_PAIRS:  # exact words first: they win over inflections below
        mapping.setdefault(first, second)
        if first not in ONE_WAY:
            mapping.setdefault(second, first)
    pairs = [(a, b, True) for a, b in VERB_PAIRS] + [(a, b, False) for a, b in ONE_WAY_VERBS]
    for first, second, both in pairs:
        for tag in ("VB", "VBZ", "VBD", "VBN", "VBG"):
            a, b = getInflection(first, tag), getInflection(second, tag)
            if a and b:
                mapping.setdefault(a[0], b[0])
                if both:
                    mapping.setdefault(b[0], a[0])
    for first, second in ADJ_PAIRS:
        for tag in ("JJ", "JJR", "JJS"):
            a, b = getInflection(first, tag), getInflection(second, tag)
            if a and b:
                mapping.setdefault(a[0], b[0])
                mapping.setdefault(b[0], a[0])
    return mapping


def _cased(word: str, like: str) -> str:
    return word[:1].upper() + word[1:] if like[:1].isupper() else word


def _tokens(text: str) -> list[re.Match]:
    return list(TOKEN.finditer(text))


def _replace(text: str, match: re.Match, new: str) -> str:
    return text[: match.start()] + new + text[match.end() :]


def reverse_direction(claim: str) -> str | None:
    """The claim with its first direction word swapped for the opposite, or None; a claim with a negation is
    left to the negation rule (flipping 'not ... accelerated' to 'not ... decelerated' reverses nothing)."""
    mapping = direction_map()
    tokens = _tokens(claim)
    if any(m.group(0).lower() in ("not", "no", "cannot", "n't") for m in tokens):
        return None
    for match in tokens:
        word = match.group(0)
        if word.lower() in mapping:
            return _replace(claim, match, _cased(mapping[word.lower()], word))
    return None


def reverse_number(claim: str, rng: random.Random) -> str | None:
    """The claim with its first number changed (percentages p -> 100 - p), or None; years and zeros are kept."""
    for match in NUMBER.finditer(claim):
        value, percent = float(match.group(1)), match.group(2)
        if value == 0 or (not percent and "." not in match.group(1) and 1900 <= value <= 2100):
            continue
        if percent and value <= 100 and value != 50:
            new = 100 - value
        else:
            factor = rng.choice((2, 3, 5, 10))
            new = value * factor if rng.random() < 0.5 or value < factor else value / factor
        decimals = len(match.group(1).split(".")[1]) if "." in match.group(1) else 0
        text = f"{new:.{decimals}f}" if decimals or new != int(new) else str(int(new))
        if decimals == 0 and new != int(new):
            text = f"{new:.1f}"
        return claim[: match.start(1)] + text + claim[match.end(1) :]
    return None


def _verb_form(word: str) -> tuple[str, str] | None:
    """``(lemma, tag)`` when ``word`` is a verb in the 3rd person (VBZ) or past (VBD) form, per lemminflect."""
    from lemminflect import getAllLemmas, getInflection

    lemmas = getAllLemmas(word.lower()).get("VERB")
    if not lemmas:
        return None
    for tag in ("VBZ", "VBD"):
        if word.lower() in (getInflection(lemmas[0], tag) or ()):
            return lemmas[0], tag
    return None


def reverse_negation(claim: str) -> tuple[str, str] | None:
    """``(text, rule)``: a negation removed (``negation-remove``) or inserted (``negation-insert``), or None."""
    from lemminflect import getInflection

    tokens = _tokens(claim)
    words = [m.group(0).lower() for m in tokens]
    for i, word in enumerate(words):
        if word == "cannot":
            return _replace(claim, tokens[i], _cased("can", tokens[i].group(0))), "negation-remove"
        if word == "not" and i > 0:
            before = words[i - 1]
            if before in DO_FORMS.values() and i + 1 < len(words):  # does not increase -> increases
                tag = {v: k for k, v in DO_FORMS.items()}[before]
                verb = tokens[i + 1].group(0)
                form = (getInflection(verb.lower(), tag) or (verb,))[0] if tag != "VBP" else verb
                form = _cased(form, tokens[i - 1].group(0))
                text = claim[: tokens[i - 1].start()] + form + claim[tokens[i + 1].end() :]
                return text, "negation-remove"
            return claim[: tokens[i - 1].end()] + claim[tokens[i].end() :], "negation-remove"
        if word == "no" and i + 1 < len(words) and words[i + 1].isalpha():
            article = "an" if words[i + 1][0] in "aeiou" else "a"
            return _replace(claim, tokens[i], _cased(article, tokens[i].group(0))), "negation-remove"
    for i, word in enumerate(words):
        if word in AUXILIARIES and i > 0:
            if word in ("has", "have", "had") and not (i + 1 < len(words) and _is_participle(words[i + 1])):
                continue  # a main verb 'has': handled below with do-support
            return claim[: tokens[i].end()] + " not" + claim[tokens[i].end() :], "negation-insert"
    for i, match in enumerate(tokens):
        if i == 0 or words[i - 1] in ("the", "a", "an", "to", "of", "and", "or", "in"):
            continue
        form = _verb_form(match.group(0))
        if form is not None:
            lemma, tag = form
            return _replace(claim, match, f"{DO_FORMS[tag]} not {lemma}"), "negation-insert"
    return None


def _is_participle(word: str) -> bool:
    from lemminflect import getAllLemmas, getInflection

    lemmas = getAllLemmas(word).get("VERB")
    return bool(lemmas) and word in (getInflection(lemmas[0], "VBN") or ())


def reverse_claim(claim: str, key: str = "", n: int = 1, seed: int = 42) -> list[tuple[str, str]]:
    """Up to ``n`` reversals of ``claim`` as ``(text, negative_source)``, one a rule family, in the order direction,
    number, negation; ``[]`` when no rule applies.

    Example:
        >>> for text, rule in reverse_claim("Aspirin increases the risk of bleeding by 30%.", n=3):
        ...     print(rule, "|", text)
        reverse:direction | Aspirin decreases the risk of bleeding by 30%.
        reverse:number | Aspirin increases the risk of bleeding by 70%.
        reverse:negation-insert | Aspirin does not increase the risk of bleeding by 30%.
        >>> reverse_claim("Vitamin D is not associated with fractures.")
        [('Vitamin D is associated with fractures.', 'reverse:negation-remove')]
    """
    rng = random.Random(stable_seed(seed, key or claim))
    outputs: list[tuple[str, str]] = []
    for rule in ("direction", "number", "negation"):
        if len(outputs) >= n:
            break
        if rule == "direction":
            text = reverse_direction(claim)
        elif rule == "number":
            text = reverse_number(claim, rng)
        else:
            found = reverse_negation(claim)
            text, rule = found if found else (None, rule)
        if text and text != claim:
            outputs.append((text, f"reverse:{rule}"))
    return outputs


def negation_only(original: str, reversal: str) -> bool:
    """Whether two texts differ only by negation words (not, no, do-support, articles), after lemmatising verbs.

    Example:
        >>> negation_only("X reduces Y.", "X does not reduce Y."), negation_only("X reduces Y.", "X increases Y.")
        (True, False)
    """
    from lemminflect import getAllLemmas

    def content(text: str) -> list[str]:
        out = []
        for match in _tokens(text):
            word = match.group(0).lower()
            if word in NEGATION_WORDS:
                continue
            if word == "cannot":
                word = "can"
            lemma = getAllLemmas(word).get("VERB")
            out.append(lemma[0] if lemma else word)
        return out

    return content(original) == content(reversal)
