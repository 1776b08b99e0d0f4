"""Support: customer contacts become chats, calls, social posts and tickets with messages.

A contact has a cause (late parcel, defect, price increase, question, ...), happens on the day it was
scheduled and is written in the customer's state of that day. The channel depends on the sector and on
the customer (angry customers call or post publicly more, young ones chat, older ones call). Chats and
calls may solve the problem at once; otherwise a ticket is opened. A ticket's agent (same language when
possible; retention team for cancellation threats) sets how fast and how well it is solved; while it is
open the customer's mood worsens every day and they chase it; the resolution moves the state (good and
fast resolutions help, more so with empathetic agents; bad ones hurt).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from empathy.generate import effects as E
from empathy.generate import engagement
from empathy.generate import vocab as V
from empathy.generate.schedule import emit_versions
from empathy.generate.text import CAUSE, INTENT, POSITIVE_CAUSES, QUESTION_CAUSES, TEXT_CAUSES, Slots, make_tone
from empathy.generate.writer import NULL, US_PER_DAY, US_PER_S, format_ids

HOUR = 3600 * US_PER_S
MINUTE = 60 * US_PER_S
EMAIL, WEB, CHAT, PHONE, SOCIAL = (V.TICKET_CHANNELS.index(c) for c in ("email", "web", "chat", "phone", "social"))
_SYSTEM_NOTES = pa.array(
    [
        "Ticket created from a chat conversation.",
        "Ticket created from a phone call.",
        "Ticket created from a social media mention.",
        "This ticket was closed automatically after a few days without a reply.",
    ],
    pa.string(),
)
_SOFT = QUESTION_CAUSES | POSITIVE_CAUSES | (np.arange(len(TEXT_CAUSES)) == CAUSE["feature_request"])
_BILLING = np.isin(
    np.arange(len(TEXT_CAUSES)), [CAUSE[c] for c in ("price_increase", "billing_surprise", "refund_status")]
)


def init(w) -> None:
    sec = w.sector
    w.cause_category = pa.array([sec.ticket_categories.get(c, "general") for c in TEXT_CAUSES], pa.string())
    w.cause_queue = pa.array([sec.queues.get(c, "general") for c in TEXT_CAUSES], pa.string())


def slots(w, cust: np.ndarray, c: dict, lang: np.ndarray | None = None, agent=None, ticket=None) -> Slots:
    cur = c.get("currency")
    cur = w.currency[cust] if cur is None else np.where(cur < 0, w.currency[cust], cur)
    plan = c.get("plan")
    plan = w.cust_plan[cust] if plan is None else np.where(plan < 0, w.cust_plan[cust], plan)
    product = c.get("product")
    product = (w.rng.random(len(cust)) * w.texts.n_kinds).astype(np.int64) if product is None else product
    product = np.where(product < 0, (w.trng.random(len(cust)) * w.texts.n_kinds).astype(np.int64), product)
    return Slots(
        w.texts, w.lang[cust] if lang is None else lang, order=c.get("order"), days=c.get("days"), product=product,
        amount=c.get("amount"), currency=cur, plan=plan, date=c.get("date"), ticket=ticket, agent=agent, name=cust,
    )  # fmt: skip


def _tone(w, cust: np.ndarray, cause: np.ndarray, intent: np.ndarray | None = None):
    tone = make_tone(w.trng, w.lang[cust], cause, w.v[cust], w.a[cust], w.emo[cust], w.expressive[cust])
    if intent is not None:
        given = intent >= 0
        tone.intent[given] = intent[given]
    return tone


def _background(w, d: int) -> dict | None:
    rng = w.rng
    idx = w.alive_idx
    v = w.v[idx]
    p = w.sector.contacts_per_year / 365 * w.contact_prop[idx] * (1 + 1.5 * np.clip(-v, 0, 1))
    who = rng.random(len(idx)) < p
    cust = idx[who]
    n = len(cust)
    if not n:
        return None
    v = v[who]
    options = np.array(
        [CAUSE[c] for c in ("product_question", "account_question", "feature_request", "web_error", "praise")]
    )
    wts = np.stack(
        [np.full(n, 0.35), np.full(n, 0.3), np.full(n, 0.12), np.full(n, 0.13), 0.5 * np.clip(v - 0.2, 0, 1)], axis=1
    )
    oc = w.S[E.EV["over_contact"], cust] > 0.3
    cum = np.cumsum(wts / wts.sum(axis=1, keepdims=True), axis=1)
    cause = options[np.minimum((rng.random(n)[:, None] > cum).sum(axis=1), len(options) - 1)]
    cause[oc & (rng.random(n) < 0.5)] = CAUSE["over_contact"]
    return {
        "ts": w.ts0 + w.tod(cust), "cust": cust, "cause": cause.astype(np.int8), "order": np.full(n, -1),
        "product": np.full(n, -1), "amount": np.full(n, np.nan), "plan": np.full(n, -1), "days": np.ones(n, dtype=np.int64),
        "date": np.full(n, NULL), "outbound": np.zeros(n, dtype=bool), "intent": np.full(n, -1, dtype=np.int8),
        "currency": np.full(n, -1),
    }  # fmt: skip


def contacts(w, d: int) -> None:
    rng = w.rng
    due = w.q["contact"].pop(d)
    if due is not None:
        # whether a problem turns into a contact depends on the mood of the day: unhappy customers reach out
        v = w.v[due["cust"]]
        keep = due["outbound"] | (rng.random(len(v)) < np.clip(0.6 * np.exp(-1.2 * v), 0, 1))
        due = {k: x[keep] for k, x in due.items()}
    parts = [p for p in (due, _background(w, d)) if p is not None]
    if not parts:
        return
    c = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    keep = ~w.churned[c["cust"]] & (w.created_ts[c["cust"]] <= c["ts"])
    c = {k: v[keep] for k, v in c.items()}
    if not len(c["cust"]):
        return
    out = c["outbound"]
    if out.any():
        _outbound_calls(w, {k: v[out] for k, v in c.items()})
        c = {k: v[~out] for k, v in c.items()}
    n = len(c["cust"])
    if not n:
        return
    cust = c["cust"]
    tone = _tone(w, cust, c["cause"].astype(np.int64), c["intent"])
    # channel choice
    wts = np.tile(np.array(w.sector.contact_channels, dtype=float), (n, 1))
    angry = (tone.emotion == E.EMO["anger"]) & tone.high
    wts[angry, SOCIAL] *= 3
    wts[angry, PHONE] *= 1.5
    wts[w.age[cust] < 30, CHAT] *= 1.6
    wts[w.age[cust] > 60, PHONE] *= 2
    cum = np.cumsum(wts / wts.sum(axis=1, keepdims=True), axis=1)
    channel = np.minimum((rng.random(n)[:, None] > cum).sum(axis=1), 4)
    sl = slots(w, cust, c)
    body = w.texts.message(w.trng, tone, sl)
    ticket_rows = []  # (index into c, created ts, channel)
    # chats
    ch = np.nonzero(channel == CHAT)[0]
    if len(ch):
        opened = _chats(w, c, ch, tone, sl)
        ticket_rows.append(opened)
    ph = np.nonzero(channel == PHONE)[0]
    if len(ph):
        ticket_rows.append(_calls(w, c, ph, tone, sl))
    so = np.nonzero(channel == SOCIAL)[0]
    if len(so):
        sub = _subset_tone(tone, so)
        engagement.social_posts(w, cust[so], c["ts"][so], sub, _subset_slots(w, sl, so))
        ticket_rows.append((so, c["ts"][so] + rng.integers(10, 180, len(so)) * MINUTE, np.full(len(so), SOCIAL)))
    em = np.nonzero((channel == EMAIL) | (channel == WEB))[0]
    if len(em):
        ticket_rows.append((em, c["ts"][em], channel[em]))
    idx = np.concatenate([t[0] for t in ticket_rows])
    if len(idx):
        order = np.argsort(idx, kind="stable")
        idx = idx[order]
        created = np.concatenate([t[1] for t in ticket_rows])[order]
        tch = np.concatenate([t[2] for t in ticket_rows])[order]
        _tickets(
            w, d, {k: v[idx] for k, v in c.items()}, created, tch, _subset_tone(tone, idx), body.take(pa.array(idx))
        )


def _subset_tone(tone, idx):
    from dataclasses import fields, replace

    return replace(
        tone, **{f.name: None if getattr(tone, f.name) is None else getattr(tone, f.name)[idx] for f in fields(tone)}
    )


def _subset_slots(w, sl: Slots, idx) -> Slots:
    src = {k: (None if v is None else np.asarray(v)[idx]) for k, v in sl.src.items()}
    return Slots(w.texts, sl.lang[idx], **src)


def _agent_quality(w, agent: np.ndarray) -> np.ndarray:
    return 0.7 + 0.6 * w.agent_emp[agent] / 100


def _chats(w, c: dict, ch: np.ndarray, tone, sl: Slots):
    rng = w.rng
    cust = c["cust"][ch]
    ts = c["ts"][ch]
    cause = c["cause"][ch].astype(np.int64)
    n = len(ch)
    t = _subset_tone(tone, ch)
    s = _subset_slots(w, sl, ch)
    question = _SOFT[cause]
    bot = question & (rng.random(n) < 0.35)
    agent = w.pick_agents(ts, w.lang[cust], np.full(n, -1))
    wait = np.where(bot, rng.integers(0, 5, n), np.clip(rng.lognormal(np.log(45), 1.0, n), 3, 3600)).astype(np.int64)
    dur = np.clip(rng.lognormal(np.log(420), 0.6, n), 30, 7200).astype(np.int64)
    ended = w.clamp_day(ts + (wait + dur) * US_PER_S, w.ts0)
    cust_text = w.texts.chat(w.trng, t, s)
    lang_match = w.agent_speaks[agent, w.lang[cust]]
    reply_lang = np.where(lang_match, w.lang[cust], V.EN).astype(np.int8)
    s2 = Slots(w.texts, reply_lang, **{**s.src, "agent": agent})
    empathic = (w.trng.random(n) < w.agent_emp[agent] / 100) & ~question
    agent_text = pc.if_else(
        pa.array(bot), w.texts.bot(w.trng, reply_lang, s2), w.texts.agent_reply(w.trng, reply_lang, cause, empathic, s2)
    )
    cid = w.ids("chat", n)
    w.writer.add(
        "chats",
        w.day_of(ts),
        {"chat_id": cid, "customer_id": cust, "agent_id": np.where(bot, -1, agent), "started_at": ts, "ended_at": ended,
         "wait_seconds": wait, "customer_text": cust_text, "agent_text": agent_text},
    )  # fmt: skip
    w.truth.texts(("chats", "customer_text"), "chat", cid, cust, t, ts)
    p_solve = np.where(question, np.where(bot, 0.45, 0.7), 0.3) * np.where(bot, 1.0, _agent_quality(w, agent))
    solved = rng.random(n) < p_solve
    _solved_at_once(w, cust[solved], ended[solved], cause[solved], agent[solved], "chat", cid[solved])
    un = ~solved
    return ch[un], ended[un] + rng.integers(1, 10, int(un.sum())) * MINUTE, np.full(int(un.sum()), CHAT)


def _solved_at_once(w, cust, ts, cause, agent, entity, ids) -> None:
    """A problem solved during the first contact is a delight moment; a quick answer helps a little."""
    problem = ~_SOFT[cause]
    w.event(ts[problem], cust[problem], "fast_resolution", related_entity=entity, related=ids[problem])
    q = ~problem & ~POSITIVE_CAUSES[cause]
    w.event(ts[q], cust[q], "good_resolution", magnitude=0.5 * (0.6 + w.agent_emp[agent[q]] / 100),
            related_entity=entity, related=ids[q])  # fmt: skip


def _voice(w, cust, tone, n):
    rng = w.rng
    a = w.a[cust]
    tense = (tone.emotion == E.EMO["anger"]) | (tone.emotion == E.EMO["fear"])
    energy = np.clip(0.25 + 0.6 * a + rng.normal(0, 0.07, n), 0, 1)
    pitch = np.clip(0.15 + 0.5 * a + 0.15 * tense + rng.normal(0, 0.06, n), 0, 1)
    rate = np.clip(2.2 + 1.3 * a + rng.normal(0, 0.25, n), 0.5, 10)
    return np.round(pitch, 3), np.round(energy, 3), np.round(rate, 2)


def _calls(w, c: dict, ph: np.ndarray, tone, sl: Slots):
    rng = w.rng
    cust = c["cust"][ph]
    ts = c["ts"][ph]
    cause = c["cause"][ph].astype(np.int64)
    n = len(ph)
    t = _subset_tone(tone, ph)
    s = _subset_slots(w, sl, ph)
    busy = 2.0 if w.sector.name == "healthcare" else 1.0
    wait = np.clip(rng.lognormal(np.log(150 * busy), 0.9, n), 5, 7200).astype(np.int64)
    patience = rng.lognormal(np.log(420), 0.6, n).astype(np.int64)
    abandoned = wait > patience
    wait = np.where(abandoned, patience, wait)
    team = np.where(t.intent == INTENT["cancellation_intent"], V.TEAMS.index("retention"), -1)
    agent = w.pick_agents(ts, w.lang[cust], team)
    dur = np.where(abandoned, 0, np.clip(rng.lognormal(np.log(330), 0.6, n), 20, 7200)).astype(np.int64)
    question = _SOFT[cause]
    p_solve = np.where(question, 0.6, 0.35) * _agent_quality(w, agent)
    solved = ~abandoned & (rng.random(n) < p_solve)
    other = rng.choice(
        [V.CALL_OUTCOMES.index(o) for o in ("escalated", "callback", "transferred")], size=n, p=[0.4, 0.35, 0.25]
    )
    outcome = np.where(
        abandoned, V.CALL_OUTCOMES.index("abandoned"), np.where(solved, V.CALL_OUTCOMES.index("resolved"), other)
    )
    has_tr = ~abandoned & (rng.random(n) < 0.75)
    transcript = w.texts.transcript(w.trng, t, s)
    transcript = pc.if_else(pa.array(has_tr), transcript, pa.nulls(n, pa.string()))
    has_voice = has_tr & (rng.random(n) < 0.8)
    pitch, energy, rate = _voice(w, cust, t, n)
    queue = w.cause_queue.take(pa.array(cause))
    queue = pc.if_else(pa.array(team >= 0), pa.array(["retention"] * n, pa.string()), queue)
    cid = w.ids("call", n)
    w.writer.add(
        "calls",
        w.day_of(ts),
        {
            "call_id": cid, "customer_id": cust, "agent_id": np.where(abandoned, -1, agent), "started_at": ts,
            "direction": np.full(n, V.CALL_DIRECTIONS.index("inbound")), "queue": queue, "wait_seconds": wait,
            "duration_seconds": dur, "transcript": transcript,
            "voice_pitch_var": np.where(has_voice, pitch, np.nan), "voice_energy": np.where(has_voice, energy, np.nan),
            "speech_rate": np.where(has_voice, rate, np.nan), "outcome": outcome,
        },
    )  # fmt: skip
    tr = np.nonzero(has_tr)[0]
    w.truth.texts(("calls", "transcript"), "call", cid[tr], cust[tr], _subset_tone(t, tr), ts[tr])
    _solved_at_once(w, cust[solved], ts[solved] + (wait + dur)[solved] * US_PER_S, cause[solved], agent[solved], "call",
                    cid[solved])  # fmt: skip
    # callers who gave up try again by e-mail; answered calls may be surveyed
    ab = np.nonzero(abandoned & (rng.random(n) < 0.5))[0]
    if len(ab):
        extra = {k: c[k][ph[ab]] for k in ("order", "product", "amount", "plan", "days", "date", "intent", "currency")}
        w.contact(ts[ab] + rng.integers(2, 30, len(ab)) * HOUR, cust[ab], cause[ab].astype(np.int8), **extra)
    sv = np.nonzero(~abandoned & (rng.random(n) < 0.4))[0]
    engagement.invite(w, cust[sv], ts[sv] + (wait + dur)[sv] * US_PER_S + rng.integers(5, 120, len(sv)) * MINUTE,
                      np.ones(len(sv), dtype=np.int64), "post_call", "call", cid[sv])  # fmt: skip
    un = ~solved & ~abandoned
    created = ts + (wait + dur) * US_PER_S + rng.integers(1, 10, n) * MINUTE
    return ph[un], created[un], np.full(int(un.sum()), PHONE)


def _outbound_calls(w, c: dict) -> None:
    """Retention calls to customers who threatened to leave."""
    rng = w.rng
    cust = c["cust"]
    n = len(cust)
    ts = c["ts"]
    tone = _tone(w, cust, c["cause"].astype(np.int64), np.full(n, INTENT["cancellation_intent"], dtype=np.int8))
    agent = w.pick_agents(ts, w.lang[cust], np.full(n, V.TEAMS.index("retention")))
    answered = rng.random(n) < 0.7
    dur = np.where(answered, np.clip(rng.lognormal(np.log(400), 0.5, n), 30, 5400), 0).astype(np.int64)
    p_win = 1 / (1 + np.exp(-(-0.3 + 0.05 * (w.agent_emp[agent] - 62))))
    won = answered & (rng.random(n) < p_win)
    outcome = np.where(
        answered, np.where(won, V.CALL_OUTCOMES.index("resolved"), V.CALL_OUTCOMES.index("callback")),
        V.CALL_OUTCOMES.index("abandoned"),
    )  # fmt: skip
    has_tr = answered & (rng.random(n) < 0.75)
    s = slots(w, cust, c)
    transcript = pc.if_else(pa.array(has_tr), w.texts.transcript(w.trng, tone, s), pa.nulls(n, pa.string()))
    pitch, energy, rate = _voice(w, cust, tone, n)
    hv = has_tr & (rng.random(n) < 0.8)
    cid = w.ids("call", n)
    w.writer.add(
        "calls",
        w.day_of(ts),
        {
            "call_id": cid, "customer_id": cust, "agent_id": agent, "started_at": ts,
            "direction": np.full(n, V.CALL_DIRECTIONS.index("outbound")),
            "queue": pa.array(["retention"] * n, pa.string()), "wait_seconds": np.zeros(n, dtype=np.int64),
            "duration_seconds": dur, "transcript": transcript, "voice_pitch_var": np.where(hv, pitch, np.nan),
            "voice_energy": np.where(hv, energy, np.nan), "speech_rate": np.where(hv, rate, np.nan), "outcome": outcome,
        },
    )  # fmt: skip
    tr = np.nonzero(has_tr)[0]
    w.truth.texts(("calls", "transcript"), "call", cid[tr], cust[tr], _subset_tone(tone, tr), ts[tr])
    w.event(ts[won] + dur[won] * US_PER_S, cust[won], "good_resolution", magnitude=0.6 + w.agent_emp[agent[won]] / 100,
            related_entity="call", related=cid[won])  # fmt: skip


def _author_ids(kind: np.ndarray, cust: np.ndarray, agent: np.ndarray) -> pa.Array:
    """author_id strings: customer id, agent id or null (system)."""
    c = format_ids(np.where(kind == 0, cust, -1), "customer")
    a = format_ids(np.where(kind == 1, agent, -1), "agent")
    return pc.coalesce(c, a)


def _messages(w, ticket, kind, cust, agent, ts, body) -> np.ndarray:
    n = len(ticket)
    mid = w.ids("message", n)
    if n:
        w.writer.add(
            "ticket_messages",
            w.day_of(ts),
            {"message_id": mid, "ticket_id": ticket, "author_type": kind, "author_id": _author_ids(kind, cust, agent),
             "sent_at": ts, "body": body},
        )  # fmt: skip
    return mid


def _tickets(w, d: int, c: dict, created: np.ndarray, channel: np.ndarray, tone, body: pa.Array) -> None:
    rng = w.rng
    cust = c["cust"]
    cause = c["cause"].astype(np.int64)
    m = len(cust)
    tid = w.ids("ticket", m)
    lang = w.lang[cust]
    soft = _SOFT[cause]
    positive = POSITIVE_CAUSES[cause]
    negative = tone.sentiment() == 0
    prio = np.full(m, V.PRIORITIES.index("normal"))
    prio[soft] = V.PRIORITIES.index("low")
    prio[negative & tone.high] = V.PRIORITIES.index("high")
    prio[tone.curt & tone.high & (rng.random(m) < 0.35)] = V.PRIORITIES.index("urgent")
    team = np.full(m, -1)
    hi = prio >= V.PRIORITIES.index("high")
    team[hi] = np.where(rng.random(int(hi.sum())) < 0.5, V.TEAMS.index("senior"), V.TEAMS.index("tier2"))
    cancel = tone.intent == INTENT["cancellation_intent"]
    team[cancel] = V.TEAMS.index("retention")
    agent = w.pick_agents(created, lang, team)
    lang_match = w.agent_speaks[agent, lang]
    # timeline
    live = (channel == CHAT) | (channel == PHONE)
    tier1 = w.agent_team[agent] == V.TEAMS.index("tier1")
    fr_delay = np.where(
        live, rng.integers(2, 15, m) * MINUTE,
        np.clip(rng.lognormal(np.log(4), 0.9, m) * np.where(tier1, 1.3, 1.0), 0.1, 120) * HOUR,
    ).astype(np.int64)  # fmt: skip
    fr = created + fr_delay
    complexity = np.where(soft, 0.4, np.where(_BILLING[cause], 1.3, 1.0))
    speed = 1.25 - np.minimum(w.agent_exp[agent], 10) / 20
    dur = rng.lognormal(np.log(0.8 * complexity * speed), 0.8, m)
    stuck = ~positive & (rng.random(m) < 0.07)
    dur = np.where(stuck, dur * rng.uniform(5, 15, m), dur)
    dur = np.where(positive, rng.uniform(0.05, 0.5, m), dur)
    res = fr + (dur * US_PER_DAY).astype(np.int64)
    z = 0.9 + 0.05 * (w.agent_emp[agent] - 62) + 0.03 * (w.agent_qa[agent] - 74) + 0.6 * lang_match - 1.3 * stuck
    good = positive | (rng.random(m) < 1 / (1 + np.exp(-z)))
    closed = res + rng.integers(3 * 24, 5 * 24, m) * HOUR
    # ticket rows, one version per day of change
    category = w.cause_category.take(pa.array(cause))
    category = pc.if_else(pa.array(cancel), pa.array(["cancellation"] * m, pa.string()), category)
    subject = w.texts.subject_line(w.trng, tone, slots(w, cust, c))
    base = {"ticket_id": tid, "customer_id": cust, "created_at": created, "channel": channel, "category": category,
            "priority": prio, "subject": subject, "assigned_agent_id": agent}  # fmt: skip
    stage_ts = np.stack([created, fr, res, closed], axis=1)
    statuses = [V.TICKET_STATUS.index(s) for s in ("open", "pending", "solved", "closed")]
    emit_versions(w, "support_tickets", stage_ts, base,
        lambda j, sel: {
            "status": np.full(len(sel), statuses[j]), "updated_at": stage_ts[sel, j],
            "first_response_at": fr[sel] if j >= 1 else np.full(len(sel), NULL),
            "resolved_at": res[sel] if j >= 2 else np.full(len(sel), NULL),
        },
    )  # fmt: skip
    keep = created < w.t_end
    w.truth.texts(("support_tickets", "subject"), "ticket", tid[keep], cust[keep], _subset_tone(tone, np.nonzero(keep)[0]),
                  created[keep])  # fmt: skip
    # messages
    s_agent = Slots(w.texts, np.where(lang_match, lang, V.EN).astype(np.int8),
                    **{**slots(w, cust, c).src, "agent": agent, "ticket": tid})  # fmt: skip
    empathic = (w.trng.random(m) < w.agent_emp[agent] / 100) & ~soft
    sysn = np.nonzero(channel != EMAIL)[0]
    sysn = sysn[channel[sysn] != WEB]
    note = np.select([channel[sysn] == CHAT, channel[sysn] == PHONE], [0, 1], 2)
    _messages(
        w, tid[sysn], np.full(len(sysn), 2), cust[sysn], agent[sysn], created[sysn], _SYSTEM_NOTES.take(pa.array(note))
    )
    mid = _messages(w, tid, np.zeros(m, dtype=np.int64), cust, agent, created + US_PER_S, body)
    keep = created + US_PER_S < w.t_end
    w.truth.texts(("ticket_messages", "body"), "message", mid[keep], cust[keep], _subset_tone(tone, np.nonzero(keep)[0]),
                  created[keep] + US_PER_S)  # fmt: skip
    first_reply = w.texts.agent_reply(w.trng, s_agent.lang, cause, empathic, s_agent)
    _messages(w, tid, np.ones(m, dtype=np.int64), cust, agent, fr, first_reply)
    final = w.texts.agent_reply(w.trng, s_agent.lang, cause, empathic, s_agent, resolution=good.astype(np.int64))
    _messages(w, tid, np.ones(m, dtype=np.int64), cust, agent, res, final)
    _messages(w, tid, np.full(m, 2), cust, agent, closed, _SYSTEM_NOTES.take(pa.array(np.full(m, 3))))
    # the customer chases open tickets and sometimes answers the resolution
    t = created.copy()
    for _ in range(4):
        t = t + (rng.uniform(1.5, 3.0, m) * US_PER_DAY).astype(np.int64)
        chase = (t < res - 2 * HOUR) & (rng.random(m) < 0.7)
        k = np.nonzero(chase)[0]
        w.q["followup"].put(w.day_of(t[k]), ticket=tid[k], cust=cust[k], ts=t[k], kind=np.zeros(len(k), dtype=np.int8),
                            cause=cause[k], created=created[k], agent=agent[k], order=c["order"][k])  # fmt: skip
    reply = np.where(good & ~positive, rng.random(m) < 0.2, ~good & (rng.random(m) < 0.45))
    k = np.nonzero(reply)[0]
    rts = res[k] + rng.integers(60, 30 * 60, len(k)) * MINUTE
    w.q["followup"].put(w.day_of(rts), ticket=tid[k], cust=cust[k], ts=rts, kind=np.where(good[k], 1, 2).astype(np.int8),
                        cause=cause[k], created=created[k], agent=agent[k], order=c["order"][k])  # fmt: skip
    # emotional effects: every day open after the first hurts; the resolution helps or hurts
    open_days = (res - created) // US_PER_DAY
    reps = np.where(positive, 0, np.maximum(open_days - 0, 0))
    if reps.sum():
        ri = np.repeat(np.arange(m), reps)
        j = np.arange(len(ri)) - np.repeat(np.cumsum(reps) - reps, reps)
        cday = w.day_of(created)
        w.event(np.repeat(created + US_PER_DAY, reps), cust[ri], "ticket_unresolved", related_entity="ticket",
                related=tid[ri], record=j == 0, impulse_day=cday[ri] + 1 + j,
                truth_magnitude=((res - created) / US_PER_DAY)[ri].astype(np.float32))  # fmt: skip
    real = ~positive
    fast = real & good & (res - created < US_PER_DAY)
    slow_good = real & good & ~fast
    bad = real & ~good
    w.event(res[fast], cust[fast], "fast_resolution", related_entity="ticket", related=tid[fast])
    w.event(res[slow_good], cust[slow_good], "good_resolution", magnitude=0.6 + w.agent_emp[agent[slow_good]] / 100,
            related_entity="ticket", related=tid[slow_good])  # fmt: skip
    w.event(res[bad], cust[bad], "bad_resolution", related_entity="ticket", related=tid[bad])
    gift = np.nonzero(bad & (w.v[cust] < -0.4) & (rng.random(m) < 0.25))[0]
    gts = res[gift] + rng.integers(1, 4, len(gift)) * US_PER_DAY
    w.q["gift"].put(w.day_of(gts), cust=cust[gift])
    sv = np.nonzero(real & (rng.random(m) < 0.6))[0]
    engagement.invite(w, cust[sv], res[sv] + rng.integers(1, 20, len(sv)) * HOUR, np.ones(len(sv), dtype=np.int64),
                      "post_ticket", "ticket", tid[sv])  # fmt: skip
    # threats to leave get a retention call
    rc = np.nonzero(cancel & (rng.random(m) < 0.35))[0]
    if len(rc):
        w.contact(created[rc] + rng.integers(4, 48, len(rc)) * HOUR, cust[rc], cause[rc], outbound=True,
                  order=c["order"][rc], intent=np.full(len(rc), INTENT["cancellation_intent"], dtype=np.int8))  # fmt: skip


def followups(w, d: int) -> None:
    f = w.q["followup"].pop(d)
    if f is None:
        return
    keep = ~w.churned[f["cust"]]
    f = {k: v[keep] for k, v in f.items()}
    n = len(f["cust"])
    if not n:
        return
    for kind, cause_name in ((0, "ticket_unresolved"), (1, "good_resolution"), (2, "bad_resolution")):
        k = np.nonzero(f["kind"] == kind)[0]
        if not len(k):
            continue
        cust = f["cust"][k]
        cause = np.full(len(k), CAUSE[cause_name])
        tone = _tone(w, cust, cause)
        days = np.maximum(1, (f["ts"][k] - f["created"][k]) // US_PER_DAY)
        s = slots(w, cust, {"order": f["order"][k], "days": days}, agent=f["agent"][k], ticket=f["ticket"][k])
        body = w.texts.follow_up(w.trng, tone, s) if kind == 0 else w.texts.message(w.trng, tone, s)
        mid = _messages(w, f["ticket"][k], np.zeros(len(k), dtype=np.int64), cust, f["agent"][k], f["ts"][k], body)
        w.truth.texts(("ticket_messages", "body"), "message", mid, cust, tone, f["ts"][k])
