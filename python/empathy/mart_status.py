"""Every mart after a build: how many rows, its status and, when it is empty or degraded, why.

Written to `audit.mart_status` (one row per mart and run) and printed at the end of `empathy run` / `empathy
build`. A mart's status comes from, in order:

1. what the models that learn or score said (`audit.model_status`): the mart's own rows for a dbt Python model;
   for a mart that shows an intermediate model (marts are leaves: the Python model that computes fct_clv is
   int_clv), that model's rows, named in `meta.status_of`; and the components named in its `meta.status_from`
   (``"<model>.<component>"`` or ``"<model>"``) for a SQL mart that scores with a model built elsewhere;
2. for an empty mart with nothing said: the nearest model upstream that was skipped or degraded, else the raw
   tables upstream that are absent or empty (the company did not send them), else "no row met its rules".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from empathy.status import STATUS_TABLE, worst

MART_STATUS_TABLE = "audit.mart_status"


@dataclass
class MartStatus:
    model: str
    relation: str
    rows: int
    status: str
    reason: str
    fix: str


def load_manifest(target: Path) -> dict:
    path = Path(target) / "manifest.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: run `empathy build` (dbt writes it) before the mart report")
    return json.loads(path.read_text())


def relation_exists(con, schema: str, name: str) -> bool:
    """Whether `schema.name` is a table or a view of the database `con` is on."""
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, name]
        ).fetchone()[0]
    )


def _count(con, schema: str, name: str) -> int | None:
    if not relation_exists(con, schema, name):
        return None
    return int(con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0])


def latest_statuses(con) -> dict[tuple[str, str], dict]:
    """(model, component) -> the row of the newest report of each model (a model not rebuilt keeps its word)."""
    if not relation_exists(con, "audit", "model_status"):
        return {}
    rows = con.execute(
        f"""
        select model, component, status, reason, fix, run_id
        from {STATUS_TABLE}
        qualify recorded_at = max(recorded_at) over (partition by model)
        """
    ).fetchall()
    return {(m, c): {"status": s, "reason": r or "", "fix": f or "", "run_id": rid} for m, c, s, r, f, rid in rows}


def _said(statuses: dict, ref: str) -> list[tuple[str, dict]]:
    model, _, component = ref.partition(".")
    component = component or model
    found = statuses.get((model, component))
    return [(ref, found)] if found else []


def _meta(node: dict) -> dict:
    return node.get("config", {}).get("meta") or node.get("meta") or {}


def _own(node: dict, statuses: dict) -> list[tuple[str, dict]]:
    """What `node` said itself (a SQL model says nothing: rows under its name are an older Python model's), what
    the model it shows said (meta.status_of), and its status_from components."""
    name = node["name"]
    said = [] if node.get("language") == "sql" else _said(statuses, name)
    shown = _meta(node).get("status_of")
    if shown:
        said += [(name, s) for _, s in _said(statuses, shown)]
    for ref in _declared(node):
        said += _said(statuses, ref)
    return said


def _upstream(manifest: dict, unique_id: str) -> list[str]:
    """Every node upstream of `unique_id`, nearest first (breadth first)."""
    nodes = {**manifest["nodes"], **manifest.get("sources", {})}
    seen, order, frontier = {unique_id}, [], [unique_id]
    while frontier:
        nxt = []
        for uid in frontier:
            for parent in sorted((nodes.get(uid, {}).get("depends_on") or {}).get("nodes", [])):
                if parent not in seen:
                    seen.add(parent)
                    order.append(parent)
                    nxt.append(parent)
        frontier = nxt
    return order


def _declared(node: dict) -> list[str]:
    return list(_meta(node).get("status_from") or [])


def _why_empty(con, manifest: dict, uid: str, statuses: dict) -> tuple[str, str, str]:
    """(status, reason, fix) for an empty mart whose own word (or its status_from components) is ok.

    A mart that names its status_from components has said what it depends on: the models upstream are not
    searched (an NPS model skipped upstream does not explain an empty alerts table)."""
    upstream = _upstream(manifest, uid)
    searched = [] if _declared(manifest["nodes"][uid]) else upstream
    for parent in searched:
        node = manifest["nodes"].get(parent)
        if not node or node["resource_type"] != "model":
            continue
        said = [s for _, s in _own(node, statuses) if s["status"] != "ok"]
        if said:
            first = said[0]
            return "skipped", f"input {node['name']} {first['status']}: {first['reason']}", first["fix"]
    missing, empty = [], []
    for parent in upstream:
        source = manifest.get("sources", {}).get(parent)
        if not source:
            continue
        n = _count(con, source["schema"], source.get("identifier") or source["name"])
        (missing if n is None else empty if n == 0 else []).append(source["name"])
    if missing or empty:
        parts = []
        if missing:
            parts.append("not sent: " + ", ".join(sorted(set(missing))))
        if empty:
            parts.append("sent with no valid row: " + ", ".join(sorted(set(empty))))
        return (
            "skipped",
            "its raw tables are absent or empty (" + "; ".join(parts) + ")",
            "land those tables (see docs/raw_contract.md) if the company has them",
        )
    return "ok", "empty: its inputs have rows, and none met its rules this run", ""


def mart_report(con, manifest: dict, *, schema: str = "marts") -> list[MartStatus]:
    """The status of every model built in `schema`, in name order."""
    statuses = latest_statuses(con)
    out = []
    for uid, node in sorted(manifest["nodes"].items(), key=lambda kv: kv[1]["name"]):
        if node["resource_type"] != "model" or node.get("schema") != schema:
            continue
        name = node.get("alias") or node["name"]
        rows = _count(con, node["schema"], name)
        relation = f"{node['schema']}.{name}"
        if rows is None:
            out.append(MartStatus(node["name"], relation, 0, "skipped", "not built in this run (not selected)", ""))
            continue
        said = _own(node, statuses)
        status = worst(s["status"] for _, s in said)
        reasons = [
            f"{ref}: {s['reason']}" if ref != node["name"] else s["reason"] for ref, s in said if s["status"] != "ok"
        ]
        fixes = [s["fix"] for _, s in said if s["status"] != "ok" and s["fix"]]
        reason, fix = "; ".join(dict.fromkeys(reasons)), "; ".join(dict.fromkeys(fixes))
        if rows == 0 and status == "ok":
            status, reason, fix = _why_empty(con, manifest, uid, statuses)
        elif rows == 0 and status == "degraded":
            status = "skipped"
        elif rows > 0 and status == "skipped":  # it has rows: what it says was skipped is part of it
            status = "degraded"
        out.append(MartStatus(node["name"], relation, rows, status, reason, fix))
    return out


def write_mart_report(con, report: list[MartStatus], run_id: str) -> None:
    con.execute("create schema if not exists audit")
    con.execute(
        f"""
        create table if not exists {MART_STATUS_TABLE} (
            run_id varchar, model varchar, relation varchar, row_count bigint, status varchar, reason varchar,
            fix varchar, recorded_at timestamp
        )
        """
    )
    con.execute(f"delete from {MART_STATUS_TABLE} where run_id = ?", [run_id])
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    for m in report:
        con.execute(
            f"insert into {MART_STATUS_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, m.model, m.relation, m.rows, m.status, m.reason, m.fix, now],
        )
