"""A text's language: the detector's call, or a prior's where the text is too short for the detector to be trusted.

Character n-gram detectors (lingua) guess short texts badly: "I want to cancel my subscription" reads as French
(confidence 0.59), "gostei" as German (0.85). A text the detector is not sure of (confidence under
`switch_confidence`, which short texts rarely reach) or cannot place takes the prior's language; only strong
evidence, a detection with at least `switch_confidence`, leaves the prior:

- the customer's declared language (customers.language) when it is one the model knows (source `customer`);
- else the company's language mix (shares among its confidently detected longer texts): its main language replaces
  a detection the company hardly ever receives (share under `MIX_MIN_SHARE`) or an undetermined one
  (source `company_mix`).

Confident detections keep the detector's language (source `detected`), as do texts it names the prior's language
for. `SHORT_TEXT_WORDS` marks the texts too short to enter the company's mix.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

LANGUAGES = ("en", "es", "pt", "fr", "de", "it")
UNDETERMINED = "und"
SHORT_TEXT_WORDS = 4  # texts of at most this many words are short: the detector needs more to be trusted
SWITCH_CONFIDENCE = 0.99  # default of var text_language_switch_confidence (DECISIONLOG.md)
MIX_MIN_TEXTS = 30  # fewer confident longer texts than this make no mix (too few to say what the company receives)
MIX_MIN_SHARE = 0.05  # a language under this share of the company's confident longer texts is not the company's
DETECTED, CUSTOMER, COMPANY_MIX = "detected", "customer", "company_mix"
LANGUAGE_SOURCES = (DETECTED, CUSTOMER, COMPANY_MIX)


@dataclass(frozen=True)
class LanguagePrior:
    """What is known before reading a text: its writer's declared language (per text, None when unknown) and the
    company's language mix (language -> share); `switch_confidence` is the evidence a short text needs to leave it."""

    declared: Sequence[str | None] | None = None
    mix: dict[str, float] | None = None
    switch_confidence: float = SWITCH_CONFIDENCE


def word_count(text: str | None) -> int:
    return len(text.split()) if text else 0


def known_language(code: str | None) -> str | None:
    """The ISO 639-1 code of a declared language or locale (`pt-BR` -> `pt`) when the model knows it, else None."""
    if not code:
        return None
    base = str(code).strip().lower().replace("_", "-").split("-")[0]
    return base if base in LANGUAGES else None


def company_mix(
    detected: Sequence[str],
    confidences: Sequence[float],
    words: Sequence[int],
    min_confidence: float = SWITCH_CONFIDENCE,
) -> dict[str, float]:
    """Share of each language among the confidently detected longer texts; empty under `MIX_MIN_TEXTS` of them."""
    counts = Counter(
        lang
        for lang, conf, n in zip(detected, confidences, words, strict=True)
        if n > SHORT_TEXT_WORDS and lang != UNDETERMINED and conf >= min_confidence
    )
    return mix_from_counts(counts)


def mix_from_counts(counts: dict[str, int]) -> dict[str, float]:
    """Shares of the counted languages; empty under `MIX_MIN_TEXTS` texts in all."""
    total = sum(counts.values())
    return {lang: count / total for lang, count in sorted(counts.items())} if total >= MIX_MIN_TEXTS else {}


def main_language(mix: dict[str, float] | None) -> str | None:
    """The mix's most common language (ties: alphabetical), None for an empty mix."""
    if not mix:
        return None
    return min(mix, key=lambda lang: (-mix[lang], lang))


def resolve_language(
    detected: str, confidence: float, declared: str | None, mix: dict[str, float] | None, switch: float
) -> tuple[str, str]:
    """(language, source) of one text; see the module's doc."""
    if detected != UNDETERMINED and confidence >= switch:
        return detected, DETECTED
    customer = known_language(declared)
    if customer is not None:
        return customer, (DETECTED if customer == detected else CUSTOMER)
    company = main_language(mix)
    if company is None or company == detected:
        return detected, DETECTED
    if detected == UNDETERMINED or mix.get(detected, 0.0) < MIX_MIN_SHARE:
        return company, COMPANY_MIX
    return detected, DETECTED


def resolve_languages(
    detected: Sequence[str], confidences: Sequence[float], prior: LanguagePrior | None
) -> tuple[list[str], list[str]]:
    """Languages and sources of many texts (the detector's own calls when there is no prior)."""
    if prior is None:
        return list(detected), [DETECTED] * len(detected)
    declared = prior.declared if prior.declared is not None else [None] * len(detected)
    pairs = [
        resolve_language(lang, conf, dec, prior.mix, prior.switch_confidence)
        for lang, conf, dec in zip(detected, confidences, declared, strict=True)
    ]
    return [p[0] for p in pairs], [p[1] for p in pairs]
