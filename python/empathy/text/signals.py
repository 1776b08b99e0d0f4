"""Surface signals that need no training: emojis and emoticons, negation, punctuation, shouting.

These feed the learned heads (as dense features) and are published as columns of their own.
Emoji sentiment comes from VADER's emoji lexicon (each emoji's description scored by VADER),
corrected for a handful of emojis whose description hides how customers use them (see
`EMOJI_OVERRIDES`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np

# Single code points in the emoji blocks, plus the heart and a few dingbats.
_EMOJI = re.compile(
    "[\U0001f300-\U0001f5ff\U0001f600-\U0001f64f\U0001f680-\U0001f6ff\U0001f900-\U0001f9ff"
    "\U0001fa70-\U0001faff\u2600-\u26ff\u2700-\u27bf\u2764\u2b50]"
)
# Western emoticons: :) :-( ;) :D :P :/ =) <3 and their mirrors.
_EMOTICON = re.compile(r"(?:(?<!\w)[:;=8][\-o\*']?[\)\]\(\[dDpP/\\|@3]+(?!\w)|<3+|\b[xX][dD]\b)")
_EMOTICON_SCORES = {"(": -0.6, "[": -0.6, "/": -0.3, "\\": -0.3, "|": -0.2, ")": 0.6, "]": 0.6, "D": 0.7, "P": 0.4}

# Emojis whose VADER description ("face with rolling eyes") carries no sentiment but whose use does.
EMOJI_OVERRIDES = {
    "🙄": -0.6,
    "😒": -0.6,
    "😤": -0.7,
    "😡": -0.8,
    "🤬": -0.9,
    "😠": -0.7,
    "👎": -0.6,
    "💩": -0.6,
    "😑": -0.4,
    "😐": -0.2,
    "🤦": -0.5,
    "😞": -0.6,
    "😔": -0.5,
    "😢": -0.6,
    "😭": -0.6,
    "😩": -0.6,
    "😫": -0.6,
    "🤮": -0.8,
    "🤢": -0.7,
    "😱": -0.5,
    "😰": -0.5,
    "😟": -0.5,
    "🥺": -0.3,
    "💔": -0.7,
    "👍": 0.6,
    "👏": 0.6,
    "🙏": 0.4,
    "❤": 0.8,
    "😍": 0.8,
    "🥰": 0.8,
    "😊": 0.7,
    "😁": 0.7,
    "😀": 0.6,
    "😃": 0.6,
    "🎉": 0.7,
    "💯": 0.6,
    "🔥": 0.4,
    "✨": 0.4,
    "🤩": 0.8,
    "😂": 0.3,
    "🤣": 0.3,
    "🙂": 0.3,
    "⭐": 0.5,
    "💙": 0.7,
    "💚": 0.7,
    "💜": 0.7,
    "🧡": 0.7,
    "💛": 0.7,
    "✅": 0.3,
    "🤔": -0.1,
}

_NEGATION = re.compile(
    r"\b(?:not|no|never|nothing|nobody|none|neither|nor|without|cannot|can't|won't|don't|doesn't|didn't|isn't|"
    r"aren't|wasn't|weren't|haven't|hasn't|hadn't|shouldn't|wouldn't|couldn't|ain't|"
    r"nunca|nada|nadie|ningun|ningún|ninguna|ninguno|ni|sin|jamás|jamas|tampoco|"
    r"não|nao|ninguém|ninguem|nenhum|nenhuma|nem|sem|jamais)\b|n't\b",
    re.IGNORECASE,
)
# Every text `_EMOTICON` can match matches this (RE2 has no look-around): the Python pattern runs on those only
_EMOTICON_SUPERSET_RE2 = r"|[:;=8][\-o\*']?[\)\]\(\[dDpP/\\|@3]|<3|(?i:xd)"
# RE2 (Arrow) has no back-references: the letters customers stretch ("sooo", "noooo", "hmmm", "!!!")
_ELONGATED_RE2 = "a{3}|e{3}|i{3}|o{3}|u{3}|y{3}|s{3}|h{3}|m{3}|r{3}|!{3}"

DENSE_FEATURES = (
    "emoji_count_log",
    "emoji_sentiment",
    "has_emoji",
    "exclaim_log",
    "question_log",
    "caps_ratio",
    "has_negation",
    "elongated",
    "length_log",
)


@lru_cache(maxsize=1)
def emoji_scores() -> dict[str, float]:
    """Sentiment in [-1, 1] for every single-code-point emoji VADER describes, with overrides."""
    import vaderSentiment.vaderSentiment as vs

    analyzer = vs.SentimentIntensityAnalyzer()
    path = Path(vs.__file__).with_name("emoji_utf8_lexicon.txt")
    scores: dict[str, float] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        emoji, _, description = line.partition("\t")
        if len(emoji) == 1 and description:
            scores[emoji] = analyzer.polarity_scores(description)["compound"]
    scores.update({k: v for k, v in EMOJI_OVERRIDES.items()})
    return scores


def emoji_signals(text: str) -> tuple[int, float | None]:
    """Number of emojis/emoticons and their mean sentiment (None without any)."""
    table = emoji_scores()
    values = [table.get(ch, 0.0) for ch in _EMOJI.findall(text)]
    for emoticon in _EMOTICON.findall(text):
        if emoticon.startswith("<3"):
            values.append(0.7)
        elif emoticon.lower() == "xd":
            values.append(0.4)
        else:
            values.append(_EMOTICON_SCORES.get(emoticon[-1], 0.0))
    if not values:
        return 0, None
    return len(values), float(np.clip(np.mean(values), -1.0, 1.0))


def negations(arr) -> np.ndarray:
    """Boolean per text of an Arrow string array: does it contain a negation (en/es/pt)?"""
    import pyarrow.compute as pc

    return pc.match_substring_regex(arr, _NEGATION.pattern, ignore_case=True).to_numpy(zero_copy_only=False)


def has_negation(text: str) -> bool:
    import pyarrow as pa

    return bool(negations(pa.array([text], type=pa.string()))[0])


def surface(texts: list[str]) -> tuple[np.ndarray, list[int], list[float | None], list[bool]]:
    """Dense features (n, len(DENSE_FEATURES)) and the published emoji/negation columns (vectorised in Arrow)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(texts)
    arr = pa.array(texts, type=pa.string())
    dense = np.zeros((n, len(DENSE_FEATURES)), dtype=np.float32)
    if n == 0:
        return dense, [], [], []
    counts = np.zeros(n, dtype=np.int64)
    sentiments: list[float | None] = [None] * n
    # cheap superset in Arrow (RE2 has no look-behind); the exact Python pattern runs on candidates only
    maybe = pc.match_substring_regex(arr, _EMOJI.pattern + _EMOTICON_SUPERSET_RE2).to_numpy(zero_copy_only=False)
    for i in np.flatnonzero(maybe):
        counts[i], sentiments[i] = emoji_signals(texts[i])
    negation = negations(arr)

    def count(pattern: str) -> np.ndarray:
        return pc.count_substring_regex(arr, pattern).to_numpy(zero_copy_only=False).astype(np.float32)

    letters = pc.utf8_length(pc.replace_substring_regex(arr, r"\PL+", "")).to_numpy(zero_copy_only=False)
    upper = count(r"\p{Lu}")
    words = count(r"\w+")
    dense[:, 0] = np.log1p(counts)
    dense[:, 1] = [s or 0.0 for s in sentiments]
    dense[:, 2] = counts > 0
    dense[:, 3] = np.log1p(pc.count_substring(arr, "!").to_numpy(zero_copy_only=False))
    dense[:, 4] = np.log1p(pc.count_substring(arr, "?").to_numpy(zero_copy_only=False))
    dense[:, 5] = np.where(letters >= 4, upper / np.maximum(letters, 1), 0.0)
    dense[:, 6] = negation
    dense[:, 7] = pc.match_substring_regex(arr, _ELONGATED_RE2, ignore_case=True).to_numpy(zero_copy_only=False)
    dense[:, 8] = np.log1p(words) / 4.0
    return dense, counts.astype(int).tolist(), sentiments, negation.astype(bool).tolist()
