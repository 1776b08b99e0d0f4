"""Engagement: e-mail, web and app sessions, surveys, reviews and social media.

* E-mail: a campaign calendar per sector (promotions, newsletters, burst weeks for a high-frequency
  cohort, win-back), plus transactional and service mail. Opens and clicks rise with valence and fall
  with recent over-contact; unsubscribes and spam complaints rise when negative and over-contacted. More
  than three marketing e-mails in seven days is an over-contact event.
* Web: session probability rises with valence; frustrated customers (negative, or with a late parcel or
  an open ticket) visit the help centre and search for "where is my order"; errors happen at a low base
  rate and on a few incident days, and hurt a little.
* Surveys: invitations after purchases, tickets and calls, plus quarterly NPS waves. The very happy and
  the very unhappy answer more often (response propensity grows with |valence|); scores follow valence.
* Reviews and social posts come mostly from the extremes.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from empathy.generate import effects as E
from empathy.generate import vocab as V
from empathy.generate.text import (
    CAUSE,
    CAUSE_TOPIC,
    NEGATIVE_EMOTIONS,
    POSITIVE_EMOTIONS,
    TOPICS,
    Slots,
    Tone,
    make_tone,
)
from empathy.generate.truth import format_related
from empathy.generate.writer import NULL, US_PER_DAY, US_PER_S, format_ids

HOUR = 3600 * US_PER_S
MINUTE = 60 * US_PER_S
ET = {name: i for i, name in enumerate(V.EMAIL_EVENT_TYPES)}
CT = {name: i for i, name in enumerate(V.CAMPAIGN_TYPES)}
WT = {name: i for i, name in enumerate(V.WEB_EVENT_TYPES)}
_EVENT_CAUSE = {
    "late_delivery": "late_delivery", "defective_item": "defective_item", "service_delay": "service_delay",
    "ticket_unresolved": "ticket_unresolved", "bad_resolution": "bad_resolution", "good_resolution": "good_resolution",
    "fast_resolution": "good_resolution", "price_increase": "price_increase", "payment_failed": "payment_failed",
    "billing_surprise": "billing_surprise", "over_contact": "over_contact", "web_error": "web_error",
    "surprise_gift": "surprise_gift", "loyalty_reward": "praise", "smooth_delivery": "praise", "life_up": "praise",
    "health_worry": "service_delay",
}  # fmt: skip
EVENT_CAUSE = np.array([CAUSE.get(_EVENT_CAUSE.get(n, ""), -1) for n in E.EVENT_NAMES])
_NEGATIVE_DEFAULTS = {
    "retail": ("late_delivery", "defective_item", "bad_resolution", "web_error"),
    "subscription": ("price_increase", "payment_failed", "web_error", "bad_resolution"),
    "healthcare": ("service_delay", "billing_surprise", "bad_resolution", "ticket_unresolved"),
}
_URLS = {
    "twitter": "https://twitter.com/i/status/", "facebook": "https://facebook.com/posts/",
    "instagram": "https://instagram.com/p/", "reddit": "https://reddit.com/comments/",
    "trustpilot": "https://trustpilot.com/reviews/", "other": "https://forum.example.com/t/",
}  # fmt: skip


def init(w) -> None:
    rng = w.rng
    w.bad_address = w.has_email & ~w.email_ok
    w.bounced = np.zeros(w.N, dtype=bool)
    weeks = max(1, w.D // 7)
    n_burst = min(weeks, max(1, round(w.sector.burst_weeks * w.D / 365)))
    w.burst_weeks = set(rng.choice(weeks, size=n_burst, replace=False).tolist())
    w.negative_defaults = np.array([CAUSE[c] for c in _NEGATIVE_DEFAULTS[w.sector.name]])
    w.url_prefix = pa.array([_URLS[p] for p in V.PLATFORMS], pa.string())
    w.survey_waves = set(range(10, w.D, 91))
    w.mk_today = np.zeros(w.N, dtype=np.int8)


def _campaign(n: int, name: str) -> pa.Array:
    return pa.array([name], pa.string()).take(pa.array(np.zeros(n, dtype=np.int32)))


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def email_batch(w, cust: np.ndarray, send: np.ndarray, name: str, ctype: str, open_boost: float = 0.0) -> None:
    """Write the events of one e-mail send to each customer: sent, then delivered or bounce, open, click,
    unsubscribe and complaint as they happen."""
    rng = w.rng
    ok = w.has_email[cust] & ~w.bounced[cust]
    cust, send = cust[ok], np.asarray(send)[ok]
    n = len(cust)
    if not n:
        return
    day_start = (send // US_PER_DAY) * US_PER_DAY
    marketing = ctype in ("promotional", "newsletter", "winback")
    bounce = w.bad_address[cust]
    w.bounced[cust[bounce]] = True
    deliv = ~bounce
    t_del = w.clamp_day(send + rng.integers(1, 90, n) * US_PER_S, day_start)
    v = w.v[cust]
    oc = np.minimum(w.S[E.EV["over_contact"], cust], 2)
    gone = w.churned[cust]
    p_open = _sigmoid(w.open_logit[cust] + 1.3 * v + open_boost - 0.9 * oc) * np.where(gone, 0.05, 1.0)
    opened = deliv & (rng.random(n) < p_open)
    t_open = w.clamp_day(t_del + (rng.exponential(2.5, n) * HOUR).astype(np.int64), day_start)
    clicked = opened & (rng.random(n) < 0.16 * (1 + v) / 1.3)
    t_click = w.clamp_day(t_open + rng.integers(5, 300, n) * US_PER_S, day_start)
    unsub = np.zeros(n, dtype=bool)
    complaint = np.zeros(n, dtype=bool)
    if marketing:
        unsub = opened & (rng.random(n) < 0.004 * np.exp(-2 * v) * (1 + 5 * oc))
        complaint = deliv & ~unsub & (rng.random(n) < 0.0002 * (1 + 4 * np.clip(-v, 0, 1)) * (1 + 4 * oc))
    t_unsub = w.clamp_day(t_open + rng.integers(10, 200, n) * US_PER_S, day_start)
    parts = [
        (np.ones(n, dtype=bool), ET["sent"], send),
        (deliv, ET["delivered"], t_del),
        (bounce, ET["bounce"], t_del),
        (opened, ET["open"], t_open),
        (clicked, ET["click"], t_click),
        (unsub, ET["unsubscribe"], t_unsub),
        (complaint, ET["complaint"], t_open),
    ]
    c = np.concatenate([cust[m] for m, _, _ in parts])
    et = np.concatenate([np.full(int(m.sum()), k) for m, k, _ in parts])
    ts = np.concatenate([t[m] for m, _, t in parts])
    w.writer.add(
        "email_events",
        w.day_of(ts),
        {"event_id": w.ids("email_event", len(c)), "customer_id": c, "campaign_id": _campaign(len(c), name),
         "campaign_type": np.full(len(c), CT[ctype]), "event_type": et, "occurred_at": ts},
    )  # fmt: skip
    stop = unsub | complaint
    if stop.any():
        w.revoke(cust[stop], V.EMAIL_MARKETING, np.where(unsub, t_unsub, t_open)[stop])
    if marketing:
        w.mk_today += np.bincount(cust, minlength=w.N).astype(np.int8)


def transactional(w, cust: np.ndarray, ts: np.ndarray, name: str, boost: float) -> None:
    ts = np.asarray(ts)
    keep = (ts >= w.ts0) & (ts < w.t_end)
    email_batch(w, cust[keep], ts[keep], name, "transactional", open_boost=1.0 + boost)


def service_email(w, cust: np.ndarray, ts: np.ndarray, name: str) -> None:
    email_batch(w, cust, ts, name, "service", open_boost=0.8)


def emails(w, d: int) -> None:
    rng = w.rng
    sec = w.sector
    wd = w.weekday(d)
    week = d // 7
    w.mk_today = np.zeros(w.N, dtype=np.int8)
    created = np.nonzero(w.created_ts < w.ts0)[0]
    label = (w.start + dt.timedelta(days=d)).isoformat()
    if created.size:
        ok = created[w.marketing_ok(created)]
        hf = w.high_freq[ok]
        if wd in sec.promo_weekdays:
            rec = ok[hf | (rng.random(len(ok)) < 0.8)]
            email_batch(
                w, rec, w.ts0 + 14 * HOUR + rng.integers(0, 1800, len(rec)) * US_PER_S, f"promo-{label}", "promotional"
            )
        if wd == 3 and week % sec.newsletter_every_weeks == 0:
            email_batch(
                w, ok, w.ts0 + 9 * HOUR + rng.integers(0, 1800, len(ok)) * US_PER_S, f"newsletter-{label}", "newsletter"
            )
        if week in w.burst_weeks:
            rec = ok[hf]
            email_batch(
                w, rec, w.ts0 + 17 * HOUR + rng.integers(0, 1800, len(rec)) * US_PER_S, f"flash-{label}", "promotional"
            )
        if (w.start.toordinal() + d) % 30 == 0:
            if sec.name == "subscription":
                rec = ok[w.churned[ok]]
            else:
                rec = ok[(w.last_order_day[ok] < d - 120) & (w.created_day[ok] < d - 120)]
            email_batch(
                w, rec, w.ts0 + 11 * HOUR + rng.integers(0, 1800, len(rec)) * US_PER_S, f"winback-{label}", "winback"
            )
    # over-contact: more than three marketing e-mails in seven days
    w.mk_ring[d % 7] = w.mk_today
    total = w.mk_ring.sum(axis=0, dtype=np.int16)
    oc = np.nonzero(w.alive & (total >= 4) & (w.last_oc_day <= d - 7))[0]
    if len(oc):
        w.last_oc_day[oc] = d
        w.event(np.full(len(oc), w.ts0 + 22 * HOUR), oc, "over_contact", magnitude=(total[oc] - 3).astype(np.float32))
        ask = oc[rng.random(len(oc)) < 0.02 * w.contact_prop[oc]]
        w.contact(w.ts0 + US_PER_DAY + w.tod(ask), ask, "over_contact")


# -------------------------------------------------------------------------------------------------
def web(w, d: int) -> None:
    rng = w.rng
    idx = w.alive_idx
    v = w.v[idx]
    S = w.S
    issue = np.minimum(
        S[E.EV["late_delivery"], idx] + S[E.EV["ticket_unresolved"], idx] + S[E.EV["defective_item"], idx], 2
    )
    p = w.web_rate[idx] * (1 + 0.4 * np.clip(v, 0, 1)) * (1 + 0.5 * issue)
    browse = idx[rng.random(len(idx)) < -np.expm1(-p)]
    oc, ots = w.today_web_orders
    cust = np.concatenate([browse, oc])
    n_b, n_o = len(browse), len(oc)
    ns = n_b + n_o
    if ns == 0:
        return
    checkout = np.r_[np.zeros(n_b, dtype=bool), np.ones(n_o, dtype=bool)]
    nev = np.where(checkout, 3 + rng.poisson(2.0, ns), 1 + rng.poisson(3.2, ns))
    # anonymous visitors
    n_anon = rng.poisson(0.12 * ns)
    cust = np.r_[cust, np.full(n_anon, -1)]
    checkout = np.r_[checkout, np.zeros(n_anon, dtype=bool)]
    nev = np.r_[nev, 1 + rng.poisson(1.5, n_anon)]
    ns_all = ns + n_anon
    known = cust >= 0
    kc = np.where(known, cust, 0)
    lang = np.where(known, w.lang[kc], rng.choice(3, size=ns_all, p=[0.78, 0.12, 0.10]))
    vv = np.where(known, w.v[kc], 0.1)
    frus = (
        np.clip(-vv, 0, 1) * 0.7
        + np.where(
            known,
            np.minimum(
                S[E.EV["late_delivery"], kc] + S[E.EV["ticket_unresolved"], kc] + S[E.EV["defective_item"], kc], 1
            ),
            0,
        )
        * 0.5
    )
    device = np.where(known & (rng.random(ns_all) < 0.8), w.device[kc], rng.integers(0, 4, ns_all))
    start = w.ts0 + np.where(known, w.tod(kc), rng.integers(0, 86400, ns_all) * US_PER_S)
    start[n_b:ns] = np.maximum(ots - nev[n_b:ns] * 50 * US_PER_S, w.ts0)
    sid = w.ids("session", ns_all)
    E_ = int(nev.sum())
    s_of = np.repeat(np.arange(ns_all), nev)
    first = np.r_[0, np.cumsum(nev)[:-1]]
    pos = np.arange(E_) - np.repeat(first, nev)
    last = pos == nev[s_of] - 1
    gaps = (rng.exponential(50, E_) * US_PER_S).astype(np.int64)
    gaps[pos == 0] = 0
    cum = np.cumsum(gaps)
    cum = cum - np.repeat(cum[first], nev)
    ts = w.clamp_day(start[s_of] + cum, w.ts0)
    u = rng.random(E_)
    et = np.where(
        u < 0.72, WT["page_view"], np.where(u < 0.88, WT["search"], np.where(u < 0.96, WT["add_to_cart"], WT["login"]))
    )
    et[~known[s_of] & (et != WT["search"])] = WT["page_view"]
    help_p = 0.015 + 0.22 * frus[s_of]
    et[rng.random(E_) < help_p] = WT["help_center"]
    signed_login = known & (rng.random(ns_all) < np.where(device == 3, 0.6, 0.25))
    et[(pos == 0) & signed_login[s_of]] = WT["login"]
    co = checkout[s_of]
    et[co & last] = WT["checkout"]
    et[co & (pos == nev[s_of] - 2)] = WT["add_to_cart"]
    err_p = 0.15 if d in w.incidents else 0.005
    err = rng.random(E_) < np.where(device[s_of] == 3, err_p * 2, err_p)
    et[err & ~(co & last)] = WT["error"]
    # pages
    sec = w.sector
    pages = pa.array(list(sec.pages), pa.string())
    help_pages = pa.array(list(sec.help_pages), pa.string())
    err_pages = pa.array(["/checkout", "/account", "/login", "/search"], pa.string())
    fixed = pa.array(["/search", "/cart", "/checkout", "/login"], pa.string())
    prod = w.catalog.sample(rng, E_)
    prod_page = pc.binary_join_element_wise("/p/", format_ids(prod, "product"), "")
    pv = pages.take(pa.array(rng.integers(0, len(pages), E_)))
    page = pc.if_else(pa.array(rng.random(E_) < 0.55), prod_page, pv)
    page = pc.if_else(
        pa.array(et == WT["help_center"]), help_pages.take(pa.array(rng.integers(0, len(help_pages), E_))), page
    )
    page = pc.if_else(pa.array(et == WT["error"]), err_pages.take(pa.array(rng.integers(0, 4, E_))), page)
    for k, code in enumerate((WT["search"], WT["add_to_cart"], WT["checkout"], WT["login"])):
        page = pc.if_else(pa.array(et == code), fixed.take(pa.array(np.full(E_, k))), page)
    is_search = et == WT["search"]
    terms = w.texts.search(w.trng, lang[s_of], rng.random(E_) < 0.05 + 0.6 * frus[s_of])
    terms = pc.if_else(pa.array(is_search), terms, pa.nulls(E_, pa.string()))
    w.writer.add(
        "web_events",
        d,
        {"event_id": w.ids("web_event", E_), "session_id": sid[s_of], "customer_id": cust[s_of], "occurred_at": ts,
         "event_type": et, "page": page, "search_terms": terms, "device": device[s_of]},
    )  # fmt: skip
    # sessions that hit errors hurt a little
    e_sess = np.bincount(s_of[et == WT["error"]], minlength=ns_all)
    hit = np.nonzero((e_sess > 0) & known)[0]
    if len(hit):
        first_err = np.full(ns_all, np.iinfo(np.int64).max)
        np.minimum.at(first_err, s_of[et == WT["error"]], ts[et == WT["error"]])
        w.event(first_err[hit], cust[hit], "web_error", magnitude=np.minimum(e_sess[hit], 3).astype(np.float32),
                related_entity="session", related=sid[hit])  # fmt: skip
        ask = hit[rng.random(len(hit)) < 0.04 * w.contact_prop[cust[hit]]]
        w.contact(first_err[ask] + rng.integers(5, 120, len(ask)) * MINUTE, cust[ask], "web_error")


# -------------------------------------------------------------------------------------------------
def salient_cause(w, cust: np.ndarray) -> np.ndarray:
    """The text cause a customer would write about: their strongest recent event, else a generic one."""
    contrib = np.abs(E.VALENCE_EFFECT)[:, None] * w.S[:, cust]
    k = np.argmax(contrib, axis=0)
    strong = contrib[k, np.arange(len(cust))] > 0.05
    cause = EVENT_CAUSE[k]
    generic = np.where(
        w.v[cust] > 0.15, CAUSE["praise"], w.negative_defaults[w.rng.integers(0, len(w.negative_defaults), len(cust))]
    )
    return np.where(strong & (cause >= 0), cause, generic).astype(np.int64)


def _tone_for_score(w, cust: np.ndarray, cause: np.ndarray, positive: np.ndarray, negative: np.ndarray) -> Tone:
    """A tone whose polarity agrees with a score the customer gave."""
    cause = cause.copy()
    pos_cause = np.isin(cause, [CAUSE["praise"], CAUSE["good_resolution"], CAUSE["surprise_gift"]])
    cause[negative & pos_cause] = w.negative_defaults[
        w.rng.integers(0, len(w.negative_defaults), int((negative & pos_cause).sum()))
    ]
    cause[positive & ~pos_cause] = CAUSE["praise"]
    tone = make_tone(w.trng, w.lang[cust], cause, w.v[cust], w.a[cust], w.emo[cust], w.expressive[cust])
    emo = tone.emotion
    emo[positive & ~POSITIVE_EMOTIONS[emo]] = E.EMO["joy"]
    fix = negative & ~NEGATIVE_EMOTIONS[emo]
    emo[fix] = np.where(w.a[cust][fix] > 0.55, E.EMO["anger"], E.EMO["sadness"])
    # generic praise is about any topic
    generic = tone.cause == CAUSE["praise"]
    tone.topic_override = np.where(generic, w.trng.integers(0, len(TOPICS), len(cust)), -1).astype(np.int8)
    mid = ~positive & ~negative
    emo[mid] = E.EMO["neutral"]
    tone.high[mid] = False
    tone.sarcasm &= negative
    tone.intent[positive] = 5  # praise
    return tone


def invite(w, cust, ts, stype, trigger: str, entity: str, related) -> None:
    ts = np.asarray(ts, dtype=np.int64)
    n = len(ts)
    if not n:
        return
    w.q["invite"].put(
        w.day_of(ts), cust=np.asarray(cust), ts=ts, stype=np.asarray(stype, dtype=np.int64),
        trig=np.full(n, V.SURVEY_TRIGGERS.index(trigger)), ent=np.full(n, w.truth.entity_code(entity), dtype=np.int8),
        rel=np.asarray(related, dtype=np.int64),
    )  # fmt: skip


def surveys(w, d: int) -> None:
    rng = w.rng
    inv = w.q["invite"].pop(d)
    parts = [] if inv is None else [inv]
    if d in w.survey_waves:
        RESEARCH = V.RESEARCH
        idx = w.alive_idx
        ok = idx[
            w.consent_granted[idx, RESEARCH] & ~w.consent_revoked[idx, RESEARCH] & (w.consent_id[idx, RESEARCH] >= 0)
        ]
        sel = ok[rng.random(len(ok)) < 0.3]
        n = len(sel)
        parts.append({"cust": sel, "ts": w.ts0 + w.tod(sel), "stype": np.zeros(n, dtype=np.int64),
                      "trig": np.full(n, V.SURVEY_TRIGGERS.index("periodic")), "ent": np.full(n, -1, dtype=np.int8),
                      "rel": np.full(n, -1, dtype=np.int64)})  # fmt: skip
    if not parts:
        return
    c = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    cust = c["cust"]
    n = len(cust)
    if not n:
        return
    ts = c["ts"]
    ch = np.where(w.has_email[cust], rng.choice(4, size=n, p=[0.7, 0.1, 0.15, 0.05]), rng.choice([1, 2], size=n))
    iid = w.ids("invitation", n)
    w.writer.add(
        "survey_invitations",
        w.day_of(ts),
        {"invitation_id": iid, "customer_id": cust, "survey_type": c["stype"], "sent_at": ts, "channel": ch,
         "trigger": c["trig"], "related_id": format_related(c["ent"], c["rel"])},
    )  # fmt: skip
    v = w.v[cust]
    p = np.clip(0.04 + 0.55 * np.abs(v) ** 1.5, 0, 0.85)
    p = np.where(w.churned[cust], 0.01, p)
    resp = rng.random(n) < p
    delay = (rng.exponential(10, n) * HOUR).astype(np.int64) + np.where(
        rng.random(n) < 0.25, rng.integers(1, 6, n) * US_PER_DAY, 0
    )
    r = np.nonzero(resp)[0]
    if not len(r):
        return
    rc = cust[r]
    rts = ts[r] + 2 * MINUTE + delay[r]
    vr = v[r]
    nps = c["stype"][r] == 0
    score = np.where(
        nps,
        np.clip(np.round(6.6 + 4.4 * vr + rng.normal(0, 1.1, len(r))), 0, 10),
        np.clip(np.round(3.3 + 2.0 * vr + rng.normal(0, 0.55, len(r))), 1, 5),
    ).astype(np.int64)
    positive = np.where(nps, score >= 9, score >= 4)
    negative = np.where(nps, score <= 6, score <= 2)
    has_comment = rng.random(len(r)) < 0.2 + 0.4 * np.abs(vr)
    rid = w.ids("response", len(r))
    cm = np.nonzero(has_comment)[0]
    comment = pa.nulls(len(r), pa.string())
    if len(cm):
        tone = _tone_for_score(w, rc[cm], salient_cause(w, rc[cm]), positive[cm], negative[cm])
        text = w.texts.comment(w.trng, tone, Slots(w.texts, tone.lang), positive[cm])
        full = np.full(len(r), -1, dtype=np.int64)
        full[cm] = np.arange(len(cm))
        comment = text.take(pa.array(np.where(full < 0, 0, full), mask=full < 0))
        w.truth.texts(("survey_responses", "comment"), "response", rid[cm], rc[cm], tone, rts[cm])
    w.writer.add(
        "survey_responses",
        w.day_of(rts),
        {"response_id": rid, "invitation_id": iid[r], "customer_id": rc, "survey_type": c["stype"][r],
         "responded_at": rts, "score": score, "comment": comment},
    )  # fmt: skip


def reviews(w, d: int) -> None:
    rng = w.rng
    q = w.q["review"].pop(d)
    if q is None:
        return
    keep = ~w.churned[q["cust"]]
    q = {k: v[keep] for k, v in q.items()}
    v = w.v[q["cust"]]
    write = rng.random(len(v)) < 0.015 + 0.25 * v**2
    q = {k: x[write] for k, x in q.items()}
    n = len(q["cust"])
    if not n:
        return
    cust = q["cust"]
    rating = np.clip(np.round(3.3 + 2.1 * w.v[cust] + rng.normal(0, 0.6, n)), 1, 5).astype(np.int64)
    tone = _tone_for_score(w, cust, salient_cause(w, cust), rating >= 4, rating <= 2)
    # reviews talk about the product or its delivery unless something else is on the customer's mind
    about = np.where(w.trng.random(n) < 0.6, TOPICS.index("product_quality"), TOPICS.index("delivery"))
    off = ~np.isin(CAUSE_TOPIC[tone.cause], [TOPICS.index("product_quality"), TOPICS.index("delivery")])
    tone.topic_override = np.where(off & (w.trng.random(n) < 0.8), about, tone.topic_override).astype(np.int8)
    sl = Slots(w.texts, tone.lang, product=w.catalog.kind[q["product"]], order=q["order"])
    title, body = w.texts.review(w.trng, tone, sl, rating)
    rid = w.ids("review", n)
    anon = rng.random(n) < 0.08
    w.writer.add(
        "reviews",
        d,
        {"review_id": rid, "customer_id": np.where(anon, -1, cust), "product_id": q["product"], "created_at": q["ts"],
         "rating": rating, "title": title, "body": body,
         "language": np.where(rng.random(n) < 0.85, w.lang[cust], NULL)},
    )  # fmt: skip
    w.truth.texts(("reviews", "title"), "review", rid, cust, tone, q["ts"])
    w.truth.texts(("reviews", "body"), "review", rid, cust, tone, q["ts"])


def social_posts(w, cust: np.ndarray, ts: np.ndarray, tone: Tone, sl: Slots) -> None:
    rng = w.rng
    n = len(cust)
    if not n:
        return
    text = w.texts.social(w.trng, tone, sl)
    handle = pc.binary_join_element_wise(
        "@", w.handle_base.take(pa.array(cust)), pc.cast(pa.array(w.handle_num[cust]), pa.string()), ""
    )
    mid = _mentions(w, cust, ts, text, handle, rng.random(n) < 0.65)
    w.truth.texts(("social_mentions", "text"), "mention", mid, cust, tone, ts)


def _mentions(w, cust, ts, text, handle, matched) -> np.ndarray:
    rng = w.rng
    n = len(cust)
    platform = rng.choice(len(V.PLATFORMS), size=n, p=[0.35, 0.2, 0.2, 0.1, 0.1, 0.05])
    mid = w.ids("mention", n)
    url = pc.binary_join_element_wise(w.url_prefix.take(pa.array(platform)), format_ids(mid, "mention"), "")
    w.writer.add(
        "social_mentions",
        w.day_of(ts),
        {"mention_id": mid, "platform": platform, "author_handle": handle, "customer_id": np.where(matched, cust, -1),
         "posted_at": ts, "text": text, "url": url},
    )  # fmt: skip
    return mid


def social(w, d: int) -> None:
    rng = w.rng
    idx = w.alive_idx
    v, a = w.v[idx], w.a[idx]
    p = 0.00004 + 0.004 * np.clip(np.abs(v) - 0.35, 0, 1) ** 1.5 * (0.5 + a)
    who = idx[rng.random(len(idx)) < p]
    if len(who):
        tone = make_tone(w.trng, w.lang[who], salient_cause(w, who), w.v[who], w.a[who], w.emo[who], w.expressive[who])
        social_posts(w, who, w.ts0 + w.tod(who), tone, Slots(w.texts, tone.lang, product=None))
    # chatter from people who are not (known) customers
    n = rng.poisson(max(w.N, 1000) * 0.0002)
    if n:
        lang = rng.choice(3, size=n, p=[0.78, 0.12, 0.10]).astype(np.int8)
        text = w.texts.social_filler(w.trng, lang, Slots(w.texts, lang))
        handle = pc.binary_join_element_wise("@user", pc.cast(pa.array(rng.integers(1000, 999999, n)), pa.string()), "")
        ts = w.ts0 + rng.integers(0, 86400, n) * US_PER_S
        _mentions(w, np.full(n, -1), ts, text, handle, np.zeros(n, dtype=bool))
