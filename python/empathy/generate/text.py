"""Vectorised text: messages, subjects, transcripts, chats, comments, reviews and posts.

Texts are assembled from phrase banks (phrases.py). A bank template such as
``"My order {order} is {days} late."`` is split once into literal parts and slot kinds; rendering a
batch takes the literal parts by template index and fills each slot position with ``pyarrow.compute.choose``
over the per-row slot values, so the cost per batch is a fixed number of Arrow calls whatever the
number of rows or templates.

What drives a text: its cause (late delivery, defect, price increase, ...) picks the factual sentence and
the topic, the customer's dominant emotion and intensity pick the feeling sentence (with negations such
as "not happy at all" / "no complaints"), negative customers are sometimes sarcastic, the intent
(complaint, support request, cancellation intent, purchase intent, feature request, praise) picks the
request sentence, and expressive customers add emojis. The choices are returned with the text so that
``_truth/texts.parquet`` can record what every text truly expresses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from empathy.generate import phrases as P
from empathy.generate import vocab as V
from empathy.generate.effects import EMO, EMOTIONS
from empathy.generate.writer import NULL, US_PER_DAY, format_ids

LANGS = V.LANGS
TEXT_CAUSES: tuple[str, ...] = (
    "late_delivery", "defective_item", "wrong_item", "service_delay", "refund_status", "price_increase",
    "payment_failed", "billing_surprise", "ticket_unresolved", "bad_resolution", "good_resolution", "web_error",
    "over_contact", "product_question", "account_question", "feature_request", "praise", "surprise_gift",
)  # fmt: skip
CAUSE = {c: i for i, c in enumerate(TEXT_CAUSES)}
TOPICS: tuple[str, ...] = ("delivery", "product_quality", "price_billing", "service_staff", "account_technical")
CAUSE_TOPIC = np.array(
    [
        TOPICS.index(t)
        for t in (
            "delivery", "product_quality", "product_quality", "service_staff", "price_billing", "price_billing",
            "price_billing", "price_billing", "service_staff", "service_staff", "service_staff", "account_technical",
            "account_technical", "product_quality", "account_technical", "account_technical", "service_staff",
            "service_staff",
        )
    ],
    dtype=np.int8,
)  # fmt: skip
POSITIVE_CAUSES = np.array([c in ("good_resolution", "praise", "surprise_gift") for c in TEXT_CAUSES])
QUESTION_CAUSES = np.array([c in ("product_question", "account_question", "refund_status") for c in TEXT_CAUSES])
INTENTS: tuple[str, ...] = (
    "complaint", "support_request", "cancellation_intent", "purchase_intent", "feature_request", "praise",
)  # fmt: skip
INTENT = {c: i for i, c in enumerate(INTENTS)}
SENTIMENTS: tuple[str, ...] = ("negative", "neutral", "positive")
NEGATIVE_EMOTIONS = np.array([e in ("sadness", "anger", "fear", "disgust") for e in EMOTIONS])
POSITIVE_EMOTIONS = np.array([e in ("joy", "surprise") for e in EMOTIONS])

SLOTS: tuple[str, ...] = ("", "order", "days", "product", "amount", "plan", "date", "brand", "ticket", "agent", "name",
                          "handle")  # fmt: skip
_SLOT = {s: i for i, s in enumerate(SLOTS)}
_SLOT_RE = re.compile(r"\{(\w+)\}")
_SPACES = r"\s{2,}"


def _empty(n: int) -> pa.Array:
    return pa.array([""], pa.string()).take(pa.array(np.zeros(n, dtype=np.int32)))


def join_words(*parts: pa.Array) -> pa.Array:
    """Join per-row parts with single spaces, dropping empty parts."""
    out = pc.binary_join_element_wise(*parts, " ")
    out = pc.replace_substring_regex(out, _SPACES, " ")
    return pc.utf8_trim_whitespace(out)


class Bank:
    """Templates keyed by (language, key), compiled for vectorised rendering."""

    def __init__(self, per_lang: list[dict[str, list[str]]]):
        keys = sorted(set().union(*[d.keys() for d in per_lang]))
        self.code = {k: i for i, k in enumerate(keys)}
        templates: list[str] = []
        self.start = np.zeros((len(LANGS), len(keys)), dtype=np.int32)
        self.count = np.zeros((len(LANGS), len(keys)), dtype=np.int32)
        for li, d in enumerate(per_lang):
            for k, lst in d.items():
                self.start[li, self.code[k]] = len(templates)
                self.count[li, self.code[k]] = len(lst)
                templates.extend(lst)
        templates.append("")  # index -1 renders as ""
        parsed = [_SLOT_RE.split(t) for t in templates]
        self.max_slots = max((len(p) - 1) // 2 for p in parsed)
        lits = [[""] * len(parsed) for _ in range(self.max_slots + 1)]
        self.kinds = np.zeros((len(parsed), max(self.max_slots, 1)), dtype=np.int8)
        for ti, parts in enumerate(parsed):
            for j in range(0, len(parts), 2):
                lits[j // 2][ti] = parts[j]
            for j in range(1, len(parts), 2):
                self.kinds[ti, j // 2] = _SLOT[parts[j]]
        self.lits = [pa.array(x, pa.string()) for x in lits]
        self.templates = templates

    def key(self, name: str) -> int:
        return self.code[name]

    def pick(self, rng: np.random.Generator, lang: np.ndarray, key) -> np.ndarray:
        """A random template index per row (-1 where the bank has nothing for that language and key)."""
        key = np.broadcast_to(np.asarray(key), np.shape(lang))
        cnt = self.count[lang, key]
        idx = self.start[lang, key] + (rng.random(len(lang)) * cnt).astype(np.int32)
        return np.where(cnt > 0, idx, -1).astype(np.int32)

    def render(self, tidx: np.ndarray, slots: Slots) -> pa.Array:
        t = pa.array(np.where(tidx < 0, len(self.templates) - 1, tidx).astype(np.int32))
        tnp = np.where(tidx < 0, len(self.templates) - 1, tidx)
        parts = [pc.take(self.lits[0], t)]
        for p in range(self.max_slots):
            kp = self.kinds[tnp, p]
            used = np.unique(kp)
            if len(used) == 1 and used[0] == 0:
                break
            values = [slots.get(int(k)) for k in used]
            if len(used) == 1:
                parts.append(values[0])
            else:
                remap = np.zeros(len(SLOTS), dtype=np.int8)
                remap[used] = np.arange(len(used), dtype=np.int8)
                parts.append(pc.choose(pa.array(remap[kp]), *values))
            parts.append(pc.take(self.lits[p + 1], t))
        if len(parts) == 1:
            return parts[0]
        return pc.binary_join_element_wise(*parts, "")


class Slots:
    """Per-row slot values, formatted lazily (only the slots a batch's templates use)."""

    def __init__(self, texts: Texts, lang: np.ndarray, **src):
        self.texts = texts
        self.lang = lang
        self.n = len(lang)
        self.src = src
        self.cache: dict[int, pa.Array] = {}

    def get(self, kind: int) -> pa.Array:
        if kind not in self.cache:
            self.cache[kind] = self._format(SLOTS[kind])
        return self.cache[kind]

    def _format(self, name: str) -> pa.Array:
        n, s, tx = self.n, self.src, self.texts
        if name == "" or (name not in ("brand", "handle") and s.get(name) is None):
            return _empty(n)
        if name == "order":
            return format_ids(s["order"], "order").fill_null("")
        if name == "ticket":
            return format_ids(s["ticket"], "ticket").fill_null("")
        if name == "days":
            d = np.maximum(np.asarray(s["days"], dtype=np.int64), 1)
            num = pc.cast(pa.array(d), pa.string())
            unit = tx.day_units.take(pa.array(self.lang * 2 + (d != 1)))
            return pc.binary_join_element_wise(num, unit, " ")
        if name == "product":
            k = np.asarray(s["product"], dtype=np.int64)
            return tx.kind_names.take(pa.array(self.lang * tx.n_kinds + np.maximum(k, 0)))
        if name == "amount":
            return tx.money(np.asarray(s["amount"], dtype=np.float64), np.asarray(s["currency"]), self.lang)
        if name == "plan":
            return tx.plan_names.take(pa.array(np.maximum(np.asarray(s["plan"], dtype=np.int64), 0)))
        if name == "date":
            return tx.dates(np.asarray(s["date"], dtype=np.int64), self.lang)
        if name == "brand":
            return pa.array([tx.brand], pa.string()).take(pa.array(np.zeros(n, dtype=np.int32)))
        if name == "handle":
            return pa.array([tx.handle], pa.string()).take(pa.array(np.zeros(n, dtype=np.int32)))
        if name == "agent":
            return tx.agent_first.take(pa.array(np.maximum(np.asarray(s["agent"], dtype=np.int64), 0)))
        if name == "name":
            return tx.customer_first.take(pa.array(np.asarray(s["name"], dtype=np.int64)))
        raise KeyError(name)


@dataclass
class Tone:
    """How a batch of customer texts is written (all arrays of length n)."""

    lang: np.ndarray  # int8 language codes
    cause: np.ndarray  # index into TEXT_CAUSES
    intent: np.ndarray  # index into INTENTS
    emotion: np.ndarray  # index into EMOTIONS
    high: np.ndarray  # bool: high intensity
    sarcasm: np.ndarray  # bool
    emoji: np.ndarray  # bool
    curt: np.ndarray  # bool: no pleasantries
    valence: np.ndarray  # latent valence when written
    topic_override: np.ndarray | None = None  # index into TOPICS, -1 to keep the cause's topic

    @property
    def topic(self) -> np.ndarray:
        base = CAUSE_TOPIC[self.cause]
        if self.topic_override is None:
            return base
        return np.where(self.topic_override >= 0, self.topic_override, base).astype(np.int8)

    def sentiment(self) -> np.ndarray:
        s = np.ones(len(self.lang), dtype=np.int8)
        s[POSITIVE_EMOTIONS[self.emotion]] = 2
        s[NEGATIVE_EMOTIONS[self.emotion] | self.sarcasm] = 0
        return s


def make_tone(
    rng: np.random.Generator,
    lang: np.ndarray,
    cause: np.ndarray,
    valence: np.ndarray,
    arousal: np.ndarray,
    emotion: np.ndarray,
    expressive: np.ndarray,
    intent: np.ndarray | None = None,
) -> Tone:
    """Derive wording choices from the latent state and the cause of the text."""
    n = len(lang)
    cause = np.asarray(cause, dtype=np.int64)
    emo = np.asarray(emotion, dtype=np.int8).copy()
    pos_cause = POSITIVE_CAUSES[cause]
    # The text is about the cause: a complaint is not written in a joyful tone and praise is not angry.
    neg_cause = ~pos_cause & ~QUESTION_CAUSES[cause] & (cause != CAUSE["feature_request"])
    wrong_pos = neg_cause & POSITIVE_EMOTIONS[emo]
    emo[wrong_pos & (valence < 0.2)] = EMO["anger"]
    emo[wrong_pos & (valence >= 0.2)] = EMO["neutral"]
    emo[pos_cause & NEGATIVE_EMOTIONS[emo]] = EMO["neutral"]
    emo[pos_cause & (emo == EMO["neutral"]) & (valence > 0.1)] = EMO["joy"]
    emo[(cause == CAUSE["surprise_gift"]) & (rng.random(n) < 0.6)] = EMO["surprise"]
    high = (np.abs(valence) > 0.5) | (arousal > 0.72)
    angry = (emo == EMO["anger"]) | (emo == EMO["disgust"])
    sarcasm = angry & (rng.random(n) < 0.14)
    emoji = rng.random(n) < (0.18 + 0.22 * high) * expressive
    curt = angry & high & (rng.random(n) < 0.6)
    if intent is None:
        intent = choose_intent(rng, cause, valence)
    return Tone(
        lang=np.asarray(lang, dtype=np.int8), cause=cause, intent=np.asarray(intent, dtype=np.int8), emotion=emo,
        high=high, sarcasm=sarcasm, emoji=emoji, curt=curt, valence=np.asarray(valence, dtype=np.float32),
    )  # fmt: skip


def choose_intent(rng: np.random.Generator, cause: np.ndarray, valence: np.ndarray) -> np.ndarray:
    n = len(cause)
    u = rng.random(n)
    intent = np.where(u < 0.55, INTENT["complaint"], INTENT["support_request"]).astype(np.int8)
    intent[QUESTION_CAUSES[cause] | (cause == CAUSE["web_error"]) | (cause == CAUSE["payment_failed"])] = INTENT[
        "support_request"
    ]
    intent[(cause == CAUSE["product_question"]) & (u < 0.7)] = INTENT["purchase_intent"]
    intent[cause == CAUSE["feature_request"]] = INTENT["feature_request"]
    intent[POSITIVE_CAUSES[cause]] = INTENT["praise"]
    # Unhappy customers threaten to leave; price increases make it more likely.
    p_cancel = np.clip(-valence - 0.25, 0, 1) * 0.9 + 0.25 * (cause == CAUSE["price_increase"])
    cancel = ~POSITIVE_CAUSES[cause] & (rng.random(n) < p_cancel)
    intent[cancel] = INTENT["cancellation_intent"]
    return intent


class Texts:
    """Renders every kind of text of the world for one sector."""

    def __init__(self, sector, customer_first: pa.Array, agent_first: pa.Array, plan_names: list[str]):
        self.sector = sector
        self.brand = sector.brand
        self.handle = sector.handle
        self.customer_first = customer_first
        self.agent_first = agent_first
        self.plan_names = pa.array([p.title() for p in plan_names] or [""], pa.string())
        kinds = [k for c in sector.categories for k in c.kinds]
        self.n_kinds = len(kinds)
        self.kind_names = pa.array([k[li] for li in range(len(LANGS)) for k in kinds], pa.string())
        self.day_units = pa.array(["day", "days", "día", "días", "dia", "dias"], pa.string())
        self.month_names = pa.array([m for lang in LANGS for m in P.PHRASES[lang]["months"]], pa.string())
        ph = [P.PHRASES[lang] for lang in LANGS]

        def bank(get) -> Bank:
            return Bank([get(p) for p in ph])

        sec = sector.name
        self.core = bank(lambda p: p["core"])
        self.core_key = np.array(
            [self.core.key(f"{c}@{sec}") if f"{c}@{sec}" in self.core.code else self.core.key(c) for c in TEXT_CAUSES],
            dtype=np.int32,
        )
        self.subject = bank(lambda p: p["subject"])
        self.subject_key = np.array([self.subject.key(c) for c in TEXT_CAUSES], dtype=np.int32)
        self.greeting = bank(lambda p: p["greeting"])
        self.signoff = bank(lambda p: p["signoff"])
        self.feeling = bank(lambda p: p["feeling"])
        self.feeling_key = np.array(
            [[self.feeling.key(f"{e}:{lvl}") for lvl in ("low", "high")] for e in EMOTIONS], dtype=np.int32
        )
        self.sarcasm = bank(lambda p: {"x": p["sarcasm"]})
        self.ask = bank(lambda p: p["ask"])
        self.ask_key = np.array([self.ask.key(i) for i in INTENTS], dtype=np.int32)
        self.simple = bank(
            lambda p: {
                "call_open": p["call_open"], "chat_open": p["chat_open"], "agent_greet": p["agent_greet"],
                "agent_empathy": p["agent_empathy"], "agent_close": p["agent_close"], "bot_hello": p["bot_hello"],
                "bot_answer": p["bot_answer"],
                "resolved:good": p["agent_resolved"]["good"], "resolved:bad": p["agent_resolved"]["bad"],
                "recommend:neg": p["recommend"]["neg"], "recommend:pos": p["recommend"]["pos"],
                "hashtag:neg": p["hashtag"]["neg"], "hashtag:pos": p["hashtag"]["pos"],
                "social_filler": [s for s in P.SOCIAL_FILLER[LANGS[ph.index(p)]]],
            }
        )  # fmt: skip
        self.action = bank(lambda p: p["agent_action"])
        self.action_key = np.array(
            [self.action.key(c) if c in self.action.code else self.action.key("default") for c in TEXT_CAUSES],
            dtype=np.int32,
        )
        self.topic_line = bank(lambda p: p["topic_line"])
        self.topic_key = np.array(
            [[self.topic_line.key(f"{t}:{s}") for s in ("neg", "pos")] for t in TOPICS], dtype=np.int32
        )
        self.review_title = bank(lambda p: p["review_title"])
        self.review_product = bank(lambda p: p["review_product"])
        emojis = [e for emo in EMOTIONS for e in P.EMOJI[emo]]
        self.emoji_arr = pa.array(emojis, pa.string())
        counts = np.array([len(P.EMOJI[e]) for e in EMOTIONS])
        self.emoji_start = np.concatenate([[0], np.cumsum(counts)[:-1]])
        self.emoji_count = counts
        self.search_terms = [
            pa.array([k[li] for k in kinds] + P.PHRASES[lang]["search_help"], pa.string())
            for li, lang in enumerate(LANGS)
        ]
        self.n_help_terms = [len(P.PHRASES[lang]["search_help"]) for lang in LANGS]
        self.search_all = pa.concat_arrays(self.search_terms)
        self.search_offset = np.concatenate([[0], np.cumsum([len(a) for a in self.search_terms])[:-1]])

    # ---- formatting helpers -------------------------------------------------------------------------
    def money(self, amount: np.ndarray, currency: np.ndarray, lang: np.ndarray) -> pa.Array:
        cents = np.round(np.nan_to_num(np.abs(amount)) * 100).astype(np.int64)
        units = pc.cast(pa.array(cents // 100), pa.string())
        frac = pc.utf8_lpad(pc.cast(pa.array(cents % 100), pa.string()), 2, "0")
        sep = pa.array([".", ","], pa.string()).take(pa.array((lang != V.EN).astype(np.int8)))
        cur = np.asarray(currency, dtype=np.int64)
        pre = pa.array([s[0] for s in V.CURRENCY_SYMBOLS], pa.string()).take(pa.array(cur))
        suf = pa.array([s[1] for s in V.CURRENCY_SYMBOLS], pa.string()).take(pa.array(cur))
        return pc.binary_join_element_wise(pre, units, sep, frac, suf, "")

    def dates(self, ts: np.ndarray, lang: np.ndarray) -> pa.Array:
        days = np.where(ts == NULL, 0, ts) // US_PER_DAY
        d64 = days.astype("datetime64[D]")
        month = (d64.astype("datetime64[M]").astype(np.int64) % 12).astype(np.int64)
        dom = pc.cast(pa.array((d64 - d64.astype("datetime64[M]")).astype(np.int64) + 1), pa.string())
        mname = self.month_names.take(pa.array(lang.astype(np.int64) * 12 + month))
        en = pc.binary_join_element_wise(mname, dom, " ")
        other = pc.binary_join_element_wise(dom, mname, " de ")
        return pc.if_else(pa.array(lang == V.EN), en, other)

    def emojis(self, rng: np.random.Generator, emotion: np.ndarray, on: np.ndarray) -> pa.Array:
        idx = self.emoji_start[emotion] + (rng.random(len(emotion)) * self.emoji_count[emotion]).astype(np.int64)
        out = self.emoji_arr.take(pa.array(idx))
        return pc.if_else(pa.array(on), out, _empty(len(emotion)))

    def _feeling(self, rng: np.random.Generator, tone: Tone, slots: Slots, emotion: np.ndarray | None = None):
        emo = tone.emotion if emotion is None else emotion
        feel = self.feeling.render(
            self.feeling.pick(rng, tone.lang, self.feeling_key[emo, tone.high.astype(int)]), slots
        )
        if tone.sarcasm.any():
            sarc = self.sarcasm.render(self.sarcasm.pick(rng, tone.lang, 0), slots)
            feel = pc.if_else(pa.array(tone.sarcasm), sarc, feel)
        return feel

    # ---- customer-authored texts -------------------------------------------------------------------
    def message(self, rng: np.random.Generator, tone: Tone, slots: Slots) -> pa.Array:
        """An e-mail / web-form message from a customer."""
        lang = tone.lang
        greet = self.greeting.render(self.greeting.pick(rng, lang, np.where(tone.curt, 0, 1)), slots)
        core = self.core.render(self.core.pick(rng, lang, self.core_key[tone.cause]), slots)
        feel = self._feeling(rng, tone, slots)
        ask = self.ask.render(self.ask.pick(rng, lang, self.ask_key[tone.intent]), slots)
        sign = self.signoff.render(self.signoff.pick(rng, lang, np.where(tone.curt, 0, 1)), slots)
        emo = self.emojis(rng, tone.emotion, tone.emoji)
        feel_first = pa.array((rng.random(len(lang)) < 0.3) & (tone.emotion != EMO["neutral"]) & ~tone.sarcasm)
        body = pc.if_else(feel_first, join_words(feel, core, ask, emo), join_words(core, feel, ask, emo))
        return pc.utf8_trim_whitespace(pc.binary_join_element_wise(greet, body, sign, "\n"))

    def subject_line(self, rng: np.random.Generator, tone: Tone, slots: Slots) -> pa.Array:
        out = self.subject.render(self.subject.pick(rng, tone.lang, self.subject_key[tone.cause]), slots)
        shout = tone.curt & (rng.random(len(tone.lang)) < 0.4)
        if shout.any():
            out = pc.if_else(pa.array(shout), pc.utf8_upper(out), out)
        return out

    def follow_up(self, rng: np.random.Generator, tone: Tone, slots: Slots) -> pa.Array:
        """A customer chasing an open ticket (the tone is that day's state)."""
        core = self.core.render(self.core.pick(rng, tone.lang, self.core_key[CAUSE["ticket_unresolved"]]), slots)
        feel = self._feeling(rng, tone, slots)
        ask = self.ask.render(self.ask.pick(rng, tone.lang, self.ask_key[tone.intent]), slots)
        emo = self.emojis(rng, tone.emotion, tone.emoji)
        return join_words(core, feel, ask, emo)

    def transcript(self, rng: np.random.Generator, tone: Tone, slots: Slots) -> pa.Array:
        """The customer's side of a phone call (spoken: no emojis)."""
        lang = tone.lang
        opener = self.simple.render(self.simple.pick(rng, lang, self.simple.key("call_open")), slots)
        core = self.core.render(self.core.pick(rng, lang, self.core_key[tone.cause]), slots)
        feel = pc.replace_substring(self._feeling(rng, tone, slots), "🙄", "")
        ask = self.ask.render(self.ask.pick(rng, lang, self.ask_key[tone.intent]), slots)
        return join_words(opener, core, feel, ask)

    def chat(self, rng: np.random.Generator, tone: Tone, slots: Slots) -> pa.Array:
        lang = tone.lang
        opener = self.simple.render(self.simple.pick(rng, lang, self.simple.key("chat_open")), slots)
        core = self.core.render(self.core.pick(rng, lang, self.core_key[tone.cause]), slots)
        feel = self._feeling(rng, tone, slots)
        ask = self.ask.render(self.ask.pick(rng, lang, self.ask_key[tone.intent]), slots)
        emo = self.emojis(rng, tone.emotion, tone.emoji)
        return pc.binary_join_element_wise(opener, join_words(core, feel), join_words(ask, emo), "\n")

    def comment(self, rng: np.random.Generator, tone: Tone, slots: Slots, positive: np.ndarray) -> pa.Array:
        """A survey comment: a feeling and a line about the topic, polarity given by the score."""
        topic = self.topic_line.render(
            self.topic_line.pick(rng, tone.lang, self.topic_key[tone.topic, positive.astype(int)]), slots
        )
        feel = self._feeling(rng, tone, slots)
        emo = self.emojis(rng, tone.emotion, tone.emoji)
        first = pa.array(rng.random(len(tone.lang)) < 0.5)
        return pc.if_else(first, join_words(topic, feel, emo), join_words(feel, topic, emo))

    def review(self, rng: np.random.Generator, tone: Tone, slots: Slots, rating: np.ndarray):
        lang = tone.lang
        title = self.review_title.render(self.review_title.pick(rng, lang, rating.astype(np.int64) - 1), slots)
        band = np.where(rating <= 2, self.review_product.key("neg"), self.review_product.key("mid"))
        band = np.where(rating >= 4, self.review_product.key("pos"), band)
        prod = self.review_product.render(self.review_product.pick(rng, lang, band), slots)
        pos = (rating >= 4) | ((rating == 3) & (rng.random(len(lang)) < 0.5))
        topic = self.topic_line.render(
            self.topic_line.pick(rng, lang, self.topic_key[tone.topic, pos.astype(int)]), slots
        )
        rec_key = np.where(rating >= 4, self.simple.key("recommend:pos"), self.simple.key("recommend:neg"))
        rec = self.simple.render(self.simple.pick(rng, lang, rec_key), slots)
        rec = pc.if_else(pa.array((rating == 3) | (rng.random(len(lang)) < 0.4)), _empty(len(lang)), rec)
        feel = self._feeling(rng, tone, slots)
        emo = self.emojis(rng, tone.emotion, tone.emoji)
        return title, join_words(prod, topic, feel, rec, emo)

    def social(self, rng: np.random.Generator, tone: Tone, slots: Slots) -> pa.Array:
        lang = tone.lang
        n = len(lang)
        handle = slots.get(_SLOT["handle"])
        core = self.core.render(self.core.pick(rng, lang, self.core_key[tone.cause]), slots)
        pos = tone.sentiment() == 2
        topic = self.topic_line.render(
            self.topic_line.pick(rng, lang, self.topic_key[tone.topic, pos.astype(int)]), slots
        )
        use_topic = pa.array(rng.random(n) < 0.35)
        what = pc.if_else(use_topic, topic, core)
        feel = self._feeling(rng, tone, slots)
        tag_key = np.where(pos, self.simple.key("hashtag:pos"), self.simple.key("hashtag:neg"))
        tag = self.simple.render(self.simple.pick(rng, lang, tag_key), slots)
        tag = pc.if_else(pa.array((rng.random(n) < 0.3) | (tone.sentiment() == 1)), _empty(n), tag)
        emo = self.emojis(rng, tone.emotion, tone.emoji | (rng.random(n) < 0.4))
        front = pa.array(rng.random(n) < 0.5)
        return pc.if_else(front, join_words(handle, what, feel, tag, emo), join_words(what, feel, handle, tag, emo))

    def social_filler(self, rng: np.random.Generator, lang: np.ndarray, slots: Slots) -> pa.Array:
        return self.simple.render(self.simple.pick(rng, lang, self.simple.key("social_filler")), slots)

    # ---- agent and bot texts -----------------------------------------------------------------------
    def agent_reply(
        self,
        rng: np.random.Generator,
        lang: np.ndarray,
        cause: np.ndarray,
        empathic: np.ndarray,
        slots: Slots,
        resolution: np.ndarray | None = None,
    ) -> pa.Array:
        """First response (resolution=None) or resolution message (resolution: 1 good, 0 bad)."""
        n = len(lang)
        greet = self.simple.render(self.simple.pick(rng, lang, self.simple.key("agent_greet")), slots)
        emp = self.simple.render(self.simple.pick(rng, lang, self.simple.key("agent_empathy")), slots)
        emp = pc.if_else(pa.array(empathic), emp, _empty(n))
        if resolution is None:
            body = self.action.render(self.action.pick(rng, lang, self.action_key[cause]), slots)
        else:
            key = np.where(resolution == 1, self.simple.key("resolved:good"), self.simple.key("resolved:bad"))
            body = self.simple.render(self.simple.pick(rng, lang, key), slots)
            emp = pc.if_else(pa.array(resolution == 1), emp, _empty(n))
        close = self.simple.render(self.simple.pick(rng, lang, self.simple.key("agent_close")), slots)
        return pc.binary_join_element_wise(greet, join_words(emp, body), close, "\n")

    def bot(self, rng: np.random.Generator, lang: np.ndarray, slots: Slots) -> pa.Array:
        a = self.simple.render(self.simple.pick(rng, lang, self.simple.key("bot_hello")), slots)
        b = self.simple.render(self.simple.pick(rng, lang, self.simple.key("bot_answer")), slots)
        return pc.binary_join_element_wise(a, b, "\n")

    def search(self, rng: np.random.Generator, lang: np.ndarray, frustrated: np.ndarray) -> pa.Array:
        """Search terms: product kinds, or help searches ("where is my order") when frustrated."""
        lang = np.asarray(lang, dtype=np.int64)
        n_help = np.array(self.n_help_terms)[lang]
        kind = (rng.random(len(lang)) * self.n_kinds).astype(np.int64)
        help_ = self.n_kinds + (rng.random(len(lang)) * n_help).astype(np.int64)
        idx = self.search_offset[lang] + np.where(frustrated, help_, kind)
        return self.search_all.take(pa.array(idx))
