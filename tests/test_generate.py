"""Demo world generator: landing contract, determinism and the behaviour of the simulation."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from empathy import contract
from empathy.generate import generate
from empathy.generate.effects import EVENT_EFFECTS, EVENT_NAMES
from empathy.generate.writer import output_columns

END = dt.date(2025, 6, 30)
ARROW = {
    "string": pa.string(),
    "timestamp": pa.timestamp("us"),
    "integer": pa.int64(),
    "double": pa.float64(),
    "boolean": pa.bool_(),
}
# A promise about the future, known when the parcel ships.
FUTURE_BY_NATURE = {("shipments", "promised_delivery_at")}


def _connect(out: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for t in contract.TABLES:
        con.execute(
            f"create table {t.name} as select *, "
            f"cast(regexp_extract(filename, 'day=([0-9-]+)', 1) as date) as _day, filename as _file "
            f"from read_parquet('{out}/{t.name}/*/*.parquet', filename=true)"
        )
    for name in ("latent_state_weekly", "churn", "events", "event_effects", "texts"):
        con.execute(f"create table truth_{name} as select * from read_parquet('{out}/_truth/{name}.parquet')")
    return con


def _one(con, sql: str):
    return con.execute(sql).fetchone()[0]


@pytest.fixture(scope="module")
def retail(tmp_path_factory):
    out = tmp_path_factory.mktemp("retail")
    summary = generate(out, customers=1500, days=120, seed=7, sector="retail", end_date=END)
    return out, summary, _connect(out)


@pytest.fixture(scope="module")
def subscription(tmp_path_factory):
    out = tmp_path_factory.mktemp("subscription")
    summary = generate(out, customers=600, days=90, seed=7, sector="subscription", end_date=END)
    return out, summary, _connect(out)


@pytest.fixture(scope="module")
def healthcare(tmp_path_factory):
    out = tmp_path_factory.mktemp("healthcare")
    summary = generate(out, customers=500, days=75, seed=7, sector="healthcare", end_date=END)
    return out, summary, _connect(out)


def _contract_violations(con) -> list[str]:
    """Everything a landing file must respect: partition days, required and allowed values, ranges, keys, references."""
    problems = []
    for t in contract.TABLES:
        checks = {
            f"{t.key} twice in a file": f"select count(*) from (select _file, {t.key} from {t.name} group by all having count(*) > 1)"
        }
        for c in t.columns:
            col = f"{t.name}.{c.name}"
            if c.type == "timestamp" and (t.name, c.name) not in FUTURE_BY_NATURE:
                checks[f"{col} after its partition day"] = (
                    f"select count(*) from {t.name} where {c.name} >= _day + interval 1 day"
                )
            if c.required:
                checks[f"{col} null"] = f"select count(*) from {t.name} where {c.name} is null"
            if c.allowed:
                values = ", ".join(f"'{v}'" for v in c.allowed)
                checks[f"{col} not allowed"] = f"select count(*) from {t.name} where {c.name} not in ({values})"
            if c.min is not None:
                checks[f"{col} below min"] = f"select count(*) from {t.name} where {c.name} < {c.min}"
            if c.max is not None:
                checks[f"{col} above max"] = f"select count(*) from {t.name} where {c.name} > {c.max}"
            if c.max_length:
                checks[f"{col} too long"] = f"select count(*) from {t.name} where length({c.name}) > {c.max_length}"
            if c.references:
                parent, pcol = c.references.split(".")
                checks[f"{col} -> {c.references}"] = (
                    f"select count(*) from {t.name} where {c.name} is not null and {c.name} not in (select {pcol} from {parent})"
                )
        problems += [f"{name}: {n}" for name, sql in checks.items() if (n := _one(con, sql))]
    return problems


def _hashes(out: Path) -> dict[str, str]:
    return {
        str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


# ---- interface and determinism -------------------------------------------------------------------


def test_same_parameters_give_identical_bytes_and_other_seeds_differ(tmp_path):
    kw = {"customers": 300, "days": 45, "sector": "retail", "end_date": END}
    generate(tmp_path / "a", seed=1, **kw)
    generate(tmp_path / "b", seed=1, **kw)
    generate(tmp_path / "c", seed=2, **kw)
    a, b, c = _hashes(tmp_path / "a"), _hashes(tmp_path / "b"), _hashes(tmp_path / "c")
    assert len(a) > 100
    assert a == b
    common = set(a) & set(c)
    assert sum(a[k] != c[k] for k in common) > 0.9 * len(common)


def test_manifest_is_reused_unless_forced_or_parameters_change(tmp_path, monkeypatch):
    out = tmp_path / "w"
    first = generate(out, customers=200, days=30, seed=3, end_date=END)
    assert first["cached"] is False
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["params"] == first["params"]
    assert manifest["rows"] == first["rows"]
    assert "generator_version" in manifest

    import empathy.generate.world as world_module

    calls = []
    original = world_module.World.run
    monkeypatch.setattr(world_module.World, "run", lambda self: (calls.append(1), original(self)))
    again = generate(out, customers=200, days=30, seed=3, end_date=END)
    assert again["cached"] is True and calls == []
    assert again["rows"] == first["rows"] and again["files"] == first["files"]
    stale = out / "orders" / "day=2001-01-01"
    stale.mkdir(parents=True)
    forced = generate(out, customers=200, days=30, seed=3, end_date=END, force=True)
    assert forced["cached"] is False and calls == [1]
    assert not stale.exists(), "regeneration clears the table folders it writes"
    changed = generate(out, customers=200, days=30, seed=4, end_date=END)
    assert changed["cached"] is False and len(calls) == 2


def test_summary_and_progress(tmp_path):
    seen = []
    s = generate(tmp_path, customers=150, days=20, seed=5, end_date=END, progress=lambda st, f: seen.append((st, f)))
    assert set(s) >= {"rows", "files", "seconds", "params", "out"}
    assert set(s["rows"]) == {t.name for t in contract.TABLES}
    assert s["params"] == {"customers": 150, "days": 20, "seed": 5, "sector": "retail", "end_date": "2025-06-30"}
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(seen) >= 3
    assert s["files"] == sum(1 for _ in tmp_path.glob("*/day=*/*.parquet"))


def test_unknown_sector_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="sector"):
        generate(tmp_path, customers=10, days=5, sector="mining", end_date=END)


# ---- landing contract ----------------------------------------------------------------------------


def test_layout_and_schema_follow_the_contract(retail):
    out, summary, _ = retail
    start = END - dt.timedelta(days=119)
    for t in contract.TABLES:
        files = sorted((out / t.name).glob("*/*.parquet"))
        assert files, f"no files for {t.name}"
        expected = [(c.name, ARROW[c.type]) for c in t.columns]
        if t.name == "customers":
            expected += [("loyalty_tier", pa.string()), ("household_size", pa.int64())]
        assert [(n, typ) for n, typ in output_columns(t.name)] == expected
        for f in files[:: max(1, len(files) // 5)]:
            m = re.fullmatch(
                rf"day=(\d{{4}}-\d{{2}}-\d{{2}})/{t.name}-(\d{{4}}-\d{{2}}-\d{{2}})\.parquet",
                str(f.relative_to(out / t.name)),
            )
            assert m and m.group(1) == m.group(2), f
            assert start <= dt.date.fromisoformat(m.group(1)) <= END
            schema = pq.read_schema(f)
            assert [(x.name, x.type) for x in schema] == expected, f
        assert summary["rows"][t.name] == sum(pq.read_metadata(f).num_rows for f in files)


def test_landing_files_respect_the_contract(retail):
    _, _, con = retail
    assert _contract_violations(con) == []
    # the promise is the only future timestamp, and it is never before the shipment
    assert _one(con, "select count(*) from shipments where promised_delivery_at < shipped_at") == 0
    assert _one(con, "select count(*) from customers where loyalty_tier not in ('bronze', 'silver', 'gold')") == 0
    assert _one(con, "select count(*) from customers where household_size not between 1 and 8") == 0
    assert _one(con, "select count(*) from customers where not regexp_full_match(customer_id, 'C[0-9]{8}')") == 0


def test_other_sectors_respect_the_contract(subscription, healthcare):
    for _, summary, con in (subscription, healthcare):
        assert all(n > 0 for n in summary["rows"].values()), summary["rows"]
        assert _contract_violations(con) == []


def test_keys_and_versions(retail):
    _, _, con = retail
    for t in contract.TABLES:
        if t.updated_column in t.column_names:
            same = f"select count(*) from (select {t.key}, {t.updated_column} from {t.name} group by all having count(*) > 1)"
            assert _one(con, same) == 0, t.name
            # a later partition always carries a newer version
            older = f"""select count(*) from (select {t.key}, _day, max({t.updated_column}) u from {t.name} group by all) a
                       join (select {t.key}, _day, max({t.updated_column}) u from {t.name} group by all) b
                       using ({t.key}) where b._day > a._day and b.u <= a.u"""
            assert _one(con, older) == 0, t.name
        else:
            assert _one(con, f"select count(*) - count(distinct {t.key}) from {t.name}") == 0, (
                f"{t.name} is append-only"
            )
    # records that change later are emitted again where they change
    assert _one(con, "select count(*) from orders where status = 'delivered' and _day > cast(ordered_at as date)") > 100
    assert (
        _one(con, "select count(*) from shipments where delivered_at is not null and _day > cast(shipped_at as date)")
        > 100
    )
    assert (
        _one(
            con,
            "select count(*) from support_tickets where status in ('solved', 'closed') and _day > cast(created_at as date)",
        )
        > 10
    )
    assert _one(con, "select count(*) from subscriptions where price_changed_at is not null") > 0
    if "updated_at" in contract.table("order_items").column_names:
        # order lines are sent again when found defective and when returned
        resent = "select count(*) from order_items where {} and _day > cast(ordered_at as date)"
        assert _one(con, resent.format("returned_at is not null and return_reason is not null")) > 20
        assert _one(con, resent.format("is_defective")) > 10
        assert (
            _one(
                con,
                "select count(*) from order_items where _day = cast(ordered_at as date) and (is_defective or returned_at is not null)",
            )
            == 0
        )
    assert _one(con, "select count(*) from consents where revoked_at is not null") > 0
    assert (
        _one(con, "select count(*) from customers where updated_at > created_at and _day > cast(created_at as date)")
        > 0
    )


def test_links_in_time_hold(retail):
    _, _, con = retail
    created = "(select customer_id, min(created_at) created_at from customers group by 1)"
    checks = {
        "orders after sign-up": f"select count(*) from orders o join {created} c using (customer_id) where o.ordered_at < c.created_at",
        "tickets after sign-up": f"select count(*) from support_tickets t join {created} c using (customer_id) where t.created_at < c.created_at",
        "web after sign-up": f"select count(*) from web_events w join {created} c using (customer_id) where w.occurred_at < c.created_at",
        "mail after sign-up": f"select count(*) from email_events e join {created} c using (customer_id) where e.occurred_at < c.created_at",
        "messages after ticket": "select count(*) from ticket_messages m join (select ticket_id, min(created_at) c from support_tickets group by 1) t using (ticket_id) where m.sent_at < t.c",
        "lines with their order": "select count(*) from order_items i join (select order_id, min(ordered_at) o from orders group by 1) o using (order_id) where i.ordered_at <> o.o",
        "shipment after order": "select count(*) from shipments s join (select order_id, min(ordered_at) o from orders group by 1) o using (order_id) where s.shipped_at < o.o",
        "delivered after shipped": "select count(*) from shipments where delivered_at < shipped_at",
        "answers after invitation": "select count(*) from survey_responses r join survey_invitations i using (invitation_id) where r.responded_at < i.sent_at or r.customer_id <> i.customer_id or r.survey_type <> i.survey_type",
        "nps and csat scales": "select count(*) from survey_responses where survey_type = 'csat' and score not between 1 and 5",
        "agents hired before work": "select count(*) from support_tickets t join (select agent_id, min(hired_at) h from agents group by 1) a on a.agent_id = t.assigned_agent_id where t.created_at < a.h",
        "revoked after granted": "select count(*) from consents where revoked_at < granted_at",
        "ended after started": "select count(*) from subscriptions where ended_at < started_at",
    }
    for name, sql in checks.items():
        assert _one(con, sql) == 0, name


def test_customers_mix(retail):
    _, _, con = retail
    n = _one(con, "select count(distinct customer_id) from customers")
    share = dict(con.execute("select language, count(distinct customer_id) from customers group by 1").fetchall())
    assert 0.06 < share["es"] / n < 0.2
    assert 0.05 < share["pt"] / n < 0.17
    assert share["en"] / n > 0.65
    inconsistent = """select count(*) from customers where split_part(locale, '-', 1) <> language
        or split_part(locale, '-', 2) <> country
        or (language = 'pt' and country not in ('BR', 'PT'))
        or (language = 'es' and country not in ('ES', 'MX', 'AR', 'CO', 'US'))"""
    assert _one(con, inconsistent) == 0
    # some customers existed before the window and land in the first partition; others arrive later
    first = _one(con, "select min(_day) from customers")
    assert _one(con, f"select count(*) from customers where created_at < date '{first}'") > 0.4 * n
    assert _one(con, "select count(distinct _day) from customers") > 60
    assert _one(con, "select count(*) from customers where gender = 'unknown' or gender is null") > 0
    assert _one(con, "select count(*) from customers where birth_year is null and age_band is not null") > 0
    assert _one(con, "select count(*) from customers where segment = 'business' and company_name is not null") > 0
    assert _one(con, "select count(*) from customers where segment = 'consumer' and company_name is not null") == 0


def test_texts_are_multilingual_and_driven_by_cause(retail):
    _, _, con = retail
    lang_mismatch = """select count(*) from truth_texts t join (select distinct customer_id, language from customers) c
                       using (customer_id) where t.language <> c.language"""
    assert _one(con, lang_mismatch) == 0
    spanish = """select avg(regexp_matches(body, '(pedido|gracias|hola|por favor|¿|caso|cuenta)', 'i')::int)
                 from ticket_messages m join (select distinct customer_id, language from customers) c
                 on m.author_id = c.customer_id where c.language = 'es'"""
    assert _one(con, spanish) > 0.8
    portuguese = """select avg(regexp_matches(body, '(pedido|obrigad|olá|oi|você|vocês|chamado|conta|não)', 'i')::int)
                    from ticket_messages m join (select distinct customer_id, language from customers) c
                    on m.author_id = c.customer_id where c.language = 'pt'"""
    assert _one(con, portuguese) > 0.8
    # a late parcel is written about as a late parcel, with its order number
    late = """select avg(regexp_matches(m.body, 'O[0-9]{9}')::int) from truth_texts t join ticket_messages m on m.message_id = t.id
              where t.cause = 'late_delivery' and t.source_table = 'ticket_messages'"""
    assert _one(con, late) > 0.6
    intents = {r[0] for r in con.execute("select distinct intent from truth_texts").fetchall()}
    assert {"complaint", "support_request", "cancellation_intent", "praise"} <= intents
    # sentiment of negative causes is mostly negative, of praise mostly positive
    neg = _one(
        con,
        "select avg((sentiment = 'negative')::int) from truth_texts where cause in ('late_delivery', 'defective_item', 'bad_resolution')",
    )
    pos = _one(
        con, "select avg((sentiment = 'positive')::int) from truth_texts where cause in ('praise', 'good_resolution')"
    )
    assert neg > 0.5 and pos > 0.5
    assert _one(con, "select count(*) from truth_texts where sarcasm") > 0


# ---- behaviour against the ground truth -----------------------------------------------------------


def test_truth_files(retail):
    _, _, con = retail
    effects = con.execute("select event_type, valence_effect, half_life_days from truth_event_effects").fetchall()
    assert effects == [(e.name, e.valence_effect, float(e.half_life_days)) for e in EVENT_EFFECTS]
    assert {r[0] for r in con.execute("select distinct event_type from truth_events").fetchall()} <= set(EVENT_NAMES)
    assert (
        _one(
            con,
            "select count(*) from truth_latent_state_weekly where valence not between -1 and 1 or arousal not between 0 and 1",
        )
        == 0
    )
    assert _one(con, "select count(*) from truth_latent_state_weekly where dayofweek(week_start) <> 1") == 0
    emotions = {r[0] for r in con.execute("select distinct dominant_emotion from truth_latent_state_weekly").fetchall()}
    assert emotions <= {"joy", "sadness", "anger", "fear", "surprise", "disgust", "neutral"} and len(emotions) >= 5
    # every late-delivery event points at a late shipment of that customer
    bad = """select count(*) from truth_events e left join (select shipment_id, order_id, max(promised_delivery_at) p,
             max(delivered_at) d from shipments group by all) s on s.shipment_id = e.related_id
             where e.event_type = 'late_delivery' and (s.shipment_id is null or (s.d is not null and s.d <= s.p))"""
    assert _one(con, bad) == 0
    # after churn a customer stops acting
    after = """select count(*) from orders o join truth_churn c using (customer_id)
               where o.ordered_at > c.churned_at and o.status = 'placed'"""
    assert _one(con, after) == 0
    web_after = "select count(*) from web_events w join truth_churn c using (customer_id) where w.occurred_at > c.churned_at + interval 1 day"
    assert _one(con, web_after) == 0


def test_late_deliveries_lower_valence_the_following_week(retail):
    _, _, con = retail
    sql = """
    with exposed as (
        select distinct customer_id, date_trunc('week', occurred_at)::date as wk from truth_events
        where event_type = 'late_delivery' and magnitude >= 2),
    deltas as (
        select a.customer_id, a.week_start, b.valence - a.valence as delta,
               e.customer_id is not null as is_exposed
        from truth_latent_state_weekly a
        join truth_latent_state_weekly b on b.customer_id = a.customer_id and b.week_start = a.week_start + 14
        left join exposed e on e.customer_id = a.customer_id and e.wk = a.week_start + 7
        -- unexposed controls: customers with no late parcel in those weeks
        where not exists (select 1 from truth_events x where x.customer_id = a.customer_id
                          and x.event_type = 'late_delivery' and x.occurred_at >= a.week_start
                          and x.occurred_at < a.week_start + 21 and e.customer_id is null))
    select is_exposed, avg(delta), count(*) from deltas group by 1"""
    res = {r[0]: (r[1], r[2]) for r in con.execute(sql).fetchall()}
    assert res[True][1] >= 30
    assert res[True][0] < res[False][0] - 0.08, res


def test_survey_respondents_are_more_extreme(retail):
    _, _, con = retail
    sql = """
    select r.response_id is not null as responded, avg(abs(l.valence)), count(*)
    from survey_invitations i left join survey_responses r using (invitation_id)
    join truth_latent_state_weekly l on l.customer_id = i.customer_id and l.week_start = date_trunc('week', i.sent_at)::date
    group by 1"""
    res = {r[0]: (r[1], r[2]) for r in con.execute(sql).fetchall()}
    assert res[True][1] >= 50
    assert res[True][0] > res[False][0] + 0.08, res
    # scores follow valence
    corr = """select corr(r.score, l.valence) from survey_responses r join truth_latent_state_weekly l
              on l.customer_id = r.customer_id and l.week_start = date_trunc('week', r.responded_at)::date
              where r.survey_type = 'nps'"""
    assert _one(con, corr) > 0.5


def test_negative_customers_churn_more(retail):
    _, _, con = retail
    sql = """
    with v as (select customer_id, avg(valence) v from truth_latent_state_weekly group by 1),
    q as (select customer_id, ntile(4) over (order by v) quartile from v)
    select quartile, avg((c.customer_id is not null)::int) from q left join truth_churn c using (customer_id) group by 1"""
    rate = dict(con.execute(sql).fetchall())
    assert _one(con, "select count(*) from truth_churn") >= 20
    assert rate[1] > 2.5 * rate[4], rate
    assert rate[1] > rate[2] > rate[4], rate


def test_negative_customers_buy_less_and_complain_more(retail):
    _, _, con = retail
    sql = """
    with v as (select customer_id, avg(valence) v from truth_latent_state_weekly group by 1),
    q as (select customer_id, ntile(2) over (order by v) half from v),
    o as (select customer_id, count(distinct order_id) n from orders group by 1),
    t as (select customer_id, count(distinct ticket_id) n from support_tickets group by 1)
    select half, avg(coalesce(o.n, 0)), sum(coalesce(t.n, 0)) / sum(coalesce(o.n, 0))
    from q left join o using (customer_id) left join t using (customer_id) group by 1 order by 1"""
    (_, orders_low, tickets_per_order_low), (_, orders_high, tickets_per_order_high) = con.execute(sql).fetchall()
    assert orders_low < 0.9 * orders_high
    assert tickets_per_order_low > 1.3 * tickets_per_order_high


def test_sector_presets_change_the_mix(retail, subscription):
    _, _, r_con = retail
    _, _, s_con = subscription
    per = "select count(distinct {k}) * 1.0 / (select count(distinct customer_id) from customers) from {t}"
    subs_r = _one(r_con, per.format(k="subscription_id", t="subscriptions"))
    subs_s = _one(s_con, per.format(k="subscription_id", t="subscriptions"))
    orders_r = _one(r_con, per.format(k="order_id", t="orders"))
    orders_s = _one(s_con, per.format(k="order_id", t="orders"))
    assert subs_s > 5 * subs_r
    assert orders_r > 4 * orders_s
    assert _one(s_con, "select count(*) from truth_events where event_type = 'price_increase'") > 0.2 * 600
    assert _one(s_con, "select count(*) from payments where subscription_id is not null") > 2 * 600


def test_docs_show_the_effect_sizes_and_presets_the_code_uses():
    from empathy.generate.effects import effects_markdown
    from empathy.generate.sectors import presets_markdown

    doc = (Path(__file__).resolve().parents[1] / "docs" / "demo_world.md").read_text()
    effects = doc.split("<!-- effects:start -->")[1].split("<!-- effects:end -->")[0].strip()
    presets = doc.split("<!-- presets:start -->")[1].split("<!-- presets:end -->")[0].strip()
    assert effects == effects_markdown()
    assert presets == presets_markdown()
