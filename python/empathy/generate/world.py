"""The demo world: customers with a latent emotional state, simulated day by day.

Each simulated day:

1. event intensities decay (each event type has its half-life) and life noise moves;
2. valence, arousal and the dominant emotion are computed for every customer;
3. new customers arrive; behaviour is drawn from the state (orders, subscriptions and billing,
   contacts and tickets, e-mail, web, surveys, reviews, social posts, consent changes, churn);
4. the events of the day (late parcels, defects, resolutions, price increases, over-contact, ...) are
   applied to the state, so they shape behaviour from the next day on, and are recorded as ground truth.

Everything is vectorised over customers (or over the day's orders, tickets, e-mails, ...). Future
record versions (an order shipping, a ticket being solved) are queued for the day they happen.
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from collections import defaultdict
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from empathy import contract
from empathy.generate import activation, commerce, engagement, support
from empathy.generate import effects as E
from empathy.generate import phrases as P
from empathy.generate import vocab as V
from empathy.generate.schedule import Queue
from empathy.generate.sectors import PERSONA_BASELINES, PERSONAS, SectorPreset
from empathy.generate.text import CAUSE, Texts
from empathy.generate.truth import TruthWriter
from empathy.generate.writer import NULL, US_PER_DAY, US_PER_S, LandingWriter, _take

HOUR = 3600 * US_PER_S
MINUTE = 60 * US_PER_S
EPOCH = dt.date(1970, 1, 1)

# Local hour-of-day activity profile (customers are active in their own time zone).
DIURNAL = np.array([0.6, 0.3, 0.2, 0.15, 0.15, 0.3, 0.8, 1.6, 2.6, 3.4, 3.8, 4.0, 4.2, 4.0, 3.9, 3.9, 4.0, 4.3,
                    4.8, 5.4, 5.6, 5.0, 3.6, 1.8])  # fmt: skip
DIURNAL_CDF = np.cumsum(DIURNAL) / DIURNAL.sum()

CONSENT_TYPES = V.CONSENT_TYPES
EMAIL_SERVICE, EMAIL_MARKETING, SMS_MARKETING, PROFILING, RESEARCH = range(len(CONSENT_TYPES))

TABLES = [t.name for t in contract.TABLES]
FLUSH_ROWS = 1_500_000


def _ascii(s: str) -> str:
    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode().lower().replace(" ", "")


def _flat_index(rng: np.random.Generator, lists: list, lang: np.ndarray) -> np.ndarray:
    """Random index into the concatenation of per-language lists, within each row's language."""
    sizes = np.array([len(x) for x in lists])
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    return offsets[lang] + (rng.random(len(lang)) * sizes[lang]).astype(np.int64)


def _pick_by_lang(rng: np.random.Generator, lists: list, lang: np.ndarray) -> pa.Array:
    flat = pa.array([x for lst in lists for x in lst], pa.string())
    return flat.take(pa.array(_flat_index(rng, lists, lang)))


class World:
    def __init__(
        self,
        out,
        customers: int,
        days: int,
        seed: int,
        sector: SectorPreset,
        end_date: dt.date,
        progress: Callable[[str, float], None] | None = None,
    ):
        self.out = out
        self.N = int(customers)
        self.D = int(days)
        self.sector = sector
        self.progress = progress
        self.end_date = end_date
        self.start = end_date - dt.timedelta(days=days - 1)
        self.t0 = (self.start - EPOCH).days * US_PER_DAY
        self.t_end = self.t0 + self.D * US_PER_DAY
        ss = np.random.SeedSequence([int(seed), len(sector.name), sum(map(ord, sector.name))])
        s_sim, s_text, s_cust = ss.spawn(3)
        self.rng = np.random.default_rng(s_sim)
        self.trng = np.random.default_rng(s_text)
        self.counters: dict[str, int] = defaultdict(int)
        self.writer = LandingWriter(out, self.start, self.D, TABLES)
        self.truth = TruthWriter(out / "_truth", self)
        self.q = {
            name: Queue(self.D)
            for name in ("event", "contact", "followup", "review", "invite", "customer_update", "gift")
        }
        self._init_customers(np.random.default_rng(s_cust))
        self._init_agents()
        self.texts = Texts(sector, self.first_name, self.agent_first, [p.name for p in sector.plans])
        commerce.init(self)
        engagement.init(self)
        support.init(self)
        # past activation draws from its own stream (spawned after the others, which stay as they were)
        (s_act,) = ss.spawn(1)
        self.activation = activation.Activation(self, np.random.default_rng(s_act))

    # ---------------------------------------------------------------------------------------------
    # ids and time helpers
    def ids(self, entity: str, n: int) -> np.ndarray:
        a = self.counters[entity]
        self.counters[entity] = a + n
        return np.arange(a, a + n, dtype=np.int64)

    def day_of(self, ts: np.ndarray) -> np.ndarray:
        """Partition day index of timestamps (pre-window timestamps land on day 0)."""
        return np.maximum((np.asarray(ts) - self.t0) // US_PER_DAY, 0)

    def tod(self, cust: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        """A time of day (us since the UTC day start) following the customers' local activity profile."""
        rng = rng or self.rng
        n = len(cust)
        hour = np.searchsorted(DIURNAL_CDF, rng.random(n))
        local = hour * 3600 + (rng.random(n) * 3600).astype(np.int64)
        utc = (local - self.tz[cust].astype(np.int64) * 3600) % 86400
        return utc * US_PER_S

    def clamp_day(self, ts: np.ndarray, day_start: np.ndarray | int) -> np.ndarray:
        """Keep timestamps inside their day (for same-day follow-on events)."""
        return np.minimum(ts, np.asarray(day_start) + US_PER_DAY - 1 * US_PER_S)

    def weekday(self, d: int) -> int:
        return ((self.t0 // US_PER_DAY) + d + 3) % 7

    def season(self, d: int) -> float:
        doy = (self.start + dt.timedelta(days=d)).timetuple().tm_yday
        return 1.0 + 0.35 * math.exp(-(((doy - 332) / 12) ** 2)) + 0.2 * math.exp(-(((doy - 352) / 8) ** 2))

    def peak(self, d: int) -> float:
        return self.season(d) - 1.0

    # ---------------------------------------------------------------------------------------------
    def _init_customers(self, rng: np.random.Generator) -> None:
        N, sec = self.N, self.sector
        rows = V.COUNTRY_ROWS
        w = np.array([r[6] for r in rows])
        row = rng.choice(len(rows), size=N, p=w / w.sum())
        # arrivals: ~62% existed before the window (up to three years), the rest arrive with growth
        pre = rng.random(N) < 0.62
        created = np.empty(N, dtype=np.int64)
        npre = int(pre.sum())
        created[pre] = self.t0 - (rng.random(npre) * 3 * 365 * US_PER_DAY).astype(np.int64) - US_PER_S
        u = rng.random(N - npre)
        frac = np.where(rng.random(N - npre) < 0.5, u, np.sqrt(u))
        created[~pre] = self.t0 + (frac * self.D * US_PER_DAY).astype(np.int64)
        order = np.argsort(created, kind="stable")  # customer ids follow creation order
        created, row = created[order], row[order]
        self.created_ts = created
        self.created_day = self.day_of(created)
        self.row = row
        self.lang = np.array([r[1] for r in rows], dtype=np.int8)[row]
        self.country = np.array([V.COUNTRIES.index(r[0]) for r in rows], dtype=np.int8)[row]
        self.locale = np.array([V.LOCALES.index(r[2]) for r in rows], dtype=np.int8)[row]
        self.region = np.array([V.REGIONS.index(r[3]) for r in rows], dtype=np.int8)[row]
        self.currency = np.array([V.CURRENCIES.index(r[4]) for r in rows], dtype=np.int8)[row]
        self.tz = np.array([r[5] for r in rows], dtype=np.int8)[row]
        self.fx = np.array(V.FX)[self.currency]

        pw = np.array(sec.persona_weights)
        self.persona = rng.choice(len(PERSONAS), size=N, p=pw / pw.sum()).astype(np.int8)
        mv = np.array([PERSONA_BASELINES[p][0] for p in PERSONAS])[self.persona]
        ma = np.array([PERSONA_BASELINES[p][1] for p in PERSONAS])[self.persona]
        buy = np.array([PERSONA_BASELINES[p][2] for p in PERSONAS])[self.persona]
        self.anxious = self.persona == PERSONAS.index("anxious")
        self.base_v = np.clip(mv + rng.normal(0, 0.12, N), -0.8, 0.85).astype(np.float32)
        latin = self.lang != V.EN
        self.base_a = np.clip(ma + 0.05 * latin + rng.normal(0, 0.08, N), 0.05, 0.9).astype(np.float32)
        self.expressive = (np.where(latin, 1.4, 1.0) * rng.lognormal(0, 0.25, N)).astype(np.float32)
        # behavioural propensities
        self.buy_rate = (sec.orders_per_year / 365 * buy * rng.lognormal(-0.245, 0.7, N)).astype(np.float32)
        self.web_rate = (sec.web_sessions_per_year / 365 * rng.lognormal(-0.18, 0.6, N)).astype(np.float32)
        self.open_logit = rng.normal(-1.0, 0.9, N).astype(np.float32)
        self.contact_prop = rng.lognormal(-0.125, 0.5, N).astype(np.float32)
        self.device = rng.choice(4, size=N, p=[0.45, 0.33, 0.07, 0.15]).astype(np.int8)  # desktop, mobile, tablet, app
        self.high_freq = rng.random(N) < sec.high_frequency_share

        # demographics and firmographics
        business = rng.random(N) < sec.business_share
        self.segment = business.astype(np.int8)  # consumer, business
        g = rng.choice(5, size=N, p=[0.48, 0.44, 0.015, 0.04, 0.025])
        self.gender = np.where(g == 4, NULL, g)
        self.gender[business] = np.where(rng.random(int(business.sum())) < 0.7, NULL, V.GENDERS.index("unknown"))
        ref_year = self.end_date.year
        age = np.clip(rng.normal(43, 15, N), 18, 92).astype(np.int64)
        known = rng.random(N)
        self.birth_year = np.where(known < 0.68, ref_year - age, NULL)
        band = np.searchsorted(np.array([25, 35, 45, 55, 65]), age, side="right")
        self.age_band = np.where((known >= 0.68) & (known < 0.9), band, NULL)
        self.birth_year[business] = NULL
        self.age_band[business] = NULL
        self.age = age
        self.industry = np.where(business, rng.integers(0, len(V.INDUSTRIES), N), NULL)
        self.company_size = np.where(business, rng.choice(5, size=N, p=[0.35, 0.3, 0.2, 0.1, 0.05]), NULL)
        cw = [P.COMPANY_WORDS[lang] for lang in V.LANGS]
        words = _pick_by_lang(rng, [c[0] for c in cw], self.lang)
        sufs = _pick_by_lang(rng, [c[1] for c in cw], self.lang)
        names = pc.binary_join_element_wise(words, sufs, " ")
        self.company_name = pc.if_else(pa.array(business), names, pa.nulls(N, pa.string()))
        acq_w = np.array([0.22, 0.16, 0.14, 0.1, 0.08, 0.06, 0.08 if sec.order_channels[2] > 0 else 0.0, 0.04, 0.12])
        self.acquisition = rng.choice(len(V.ACQUISITION_CHANNELS), size=N, p=acq_w / acq_w.sum()).astype(np.int8)
        self.loyalty = np.where(pre, rng.choice(3, size=N, p=[0.6, 0.28, 0.12]), 0).astype(np.int8)
        self.household = np.clip(rng.poisson(1.6, N) + 1, 1, 8).astype(np.int64)
        self.household[business] = NULL

        # names (text) and e-mail addresses
        first_flat = pa.array([n for lang in V.LANGS for n in P.FIRST_NAMES[lang]], pa.string())
        fi = _flat_index(rng, [P.FIRST_NAMES[lang] for lang in V.LANGS], self.lang)
        li = _flat_index(rng, [P.LAST_NAMES[lang] for lang in V.LANGS], self.lang)
        self.first_name = first_flat.take(pa.array(fi))
        first_ascii = pa.array([_ascii(n) for lang in V.LANGS for n in P.FIRST_NAMES[lang]], pa.string())
        last_ascii = pa.array([_ascii(n) for lang in V.LANGS for n in P.LAST_NAMES[lang]], pa.string())
        num = pc.cast(pa.array(rng.integers(1, 9999, N)), pa.string())
        domains = pa.array(["example.com", "example.org", "example.net", "mail.example"], pa.string())
        dom = domains.take(pa.array(rng.integers(0, len(domains), N)))
        local = pc.binary_join_element_wise(first_ascii.take(pa.array(fi)), last_ascii.take(pa.array(li)), ".")
        email = pc.binary_join_element_wise(pc.binary_join_element_wise(local, num, ""), dom, "@")
        self.has_email = rng.random(N) < 0.96
        self.email = pc.if_else(pa.array(self.has_email), email, pa.nulls(N, pa.string()))
        self.email_ok = self.has_email & (rng.random(N) >= 0.015)  # a few addresses bounce
        self.handle_num = rng.integers(10, 999, N)
        self.handle_base = first_ascii.take(pa.array(fi))
        self.customer_updated = created.copy()

        # consents at sign-up
        nct = len(CONSENT_TYPES)
        grant = rng.random((N, nct)) < np.array([c[2] for c in CONSENT_TYPES])
        grant[:, EMAIL_SERVICE] &= self.has_email
        grant[:, EMAIL_MARKETING] &= self.has_email
        grant[:, RESEARCH] &= self.has_email
        self.consent_granted = grant
        self.consent_revoked = np.zeros((N, nct), dtype=bool)
        self.consent_id = np.full((N, nct), -1, dtype=np.int64)
        self.consent_ts = np.full((N, nct), NULL, dtype=np.int64)
        self.consent_source = rng.choice(len(V.CONSENT_SOURCES), size=(N, nct), p=[0.4, 0.25, 0.05, 0.05, 0.2, 0.05])
        self.consent_source = self.consent_source.astype(np.int8)
        self.consent_delay = (rng.random((N, nct)) * 600 * US_PER_S).astype(np.int64)

        # dynamic state
        K = E.K
        self.S = np.zeros((K, N), dtype=np.float32)
        self.noise = rng.normal(0, 0.1, N).astype(np.float32)
        self.churned = np.zeros(N, dtype=bool)
        self.churn_ts = np.full(N, NULL, dtype=np.int64)
        self.order_count = np.zeros(N, dtype=np.int32)
        self.last_order_day = np.full(N, -10_000, dtype=np.int32)
        self.mk_ring = np.zeros((7, N), dtype=np.int8)
        self.last_oc_day = np.full(N, -10_000, dtype=np.int32)
        self.open_tickets = np.zeros(N, dtype=np.int16)
        self.v = self.base_v.copy()
        self.a = self.base_a.copy()
        self.emo = np.full(N, E.EMO["neutral"], dtype=np.int8)
        self.arrived_through = -1

    def _init_agents(self) -> None:
        rng = self.rng
        A = max(5, round(self.N / 150))
        self.A = A
        exp_years = np.clip(rng.lognormal(1.1, 0.7, A), 0.1, 40)
        self.agent_exp = np.round(exp_years, 1)
        self.agent_qa = np.round(np.clip(rng.normal(74 + 1.2 * np.sqrt(exp_years), 8, A), 30, 100), 1)
        self.agent_emp = np.round(
            np.clip(rng.normal(62 + 0.35 * (self.agent_qa - 74) + 1.5 * np.sqrt(exp_years), 12, A), 10, 100), 1
        )
        team = rng.choice(4, size=A, p=[0.55, 0.25, 0.12, 0.08])
        team[np.argsort(-exp_years)[: max(1, A // 10)]] = V.TEAMS.index("senior")
        team[0], team[1] = V.TEAMS.index("tier1"), V.TEAMS.index("retention")
        self.agent_team = team.astype(np.int8)
        speaks = np.zeros((A, 3), dtype=bool)
        speaks[:, 0] = True
        speaks[:, 1] = rng.random(A) < 0.22
        speaks[:, 2] = rng.random(A) < 0.16
        speaks[2, 1] = True
        speaks[3, 2] = True
        self.agent_speaks = speaks
        native = np.where(speaks[:, 2] & (rng.random(A) < 0.7), 2, np.where(speaks[:, 1] & (rng.random(A) < 0.7), 1, 0))
        # hiring and leaving
        hired = self.t0 - (exp_years * 0.7 * 365 * US_PER_DAY).astype(np.int64) - US_PER_DAY
        new = rng.random(A) < 0.1
        new[:5] = False
        hired[new] = self.t0 + (rng.random(int(new.sum())) * self.D * 0.8 * US_PER_DAY).astype(np.int64)
        self.agent_hired = hired
        leave = ~new & (rng.random(A) < 0.06)
        leave[:5] = False
        self.agent_left = np.where(
            leave, self.t0 + (rng.random(A) * self.D * US_PER_DAY).astype(np.int64), np.iinfo(np.int64).max
        )
        fi = _flat_index(rng, [P.FIRST_NAMES[lang] for lang in V.LANGS], native)
        li = _flat_index(rng, [P.LAST_NAMES[lang] for lang in V.LANGS], native)
        first = pa.array([n for lang in V.LANGS for n in P.FIRST_NAMES[lang]], pa.string()).take(pa.array(fi))
        last = pa.array([n for lang in V.LANGS for n in P.LAST_NAMES[lang]], pa.string()).take(pa.array(li))
        self.agent_first = first
        full = pc.binary_join_element_wise(first, last, " ")
        skills = []
        langs = []
        for i in range(A):
            ks = rng.choice(len(V.AGENT_SKILLS), size=int(rng.integers(1, 4)), replace=False)
            if team[i] == V.TEAMS.index("retention"):
                ks = np.union1d(ks, [V.AGENT_SKILLS.index("retention")])
            skills.append(",".join(V.AGENT_SKILLS[k] for k in sorted(ks)))
            langs.append(",".join(lang for lang, s in zip(V.LANGS, speaks[i], strict=True) if s))
        w = self.writer
        base = {
            "agent_id": np.arange(A), "agent_name": full, "hired_at": hired, "updated_at": hired,
            "experience_years": self.agent_exp, "skills": pa.array(skills, pa.string()),
            "languages": pa.array(langs, pa.string()), "team": self.agent_team, "qa_score": self.agent_qa,
            "empathy_score": self.agent_emp, "is_active": np.ones(A, dtype=np.int8),
        }  # fmt: skip
        w.add("agents", self.day_of(hired), base)
        left = np.nonzero(leave)[0]
        if len(left):
            upd = {k: _take(v, left) for k, v in base.items()}
            upd["updated_at"] = self.agent_left[left]
            upd["is_active"] = np.zeros(len(left), dtype=np.int8)
            w.add("agents", self.day_of(self.agent_left[left]), upd)

    # ---------------------------------------------------------------------------------------------
    def pick_agents(self, ts: np.ndarray, lang: np.ndarray, team_pref: np.ndarray) -> np.ndarray:
        """An available agent per row: hired and not gone at ``ts``, speaking the language if anyone does,
        from the preferred team when possible (team_pref: team code or -1 for any)."""
        rng = self.rng
        n = len(ts)
        out = np.empty(n, dtype=np.int64)
        if n == 0:
            return out
        # the first five agents are there for the whole window, so the pool is never empty
        active = (self.agent_hired <= ts.min()) & (self.agent_left > ts.max())
        for li in range(3):
            for tp in np.unique(team_pref):
                m = (lang == li) & (team_pref == tp)
                if not m.any():
                    continue
                cand = active & self.agent_speaks[:, li]
                if tp >= 0 and (cand & (self.agent_team == tp)).any():
                    cand = cand & (self.agent_team == tp)
                if not cand.any():
                    cand = active
                pool = np.nonzero(cand)[0]
                out[m] = pool[rng.integers(0, len(pool), int(m.sum()))]
        return out

    def event(
        self,
        ts: np.ndarray,
        cust: np.ndarray,
        kind: str,
        magnitude=1.0,
        related_entity: str | None = None,
        related: np.ndarray | None = None,
        record: bool | np.ndarray = True,
        impulse_day: np.ndarray | None = None,
        truth_magnitude=None,
    ) -> None:
        """Schedule an emotion-moving event: applied to the state at the end of its day (or ``impulse_day``)."""
        ts = np.asarray(ts, dtype=np.int64)
        n = len(ts)
        if n == 0:
            return
        keep = ts < self.t_end
        if not keep.all():
            idx = np.nonzero(keep)[0]
            ts, cust = ts[idx], np.asarray(cust)[idx]
            magnitude = np.asarray(magnitude, dtype=np.float32)[idx] if np.ndim(magnitude) else magnitude
            truth_magnitude = np.asarray(truth_magnitude)[idx] if np.ndim(truth_magnitude) else truth_magnitude
            record = np.asarray(record)[idx] if np.ndim(record) else record
            related = related[idx] if related is not None else None
            impulse_day = impulse_day[idx] if impulse_day is not None else None
            n = len(idx)
        day = self.day_of(ts) if impulse_day is None else impulse_day
        self.q["event"].put(
            day,
            cust=np.asarray(cust, dtype=np.int64),
            k=np.full(n, E.EV[kind], dtype=np.int8),
            mag=np.broadcast_to(np.asarray(magnitude, dtype=np.float32), (n,)).copy(),
            tmag=np.broadcast_to(
                np.asarray(magnitude if truth_magnitude is None else truth_magnitude, dtype=np.float32), (n,)
            ).copy(),
            ts=ts,
            rel_ent=np.full(n, -1 if related_entity is None else self.truth.entity_code(related_entity), dtype=np.int8),
            rel=np.full(n, -1, dtype=np.int64) if related is None else np.asarray(related, dtype=np.int64),
            record=np.broadcast_to(np.asarray(record, dtype=bool), (n,)).copy(),
        )

    def contact(self, ts: np.ndarray, cust: np.ndarray, cause: str | np.ndarray, **extra) -> None:
        """Schedule a customer contact (ticket, chat, call or social post) about ``cause``."""
        ts = np.asarray(ts, dtype=np.int64)
        n = len(ts)
        if n == 0:
            return
        c = np.full(n, CAUSE[cause], dtype=np.int8) if isinstance(cause, str) else np.asarray(cause, dtype=np.int8)
        cols = {
            "ts": ts, "cust": np.asarray(cust, dtype=np.int64), "cause": c,
            "order": np.full(n, -1, dtype=np.int64), "product": np.full(n, -1, dtype=np.int64),
            "amount": np.full(n, np.nan), "plan": np.full(n, -1, dtype=np.int64), "days": np.ones(n, dtype=np.int64),
            "date": np.full(n, NULL, dtype=np.int64), "outbound": np.zeros(n, dtype=bool),
            "intent": np.full(n, -1, dtype=np.int8), "currency": np.full(n, -1, dtype=np.int64),
        }  # fmt: skip
        for k, v in extra.items():
            cols[k] = np.broadcast_to(np.asarray(v), (n,)).copy() if np.ndim(v) == 0 else np.asarray(v)
        keep = ts < self.t_end
        if not keep.all():
            idx = np.nonzero(keep)[0]
            cols = {k: v[idx] for k, v in cols.items()}
        self.q["contact"].put(self.day_of(cols["ts"]), **cols)

    def customer_changed(self, ts: np.ndarray, cust: np.ndarray) -> None:
        self.q["customer_update"].put(self.day_of(ts), ts=np.asarray(ts, dtype=np.int64), cust=np.asarray(cust))

    # ---------------------------------------------------------------------------------------------
    def run(self) -> None:
        flush_every = 7
        for d in range(self.D):
            self.d = d
            self.ts0 = self.t0 + d * US_PER_DAY
            self._decay()
            self._state()
            self._arrivals(d)
            # customers act from the day after sign-up (pre-window customers from day 0)
            self.alive = (self.created_ts < self.ts0) & ~self.churned
            self.alive_idx = np.nonzero(self.alive)[0]
            self.truth.daily(d)
            commerce.orders(self, d)
            commerce.subscriptions(self, d)
            support.contacts(self, d)
            support.followups(self, d)
            engagement.emails(self, d)
            engagement.web(self, d)
            engagement.surveys(self, d)
            engagement.reviews(self, d)
            engagement.social(self, d)
            self._delights_and_life(d)
            self._consent_changes(d)
            self._customer_updates(d)
            self._churn(d)
            self.activation.decide_day(d)
            self._end_of_day(d)
            # write every week, or sooner when many rows wait (large worlds keep memory bounded)
            if (d + 1) % flush_every == 0 or d == self.D - 1 or self.writer.pending_rows > FLUSH_ROWS:
                self.writer.flush(d)
                self.truth.flush(d)
            if self.progress and (d % 5 == 0 or d == self.D - 1):
                self.progress("simulate", (d + 1) / self.D)
        self.truth.close()

    def _decay(self) -> None:
        self.S *= E.DAILY_DECAY[:, None]
        self.noise *= np.float32(E.NOISE_DECAY)
        self.noise += self.rng.normal(0, E.NOISE_STEP_SD, self.N).astype(np.float32)

    def _state(self) -> None:
        v = self.base_v + E.VALENCE_EFFECT @ self.S + self.noise
        a = self.base_a + E.AROUSAL_EFFECT @ self.S + 0.5 * np.abs(self.noise)
        self.v = np.clip(v, -1, 1).astype(np.float32)
        self.a = np.clip(a, 0, 1).astype(np.float32)
        self.emo = E.dominant_emotion(self.v, self.a, self.S, self.anxious)

    def _arrivals(self, d: int) -> None:
        lo = self.arrived_through + 1
        hi = int(np.searchsorted(self.created_day, d, side="right"))
        self.arrived_through = hi - 1
        if hi <= lo:
            return
        idx = np.arange(lo, hi)
        self.emit_customers(idx, self.created_ts[idx], d)
        # consents granted at sign-up
        g = self.consent_granted[idx]
        ci, ti = np.nonzero(g)
        cust = idx[ci]
        ids = self.ids("consent", len(cust))
        self.consent_id[cust, ti] = ids
        ts = self.created_ts[cust] + self.consent_delay[cust, ti]
        self.consent_ts[cust, ti] = ts
        self.emit_consents(cust, ti, ts)
        commerce.new_customers(self, idx)

    def emit_customers(self, idx: np.ndarray, updated: np.ndarray, day) -> None:
        pidx = pa.array(idx)
        self.writer.add(
            "customers",
            day,
            {
                "customer_id": idx, "created_at": self.created_ts[idx], "updated_at": updated,
                "email": self.email.take(pidx), "birth_year": self.birth_year[idx], "age_band": self.age_band[idx],
                "gender": self.gender[idx], "country": self.country[idx], "language": self.lang[idx],
                "locale": self.locale[idx], "region": self.region[idx], "segment": self.segment[idx],
                "company_name": self.company_name.take(pidx), "industry": self.industry[idx],
                "company_size": self.company_size[idx], "acquisition_channel": self.acquisition[idx],
                "loyalty_tier": self.loyalty[idx], "household_size": self.household[idx],
            },
        )  # fmt: skip

    def emit_consents(self, cust: np.ndarray, ctype: np.ndarray, updated: np.ndarray) -> None:
        revoked = self.consent_revoked[cust, ctype]
        self.writer.add(
            "consents",
            self.day_of(updated),
            {
                "consent_id": self.consent_id[cust, ctype], "customer_id": cust,
                "channel": np.array([V.CONSENT_CHANNELS.index(c[0]) for c in CONSENT_TYPES])[ctype],
                "purpose": np.array([V.CONSENT_PURPOSES.index(c[1]) for c in CONSENT_TYPES])[ctype],
                "granted_at": self.consent_ts[cust, ctype], "revoked_at": np.where(revoked, updated, NULL),
                "updated_at": updated, "source_system": self.consent_source[cust, ctype],
            },
        )  # fmt: skip

    def revoke(self, cust: np.ndarray, ctype: int | np.ndarray, ts: np.ndarray, source: int | None = None) -> None:
        """Revoke consents (only those granted and still in force)."""
        cust = np.asarray(cust, dtype=np.int64)
        ctype = np.broadcast_to(np.asarray(ctype, dtype=np.int64), cust.shape)
        ok = (
            self.consent_granted[cust, ctype] & ~self.consent_revoked[cust, ctype] & (self.consent_id[cust, ctype] >= 0)
        )
        cust, ctype, ts = cust[ok], ctype[ok], np.asarray(ts)[ok]
        if not len(cust):
            return
        # one revocation per (customer, type)
        key = cust * 8 + ctype
        _, first = np.unique(key, return_index=True)
        cust, ctype, ts = cust[first], ctype[first], ts[first]
        ts = np.maximum(ts, self.consent_ts[cust, ctype] + US_PER_S)
        self.consent_revoked[cust, ctype] = True
        if source is not None:
            self.consent_source[cust, ctype] = source
        self.emit_consents(cust, ctype, ts)

    def marketing_ok(self, idx: np.ndarray) -> np.ndarray:
        return (
            self.consent_granted[idx, EMAIL_MARKETING]
            & ~self.consent_revoked[idx, EMAIL_MARKETING]
            & (self.consent_id[idx, EMAIL_MARKETING] >= 0)
            & self.has_email[idx]
            & ~self.bounced[idx]
        )

    # ---------------------------------------------------------------------------------------------
    def _delights_and_life(self, d: int) -> None:
        rng = self.rng
        idx = self.alive_idx
        n = len(idx)
        if n == 0:
            return
        u = rng.random(n)
        # surprise gifts: rare and random, more often as service recovery for very unhappy customers
        p_gift = 0.0003 + 0.002 * (self.v[idx] < -0.5)
        g = idx[u < p_gift]
        due = self.q["gift"].pop(d)
        if due is not None:
            g = np.concatenate([g, due["cust"][self.alive[due["cust"]]]])
        if len(g):
            ts = self.ts0 + self.tod(g)
            self.event(ts, g, "surprise_gift")
            engagement.service_email(self, g, ts, "svc-thank-you-gift")
            thank = rng.random(len(g)) < 0.08
            self.contact(ts[thank] + rng.integers(1, 30, int(thank.sum())) * HOUR, g[thank], "surprise_gift")
        # life events (not caused by the company)
        for kind, p in (("life_up", 0.0008), ("life_down", 0.0008)):
            m = idx[rng.random(n) < p]
            if len(m):
                self.event(self.ts0 + self.tod(m), m, kind)

    def _consent_changes(self, d: int) -> None:
        """Revocations through the preference centre; more when negative and over-contacted."""
        rng = self.rng
        idx = self.alive_idx
        if not len(idx):
            return
        oc = self.S[E.EV["over_contact"], idx]
        p = 0.00012 * (1 + 5 * np.clip(-self.v[idx], 0, 1)) * (1 + 3 * np.minimum(oc, 2))
        who = idx[rng.random(len(idx)) < p]
        if len(who):
            ctype = rng.choice(
                [EMAIL_MARKETING, SMS_MARKETING, PROFILING, RESEARCH], size=len(who), p=[0.45, 0.25, 0.2, 0.1]
            )
            self.revoke(who, ctype, self.ts0 + self.tod(who), V.CONSENT_SOURCES.index("preference_centre"))

    def _customer_updates(self, d: int) -> None:
        rng = self.rng
        idx = self.alive_idx
        who = idx[rng.random(len(idx)) < 0.0004]
        if len(who):
            # a household change or a new e-mail address recorded in the CRM
            u = rng.random(len(who))
            hh = who[(u < 0.5) & (self.household[who] != NULL)]
            self.household[hh] = np.clip(self.household[hh] + rng.choice([-1, 1], len(hh)), 1, 8)
            em = who[(u >= 0.5) & self.has_email[who]]
            if len(em):
                fresh = pc.replace_substring(self.email.take(pa.array(em)), "@", f"{d % 10}@", max_replacements=1)
                index = np.arange(self.N)
                index[em] = self.N + np.arange(len(em))
                self.email = pa.concat_arrays([self.email, fresh]).take(pa.array(index))
            self.customer_changed(self.ts0 + self.tod(who), who)
        due = self.q["customer_update"].pop(d)
        if due is None:
            return
        cust, ts = due["cust"], due["ts"]
        order = np.lexsort((ts, cust))
        cust, ts = cust[order], ts[order]
        last = np.r_[cust[1:] != cust[:-1], True]  # latest change of the day per customer
        cust, ts = cust[last], ts[last]
        ts = np.maximum(ts, self.created_ts[cust])
        self.customer_updated[cust] = ts
        self.emit_customers(cust, ts, d)

    def _churn(self, d: int) -> None:
        rng = self.rng
        idx = self.alive_idx
        if not len(idx):
            return
        h0 = -math.log(1 - self.sector.churn_annual) / 365
        S = np.minimum(self.S[:, idx], 1.0)
        log_mult = E.LOG_CHURN_MULT @ S
        hazard = h0 * np.exp(E.CHURN_VALENCE_SLOPE * -self.v[idx] + log_mult) * self.activation.churn_multiplier(idx, d)
        churn = rng.random(len(idx)) < -np.expm1(-hazard)
        who = idx[churn]
        if not len(who):
            return
        # a customer leaves after their last action of the day: churned_at is the end of that day
        ts = np.full(len(who), self.ts0 + US_PER_DAY - US_PER_S, dtype=np.int64)
        contrib = E.LOG_CHURN_MULT[:, None] * S[:, churn]
        k = np.argmax(contrib, axis=0)
        strong = contrib[k, np.arange(len(who))] > math.log(1.1)
        driver = np.where(strong, k, np.where(self.v[who] < -0.3, E.K, E.K + 1))
        self.churned[who] = True
        self.churn_ts[who] = ts
        self.truth.churn(who, ts, driver, self.v[who])
        commerce.cancel_subscriptions(self, who, ts, driver)
        # some leavers also withdraw their marketing consent
        rv = rng.random(len(who)) < 0.3
        self.revoke(who[rv], EMAIL_MARKETING, ts[rv], V.CONSENT_SOURCES.index("preference_centre"))

    def _end_of_day(self, d: int) -> None:
        ev = self.q["event"].pop(d)
        if ev is None:
            return
        np.add.at(self.S, (ev["k"].astype(np.int64), ev["cust"]), ev["mag"])
        rec = ev["record"]
        if rec.any():
            self.truth.events({k: v[rec] for k, v in ev.items()})
