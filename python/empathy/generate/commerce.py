"""Commerce: orders, order lines, shipments, payments and subscriptions.

An order's whole life is decided when it is placed (shipping, promised and actual delivery, defects,
returns, refunds; for service orders the appointment, reschedules and the bill) and every version of
the order, order-line and shipment rows is queued for the day it happens. Order lines are sent on the
order day with what is known then (no defect reported, no return), again on the day a defect is
reported and again on the day of the return.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
import pyarrow as pa

from empathy.generate import effects as E
from empathy.generate import engagement
from empathy.generate import vocab as V
from empathy.generate.schedule import Queue, emit_versions
from empathy.generate.writer import NULL, US_PER_DAY, US_PER_S

HOUR = 3600 * US_PER_S
MINUTE = 60 * US_PER_S
FULFIL = ("ship", "service", "digital")
DOW_ORDERS = np.array([1.0, 0.98, 1.0, 1.03, 1.08, 1.12, 1.05])  # Monday first

# payment method mix by language/region: card, paypal, bank_transfer, direct_debit, cash, other
_METHODS = {
    "en": (0.70, 0.20, 0.03, 0.0, 0.0, 0.07),
    "es": (0.58, 0.14, 0.10, 0.0, 0.10, 0.08),
    "pt": (0.55, 0.05, 0.08, 0.0, 0.02, 0.30),
}
_CANCEL_REASON_BY_DRIVER = {
    "late_delivery": "delivery problems", "defective_item": "product quality", "service_delay": "poor service",
    "ticket_unresolved": "poor service", "bad_resolution": "poor service", "price_increase": "too expensive",
    "payment_failed": "billing problems", "billing_surprise": "billing problems", "over_contact": "poor service",
    "web_error": "technical problems", "life_down": "financial reasons", "health_worry": "no longer needed",
    "low_valence": "switched to a competitor",
}  # fmt: skip


class Catalog:
    def __init__(self, sector, rng: np.random.Generator):
        cats = sector.categories
        pid, pcat, pkind, pprice, pw = [], [], [], [], []
        kind = 0
        for ci, c in enumerate(cats):
            nprod = 0
            for _ in c.kinds:
                for _v in range(6):
                    pid.append(len(pid))
                    pcat.append(ci)
                    pkind.append(kind)
                    lo, hi = c.price
                    pprice.append(round(math.exp(rng.uniform(math.log(lo), math.log(hi))), 2))
                    nprod += 1
                kind += 1
            pw.extend([c.weight / nprod] * nprod)
        self.cat = np.array(pcat)
        self.kind = np.array(pkind)
        self.price = np.array(pprice)
        w = np.array(pw) * rng.lognormal(0, 0.6, len(pw))
        self.weight = w / w.sum()
        self.cdf = np.cumsum(self.weight)
        self.fulfil = np.array([FULFIL.index(c.fulfilment) for c in cats])[self.cat]
        self.defect = np.array([c.defect_rate for c in cats])[self.cat]
        self.results = np.array([c.results for c in cats])[self.cat]
        self.cat_names = pa.array([c.name for c in cats], pa.string())
        self.cat_start = np.array([np.nonzero(self.cat == ci)[0][0] for ci in range(len(cats))])
        self.cat_count = np.bincount(self.cat, minlength=len(cats))

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.minimum(np.searchsorted(self.cdf, rng.random(n)), len(self.cdf) - 1)

    def sample_in_category(self, rng: np.random.Generator, cat: np.ndarray) -> np.ndarray:
        return self.cat_start[cat] + (rng.random(len(cat)) * self.cat_count[cat]).astype(np.int64)


class Subs:
    """Subscriptions held by customers (a growable column store)."""

    FIELDS: ClassVar[dict] = {
        "id": np.int64, "cust": np.int64, "plan": np.int64, "start_ts": np.int64, "start_day": np.int64,
        "monthly": np.float64, "prev": np.float64, "changed_ts": np.int64, "currency": np.int64,
        "status": np.int64, "ended_ts": np.int64, "reason": np.int64,
    }  # fmt: skip

    def __init__(self):
        self.n = 0
        self.cap = 1024
        for f, t in self.FIELDS.items():
            setattr(self, f, np.zeros(self.cap, dtype=t))

    def append(self, **cols) -> np.ndarray:
        m = len(cols["id"])
        while self.n + m > self.cap:
            self.cap *= 2
            for f in self.FIELDS:
                old = getattr(self, f)
                new = np.zeros(self.cap, dtype=old.dtype)
                new[: self.n] = old[: self.n]
                setattr(self, f, new)
        sl = slice(self.n, self.n + m)
        for f, v in cols.items():
            getattr(self, f)[sl] = v
        self.n += m
        return np.arange(sl.start, sl.stop)


def init(w) -> None:
    rng = w.rng
    sec = w.sector
    w.catalog = Catalog(sec, rng)
    w.subs = Subs()
    w.q["retry"] = Queue(w.D)
    w.cust_plan = np.zeros(w.N, dtype=np.int64)
    w.holds_sub = rng.random(w.N) < sec.subscription_share
    w.second_sub = w.holds_sub & (rng.random(w.N) < sec.second_subscription_share)
    lang_names = [V.LANGS[i] for i in range(3)]
    w.method_p = np.array([_METHODS[lang] for lang in lang_names])
    w.subs_by_cust: dict[int, list[int]] = {}
    # price waves: (notice day, change day, wave)
    w.waves = []
    for wave in sec.price_waves:
        change = int(wave.at * w.D)
        notice = max(0, change - wave.notice_days)
        w.waves.append({"notice": notice, "change": change, "wave": wave, "selected": None})
    w.incidents = set(rng.choice(w.D, size=max(1, round(w.D / 120)), replace=False).tolist())
    w.today_web_orders = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))


def _methods(w, cust: np.ndarray) -> np.ndarray:
    p = w.method_p[w.lang[cust]]
    u = w.rng.random(len(cust))[:, None]
    return np.minimum((u > np.cumsum(p, axis=1)).sum(axis=1), len(V.PAYMENT_METHODS) - 1)


def _round99(x: np.ndarray) -> np.ndarray:
    """Prices end in .99 (or whole numbers for large-unit currencies)."""
    big = x >= 500
    return np.where(big, np.round(x, -1), np.floor(x) + 0.99)


def new_customers(w, idx: np.ndarray) -> None:
    """Subscriptions of arriving customers (pre-window customers arrive on day 0)."""
    sub = idx[w.holds_sub[idx]]
    two = idx[w.second_sub[idx]]
    cust = np.concatenate([sub, two])
    if not len(cust):
        return
    rng = w.rng
    created = w.created_ts[cust]
    pre = created < w.t0
    # pre-window customers subscribed some time between sign-up and the window start
    start = np.where(
        pre,
        created + (rng.random(len(cust)) * np.maximum(w.t0 - created, 1)).astype(np.int64),
        created + rng.integers(2, 120, len(cust)) * MINUTE,
    )
    start[len(sub) :] = start[len(sub) :] + np.where(
        pre[len(sub) :], 0, rng.integers(1, 60, len(two)) * US_PER_DAY
    )  # second plans come later
    start = np.where(pre & (start >= w.t0), w.t0 - HOUR, start)
    _open_subscriptions(w, cust, start)


def _open_subscriptions(w, cust: np.ndarray, start: np.ndarray) -> None:
    rng = w.rng
    plans = w.sector.plans
    pw = np.array([p.weight for p in plans])
    consumer_p = np.where([p.business_only for p in plans], 0.0, pw)
    business_p = np.where([p.business_only for p in plans], pw * 4, pw)
    business = w.segment[cust] == 1
    u = rng.random(len(cust))
    pc_ = np.cumsum(consumer_p / consumer_p.sum())
    pb_ = np.cumsum(business_p / business_p.sum())
    plan = np.where(business, np.searchsorted(pb_, u), np.searchsorted(pc_, u))
    plan = np.minimum(plan, len(plans) - 1)
    price = np.array([p.monthly for p in plans])[plan] * w.fx[cust]
    monthly = _round99(price)
    n = len(cust)
    ids = w.ids("subscription", n)
    start_day = (start - w.t0) // US_PER_DAY
    w.cust_plan[cust] = plan
    rows = w.subs.append(
        id=ids, cust=cust, plan=plan, start_ts=start, start_day=start_day, monthly=monthly,
        prev=np.full(n, np.nan), changed_ts=np.full(n, NULL), currency=w.currency[cust],
        status=np.full(n, V.SUB_STATUS.index("active")), ended_ts=np.full(n, NULL), reason=np.full(n, NULL),
    )  # fmt: skip
    _emit_subs(w, rows, start)


def _emit_subs(w, rows: np.ndarray, updated: np.ndarray) -> None:
    s = w.subs
    w.writer.add(
        "subscriptions",
        w.day_of(updated),
        {
            "subscription_id": s.id[rows], "customer_id": s.cust[rows],
            "plan": pa.array([p.name for p in w.sector.plans], pa.string()).take(pa.array(s.plan[rows])),
            "started_at": s.start_ts[rows], "ended_at": s.ended_ts[rows], "updated_at": updated,
            "monthly_amount": s.monthly[rows], "previous_monthly_amount": s.prev[rows],
            "price_changed_at": s.changed_ts[rows], "currency": s.currency[rows], "status": s.status[rows],
            "cancel_reason": s.reason[rows],
        },
    )  # fmt: skip


def subscriptions(w, d: int) -> None:
    rng = w.rng
    s = w.subs
    n = s.n
    active = s.status[:n] == V.SUB_STATUS.index("active")
    # late adopters: customers without a plan who start one
    if w.sector.subscription_share >= 0.5:
        idx = w.alive_idx
        cand = idx[~w.holds_sub[idx] & (rng.random(len(idx)) < 0.0006 * np.exp(w.v[idx]))]
        if len(cand):
            w.holds_sub[cand] = True
            _open_subscriptions(w, cand, w.ts0 + w.tod(cand))
    # monthly billing
    due = np.nonzero(active & (s.start_day[:n] < d) & ((d - s.start_day[:n]) % 30 == 0))[0]
    retry = w.q["retry"].pop(d)
    if len(due) or retry is not None:
        cust = s.cust[due]
        ts = w.ts0 + rng.integers(1, 6, len(due)) * HOUR + rng.integers(0, 3600, len(due)) * US_PER_S
        failed = rng.random(len(due)) < w.sector.payment_failure_rate
        attempt = np.zeros(len(due), dtype=np.int64)
        if retry is not None:
            still = s.status[retry["sub"]] == V.SUB_STATUS.index("active")
            rs = retry["sub"][still]
            due = np.concatenate([due, rs])
            cust = np.concatenate([cust, s.cust[rs]])
            ts = np.concatenate([ts, w.ts0 + rng.integers(1, 10, len(rs)) * HOUR])
            failed = np.concatenate([failed, rng.random(len(rs)) < 0.3])
            attempt = np.concatenate([attempt, np.ones(len(rs), dtype=np.int64)])
        pids = w.ids("payment", len(due))
        method = np.where(
            rng.random(len(due)) < 0.55, V.PAYMENT_METHODS.index("direct_debit"), V.PAYMENT_METHODS.index("card")
        )
        w.writer.add(
            "payments",
            d,
            {
                "payment_id": pids, "customer_id": cust, "subscription_id": s.id[due], "paid_at": ts,
                "amount": s.monthly[due], "currency": s.currency[due], "method": method,
                "status": np.where(failed, V.PAYMENT_STATUS.index("failed"), V.PAYMENT_STATUS.index("succeeded")),
            },
        )  # fmt: skip
        f = np.nonzero(failed)[0]
        if len(f):
            w.event(ts[f], cust[f], "payment_failed", related_entity="payment", related=pids[f])
            first = f[attempt[f] == 0]
            w.q["retry"].put(np.full(len(first), d + 3), sub=due[first])
            ask = first[rng.random(len(first)) < 0.3 * w.contact_prop[cust[first]]]
            w.contact(
                ts[ask] + rng.integers(1, 30, len(ask)) * HOUR, cust[ask], "payment_failed",
                amount=s.monthly[due[ask]], currency=s.currency[due[ask]], plan=s.plan[due[ask]],
            )  # fmt: skip
        # anniversaries are loyalty moments for subscribers
        anniv = due[(attempt == 0) & ~failed & ((d - s.start_day[due]) % 360 == 0)]
        if len(anniv):
            w.event(np.full(len(anniv), w.ts0 + 20 * HOUR), s.cust[anniv], "loyalty_reward")
    # price increase waves
    for wv in w.waves:
        wave = wv["wave"]
        if d == wv["notice"]:
            plan_ok = np.isin(s.plan[:n], [i for i, p in enumerate(w.sector.plans) if p.name in wave.plans])
            sel = np.nonzero(active & plan_ok & (s.start_ts[:n] < w.ts0) & (rng.random(n) < wave.share))[0]
            wv["selected"] = sel
            if len(sel):
                engagement.service_email(w, s.cust[sel], w.ts0 + 9 * HOUR + rng.integers(0, 3600, len(sel)) * US_PER_S,
                                         f"svc-price-notice-{w.waves.index(wv) + 1}")  # fmt: skip
        if d == wv["change"] and wv["selected"] is not None:
            sel = wv["selected"]
            sel = sel[s.status[sel] == V.SUB_STATUS.index("active")]
            if not len(sel):
                continue
            ts = w.ts0 + rng.integers(0, 2 * 3600, len(sel)) * US_PER_S
            s.prev[sel] = s.monthly[sel]
            s.monthly[sel] = _round99(s.monthly[sel] * (1 + wave.increase))
            s.changed_ts[sel] = ts
            _emit_subs(w, sel, ts)
            cust = s.cust[sel]
            w.event(
                ts,
                cust,
                "price_increase",
                magnitude=wave.increase / 0.15,
                related_entity="subscription",
                related=s.id[sel],
            )
            v = w.v[cust]
            ask = rng.random(len(sel)) < (0.08 + 0.5 * np.clip(-v, 0, 1)) * w.contact_prop[cust]
            ask &= ~w.churned[cust]
            w.contact(
                ts[ask] + rng.integers(2, 72, int(ask.sum())) * HOUR, cust[ask], "price_increase",
                amount=s.monthly[sel[ask]], currency=s.currency[sel[ask]], plan=s.plan[sel[ask]],
            )  # fmt: skip


def cancel_subscriptions(w, who: np.ndarray, ts: np.ndarray, driver: np.ndarray) -> None:
    s = w.subs
    n = s.n
    if n == 0 or not len(who):
        return
    pos = np.full(w.N, -1, dtype=np.int64)
    pos[who] = np.arange(len(who))
    rows = np.nonzero((pos[s.cust[:n]] >= 0) & (s.status[:n] == V.SUB_STATUS.index("active")))[0]
    if not len(rows):
        return
    k = pos[s.cust[rows]]
    end = np.maximum(ts[k], s.start_ts[rows] + MINUTE)
    names = [*E.EVENT_NAMES, "low_valence", "baseline"]
    fallback = np.array([V.CANCEL_REASONS.index(r) for r in ("moving", "no longer needed", "financial reasons")])
    reason = np.array(
        [V.CANCEL_REASONS.index(_CANCEL_REASON_BY_DRIVER[nm]) if nm in _CANCEL_REASON_BY_DRIVER else -1 for nm in names]
    )[driver[k]]
    reason = np.where(reason < 0, fallback[w.rng.integers(0, 3, len(rows))], reason)
    s.status[rows] = V.SUB_STATUS.index("cancelled")
    s.ended_ts[rows] = end
    s.reason[rows] = reason
    _emit_subs(w, rows, end)


# -------------------------------------------------------------------------------------------------
def orders(w, d: int) -> None:
    rng = w.rng
    sec = w.sector
    cat = w.catalog
    idx = w.alive_idx
    lam = w.buy_rate[idx] * np.exp(0.9 * w.v[idx]) * DOW_ORDERS[w.weekday(d)] * w.season(d)
    # a treated customer's purchase probability carries the treatment's true multiplier (generate/activation.py)
    buy = rng.random(len(idx)) < np.minimum(-np.expm1(-lam) * w.activation.order_multiplier(idx, d), 1.0)
    cust = idx[buy]
    m = len(cust)
    if m == 0:
        w.today_web_orders = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        return
    oid = w.ids("order", m)
    ts = w.ts0 + w.tod(cust)
    # lines
    first = cat.sample(rng, m)
    ful = cat.fulfil[first]
    nitems = 1 + rng.poisson(sec.extra_items_mean, m)
    line_order = np.repeat(np.arange(m), nitems)
    is_first = np.r_[True, line_order[1:] != line_order[:-1]]
    prod = cat.sample(rng, len(line_order))
    prod[is_first] = first
    mismatch = cat.fulfil[prod] != ful[line_order]
    if sec.name != "retail":
        mismatch |= cat.cat[prod] != cat.cat[first[line_order]]
    prod[mismatch] = cat.sample_in_category(rng, cat.cat[first[line_order[mismatch]]])
    nl = len(prod)
    qty = np.where(rng.random(nl) < 0.86, 1, rng.integers(2, 5, nl))
    qty[cat.fulfil[prod] == FULFIL.index("service")] = 1
    ccy = w.currency[cust]
    unit = np.round(cat.price[prod] * w.fx[cust][line_order] * rng.uniform(0.92, 1.08, nl), 2)
    line_total = unit * qty
    subtotal = np.bincount(line_order, weights=line_total, minlength=m)
    disc = np.where(rng.random(m) < 0.22, np.round(subtotal * rng.uniform(0.05, 0.25, m), 2), 0.0)
    total = np.round(subtotal - disc, 2)
    # channel
    ch_w = np.array(sec.order_channels, dtype=float)
    ch = rng.choice(4, size=m, p=ch_w / ch_w.sum())
    store = ch == V.ORDER_CHANNELS.index("store")
    ship = (ful == FULFIL.index("ship")) & ~store
    service = ful == FULFIL.index("service")
    instant = ~ship & ~service  # digital or carried out of the store
    cancelled = (rng.random(m) < sec.cancel_rate) & ~store & ~instant
    cancel_ts = np.where(cancelled, ts + rng.integers(20, 20 * 60, m) * MINUTE, NULL)

    # fulfilment timeline
    ship_ts = np.full(m, NULL, dtype=np.int64)
    deliv_ts = np.full(m, NULL, dtype=np.int64)
    promised = np.full(m, NULL, dtype=np.int64)
    days_late = np.zeros(m, dtype=np.int64)
    s_ok = ship & ~cancelled
    ship_ts[s_ok] = ts[s_ok] + rng.integers(3 * 60, 50 * 60, int(s_ok.sum())) * MINUTE
    cancel_ts = np.where(cancelled & ship, np.minimum(cancel_ts, ts + 3 * HOUR), cancel_ts)
    transit = rng.integers(2, 6, m)
    promised_day = (ship_ts - 0) // US_PER_DAY + transit
    promised[s_ok] = promised_day[s_ok] * US_PER_DAY + 20 * HOUR
    p_late = sec.late_rate * (1 + 1.5 * w.peak(d))
    late = s_ok & (rng.random(m) < p_late)
    days_late[late] = 1 + rng.geometric(1 / max(sec.late_days_mean, 1.01), int(late.sum())) - 1
    days_late = np.minimum(days_late, 21)
    late &= days_late > 0
    on_time_ts = promised - rng.integers(2 * 60, 30 * 60, m) * MINUTE
    on_time_ts = np.maximum(on_time_ts, ship_ts + 10 * HOUR)
    late_ts = promised + days_late * US_PER_DAY - rng.integers(0, 8 * 60, m) * MINUTE
    deliv_ts[s_ok] = np.where(late, late_ts, on_time_ts)[s_ok]
    # in store, digital: delivered at once
    deliv_ts[instant] = ts[instant] + np.where(store[instant], 0, rng.integers(1, 10, int(instant.sum())) * MINUTE)
    # service orders: an appointment, sometimes postponed by the company
    sv = service & ~cancelled
    appt = (ts // US_PER_DAY + rng.integers(2, 22, m)) * US_PER_DAY + (
        (rng.integers(8, 18, m) - w.tz[cust]) % 24
    ) * HOUR
    delayed = sv & (rng.random(m) < sec.service_delay_rate)
    notice = ts + ((appt - ts) * rng.uniform(0.2, 0.9, m)).astype(np.int64)
    appt2 = appt + rng.integers(2, 15, m) * US_PER_DAY
    final_appt = np.where(delayed, appt2, appt)
    deliv_ts[sv] = (final_appt + rng.integers(20, 75, m) * MINUTE)[sv]
    promised[sv] = appt[sv]
    cancel_ts = np.where(
        cancelled & service, ts + ((appt - ts) * rng.uniform(0.1, 0.95, m)).astype(np.int64), cancel_ts
    )

    # defects and returns per line
    delivered_line = np.isin(line_order, np.nonzero(ship & ~cancelled)[0])
    ldeliv = deliv_ts[line_order]
    defect = delivered_line & (rng.random(nl) < cat.defect[prod])
    defect_ts = np.where(defect, ldeliv + rng.integers(10, 3 * 24 * 60, nl) * MINUTE, NULL)
    r_def = defect & (rng.random(nl) < 0.8)
    r_wrong = delivered_line & ~defect & (rng.random(nl) < 0.008)
    r_desc = delivered_line & ~defect & ~r_wrong & (rng.random(nl) < 0.012)
    r_late = delivered_line & (days_late[line_order] >= 5) & ~defect & ~r_wrong & (rng.random(nl) < 0.2)
    r_mind = delivered_line & ~(r_def | r_wrong | r_desc | r_late) & (rng.random(nl) < sec.changed_mind_rate)
    reason = np.full(nl, -1, dtype=np.int64)
    ret_ts = np.full(nl, NULL, dtype=np.int64)
    for mask, rname, base_ts, lo, hi in (
        (r_def, "defective", defect_ts, 1, 10),
        (r_wrong, "wrong_item", ldeliv, 1, 5),
        (r_desc, "not_as_described", ldeliv, 1, 12),
        (r_late, "late", ldeliv, 0, 4),
        (r_mind, "changed_mind", ldeliv, 2, 25),
    ):
        if mask.any():
            reason[mask] = V.RETURN_REASONS.index(rname)
            ret_ts[mask] = base_ts[mask] + rng.integers(lo * 24 * 60 + 30, hi * 24 * 60 + 60, int(mask.sum())) * MINUTE
    returned_line = ret_ts != NULL
    first_ret = np.full(m, np.iinfo(np.int64).max)
    np.minimum.at(first_ret, line_order[returned_line], ret_ts[returned_line])
    order_ret = np.where(first_ret == np.iinfo(np.int64).max, NULL, first_ret)

    # ---- rows: orders (one version per day of change) -------------------------------------------
    st = V.ORDER_STATUS
    stage_ts = np.stack(
        [ts, np.where(ship, ship_ts, NULL), deliv_ts, order_ret, np.where(cancelled, cancel_ts, NULL)], axis=1
    )
    stage_ts[cancelled, 1:4] = NULL
    stage_status = np.array([st.index(x) for x in ("placed", "shipped", "delivered", "returned", "cancelled")])
    base = {"order_id": oid, "customer_id": cust, "ordered_at": ts, "channel": ch, "currency": ccy,
            "order_total": total, "discount_amount": disc}  # fmt: skip
    # order by time: cancelled orders never ship; service orders have no shipped stage
    emit_versions(w, "orders", stage_ts, base,
        lambda j, sel: {"status": np.full(len(sel), stage_status[j]), "updated_at": stage_ts[sel, j]},
    )  # fmt: skip

    # ---- order lines -----------------------------------------------------------------------------------
    lid = w.ids("order_item", nl)
    line_cols = {
        "order_item_id": lid, "order_id": oid[line_order], "ordered_at": ts[line_order], "product_id": prod,
        "product_category": cat.cat_names.take(pa.array(cat.cat[prod])), "quantity": qty, "unit_price": unit,
    }  # fmt: skip
    # a line is sent on the order day, again when a defect is reported and again when it is returned
    lts = ts[line_order]
    stage_ts = np.stack([lts, defect_ts, ret_ts], axis=1)
    emit_versions(
        w, "order_items", stage_ts, line_cols,
        lambda j, sel: {
            "updated_at": stage_ts[sel, j],
            "is_defective": (defect[sel] & (j >= 1)).astype(np.int8) if j < 2 else defect[sel].astype(np.int8),
            "returned_at": ret_ts[sel] if j == 2 else np.full(len(sel), NULL),
            "return_reason": reason[sel] if j == 2 else np.full(len(sel), NULL),
        },
    )  # fmt: skip

    # ---- shipments ----------------------------------------------------------------------------------
    sidx = np.nonzero(s_ok)[0]
    if len(sidx):
        sid = w.ids("shipment", len(sidx))
        carrier = _carriers(w, cust[sidx])
        sbase = {"shipment_id": sid, "order_id": oid[sidx], "carrier": carrier, "shipped_at": ship_ts[sidx],
                 "promised_delivery_at": promised[sidx]}  # fmt: skip
        sst = np.stack([ship_ts[sidx], deliv_ts[sidx]], axis=1)
        emit_versions(w, "shipments", sst, sbase,
            lambda j, sel: {"updated_at": sst[sel, j], "delivered_at": sst[sel, 1] if j == 1 else np.full(len(sel), NULL)},
        )  # fmt: skip
        # emotional consequences of delivery
        lt = sidx[late[sidx]]
        if len(lt):
            sid_late = sid[late[sidx]]
            reps = days_late[lt]
            rep_i = np.repeat(np.arange(len(lt)), reps)
            j = np.arange(len(rep_i)) - np.repeat(np.cumsum(reps) - reps, reps)
            pday = w.day_of(promised[lt])
            w.event(
                np.repeat(promised[lt], reps), cust[lt][rep_i], "late_delivery", magnitude=1.0,
                related_entity="shipment", related=sid_late[rep_i], record=j == 0,
                impulse_day=pday[rep_i] + j, truth_magnitude=reps[rep_i].astype(np.float32),
            )  # fmt: skip
            # customers chase late parcels
            c = cust[lt]
            p = np.minimum(0.85, 0.12 + 0.12 * days_late[lt]) * w.contact_prop[c]
            ask = rng.random(len(lt)) < p
            at = promised[lt] + (rng.uniform(1.1, np.maximum(1.5, days_late[lt] + 0.5)) * US_PER_DAY).astype(np.int64)
            at = np.minimum(at, deliv_ts[lt] + 2 * US_PER_DAY)
            sofar = np.maximum(1, (at - promised[lt]) // US_PER_DAY)
            w.contact(at[ask], c[ask], "late_delivery", order=oid[lt][ask], product=cat.kind[first[lt]][ask],
                      days=sofar[ask], date=promised[lt][ask])  # fmt: skip
        ok = sidx[~late[sidx]]
        w.event(deliv_ts[ok], cust[ok], "smooth_delivery", related_entity="shipment", related=sid[~late[sidx]])
    sv_ok = np.nonzero(sv & ~delayed)[0]
    w.event(deliv_ts[sv_ok], cust[sv_ok], "smooth_delivery", related_entity="order", related=oid[sv_ok])
    dl = np.nonzero(delayed)[0]
    if len(dl):
        w.event(notice[dl], cust[dl], "service_delay", related_entity="order", related=oid[dl])
        ask = dl[rng.random(len(dl)) < 0.4 * w.contact_prop[cust[dl]]]
        w.contact(notice[ask] + rng.integers(1, 24, len(ask)) * HOUR, cust[ask], "service_delay", order=oid[ask],
                  product=cat.kind[first[ask]], date=appt2[ask])  # fmt: skip
    res = np.nonzero(sv & cat.results[first])[0]
    w.event(deliv_ts[res], cust[res], "health_worry", related_entity="order", related=oid[res])
    if w.sector.name == "healthcare":
        _reminder_calls(w, cust[sv_ok], final_appt[sv_ok])

    # defects
    dfl = np.nonzero(defect)[0]
    if len(dfl):
        c = cust[line_order[dfl]]
        w.event(defect_ts[dfl], c, "defective_item", related_entity="order_item", related=lid[dfl])
        ask = rng.random(len(dfl)) < 0.55 * w.contact_prop[c]
        w.contact(defect_ts[dfl][ask] + rng.integers(1, 36, int(ask.sum())) * HOUR, c[ask], "defective_item",
                  order=oid[line_order[dfl]][ask], product=cat.kind[prod[dfl]][ask])  # fmt: skip
    wr = np.nonzero(r_wrong)[0]
    if len(wr):
        c = cust[line_order[wr]]
        ask = rng.random(len(wr)) < 0.7
        w.contact(ldeliv[wr][ask] + rng.integers(1, 48, int(ask.sum())) * HOUR, c[ask], "wrong_item",
                  order=oid[line_order[wr]][ask], product=cat.kind[prod[wr]][ask])  # fmt: skip

    # ---- payments -----------------------------------------------------------------------------------
    method = _methods(w, cust)
    pay_now = ~service
    pn = np.nonzero(pay_now)[0]
    fail_first = rng.random(len(pn)) < 0.03
    ff = pn[fail_first]
    rows_ts = [ts[pn] + rng.integers(5, 90, len(pn)) * US_PER_S, ts[ff] + rng.integers(1, 4, len(ff)) * US_PER_S]
    pays = {
        "cust": [cust[pn], cust[ff]], "order": [oid[pn], oid[ff]], "ts": rows_ts, "amount": [total[pn], total[ff]],
        "ccy": [ccy[pn], ccy[ff]], "method": [method[pn], method[ff]],
        "status": [np.full(len(pn), V.PAYMENT_STATUS.index("succeeded")), np.full(len(ff), V.PAYMENT_STATUS.index("failed"))],
    }  # fmt: skip
    if len(ff):
        w.event(rows_ts[1], cust[ff], "payment_failed", magnitude=0.5, related_entity="order", related=oid[ff])
    # service orders are billed after the visit; some bills are a nasty surprise
    bill = np.nonzero(sv)[0]
    if len(bill):
        bill_ts = (
            deliv_ts[bill] + rng.integers(1, 20, len(bill)) * US_PER_DAY + rng.integers(0, 86400, len(bill)) * US_PER_S
        )
        surprise = rng.random(len(bill)) < w.sector.billing_surprise_rate
        amount = np.where(surprise, np.round(total[bill] * rng.uniform(1.5, 2.6, len(bill)), 2), total[bill])
        for k, v in (("cust", cust[bill]), ("order", oid[bill]), ("ts", bill_ts), ("amount", amount),
                     ("ccy", ccy[bill]), ("method", method[bill]),
                     ("status", np.full(len(bill), V.PAYMENT_STATUS.index("succeeded")))):  # fmt: skip
            pays[k].append(v)
        sp = np.nonzero(surprise)[0]
        if len(sp):
            w.event(bill_ts[sp], cust[bill[sp]], "billing_surprise", related_entity="order", related=oid[bill[sp]])
            ask = sp[rng.random(len(sp)) < 0.5 * w.contact_prop[cust[bill[sp]]]]
            w.contact(bill_ts[ask] + rng.integers(2, 72, len(ask)) * HOUR, cust[bill[ask]], "billing_surprise",
                      amount=amount[ask], currency=ccy[bill[ask]], product=cat.kind[first[bill[ask]]],
                      order=oid[bill[ask]])  # fmt: skip
    # refunds: cancellations and returns
    cn = np.nonzero(cancelled & pay_now)[0]
    for k, v in (("cust", cust[cn]), ("order", oid[cn]), ("ts", cancel_ts[cn] + rng.integers(1, 120, len(cn)) * MINUTE),
                 ("amount", -total[cn]), ("ccy", ccy[cn]), ("method", method[cn]),
                 ("status", np.full(len(cn), V.PAYMENT_STATUS.index("refunded")))):  # fmt: skip
        pays[k].append(v)
    ro = np.nonzero(order_ret != NULL)[0]
    if len(ro):
        refund_value = np.bincount(line_order[returned_line], weights=line_total[returned_line], minlength=m)[ro]
        refund_value = np.minimum(np.round(refund_value, 2), total[ro])
        slow = rng.random(len(ro)) < 0.15
        delay = np.where(slow, rng.integers(10, 25, len(ro)), rng.integers(1, 6, len(ro))) * US_PER_DAY
        rts = order_ret[ro] + delay
        for k, v in (("cust", cust[ro]), ("order", oid[ro]), ("ts", rts), ("amount", -refund_value), ("ccy", ccy[ro]),
                     ("method", method[ro]), ("status", np.full(len(ro), V.PAYMENT_STATUS.index("refunded")))):  # fmt: skip
            pays[k].append(v)
        ask = np.nonzero(slow & (rng.random(len(ro)) < 0.6))[0]
        w.contact(order_ret[ro[ask]] + 9 * US_PER_DAY, cust[ro[ask]], "refund_status", order=oid[ro[ask]],
                  amount=refund_value[ask], currency=ccy[ro[ask]], product=cat.kind[first[ro[ask]]])  # fmt: skip
    pcols = {k: np.concatenate(v) for k, v in pays.items()}
    pcols["ts"] = np.maximum(pcols["ts"], 0)
    pid = w.ids("payment", len(pcols["ts"]))
    w.writer.add(
        "payments",
        w.day_of(pcols["ts"]),
        {"payment_id": pid, "customer_id": pcols["cust"], "order_id": pcols["order"], "paid_at": pcols["ts"],
         "amount": pcols["amount"], "currency": pcols["ccy"], "method": pcols["method"], "status": pcols["status"]},
    )  # fmt: skip

    # ---- e-mails, reviews, surveys, loyalty ------------------------------------------------------------
    engagement.transactional(w, cust, ts + 40 * US_PER_S, "tx-order-confirmation", 0.55)
    if len(sidx):
        engagement.transactional(w, cust[sidx], ship_ts[sidx] + 5 * MINUTE, "tx-shipping-update", 0.5)
    if w.sector.name == "healthcare" and len(sv_ok):
        engagement.transactional(w, cust[sv_ok], final_appt[sv_ok] - 26 * HOUR, "tx-appointment-reminder", 0.6)
    done = np.nonzero((deliv_ts != NULL) & ~cancelled)[0]
    rv_ts = deliv_ts[done] + rng.integers(1, 12, len(done)) * US_PER_DAY + rng.integers(0, 86400, len(done)) * US_PER_S
    w.q["review"].put(w.day_of(rv_ts), cust=cust[done], order=oid[done], product=first[done], ts=rv_ts)
    inv = done[rng.random(len(done)) < 0.2]
    inv_ts = deliv_ts[inv] + rng.integers(2, 30, len(inv)) * HOUR
    engagement.invite(
        w, cust[inv], inv_ts, np.where(rng.random(len(inv)) < 0.5, 0, 1), "post_purchase", "order", oid[inv]
    )
    w.order_count[cust] += 1
    w.last_order_day[cust] = d
    milestone = cust[(w.order_count[cust] % 5 == 0)]
    if len(milestone):
        mts = w.ts0 + 21 * HOUR + rng.integers(0, 3000, len(milestone)) * US_PER_S
        w.event(mts, milestone, "loyalty_reward")
        up = milestone[w.loyalty[milestone] < 2]
        w.loyalty[up] += 1
        w.customer_changed(mts[np.isin(milestone, up)], up)
    web = (ch == V.ORDER_CHANNELS.index("web")) | (ch == V.ORDER_CHANNELS.index("app"))
    w.today_web_orders = (cust[web], ts[web])


def _carriers(w, cust: np.ndarray) -> np.ndarray:
    by_country = {
        "US": ("UPS", "FedEx", "USPS"), "GB": ("Royal Mail", "DPD", "DHL"), "CA": ("Canada Post", "UPS", "FedEx"),
        "AU": ("Australia Post", "DHL"), "IE": ("DPD", "DHL"), "NZ": ("NZ Post", "DHL"), "ES": ("Correos", "DHL", "DPD"),
        "MX": ("Estafeta", "DHL", "FedEx"), "AR": ("Correo Argentino", "DHL"), "CO": ("Servientrega", "DHL"),
        "BR": ("Correios", "DHL", "FedEx"), "PT": ("CTT", "DPD", "DHL"),
    }  # fmt: skip
    opts = [by_country[c] for c in V.COUNTRIES]
    width = max(len(o) for o in opts)
    table = np.array([[V.CARRIERS.index(o[i % len(o)]) for i in range(width)] for o in opts])
    cnt = np.array([len(o) for o in opts])
    c = w.country[cust]
    return table[c, (w.rng.random(len(cust)) * cnt[c]).astype(np.int64)]


def _reminder_calls(w, cust: np.ndarray, appt: np.ndarray) -> None:
    rng = w.rng
    sel = rng.random(len(cust)) < 0.3
    cust, appt = cust[sel], appt[sel]
    if not len(cust):
        return
    ts = appt - (rng.integers(18, 30, len(cust)) * HOUR)
    keep = ts > w.ts0
    cust, ts = cust[keep], ts[keep]
    if not len(cust):
        return
    agent = w.pick_agents(ts, w.lang[cust], np.full(len(cust), V.TEAMS.index("tier1")))
    w.writer.add(
        "calls",
        w.day_of(ts),
        {
            "call_id": w.ids("call", len(cust)), "customer_id": cust, "agent_id": agent, "started_at": ts,
            "direction": np.full(len(cust), V.CALL_DIRECTIONS.index("outbound")),
            "queue": pa.array(["appointments"] * len(cust), pa.string()), "wait_seconds": np.zeros(len(cust), dtype=np.int64),
            "duration_seconds": rng.integers(30, 150, len(cust)),
            "outcome": np.where(rng.random(len(cust)) < 0.8, V.CALL_OUTCOMES.index("resolved"), V.CALL_OUTCOMES.index("callback")),
        },
    )  # fmt: skip
