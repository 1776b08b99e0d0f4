"""The agents calls can be routed to: one row per active agent with its tier, pool language and suitability.

int_call_routing__assignments (SQL) matches customers to these agents; this module only decides who is on the
roster and says, in audit.model_status, when there is nobody (no `agents` table: routing gives tiers and skills
only). See DECISIONLOG.md (call routing).
"""

from __future__ import annotations

import pyarrow as pa

from empathy import status

ROSTER_SCHEMA = pa.schema(
    [
        ("agent_id", pa.string()),
        ("team", pa.string()),
        ("skills", pa.string()),
        ("languages", pa.string()),
        ("pool_language", pa.string()),
        ("experience_years", pa.float64()),
        ("qa_score", pa.float64()),
        ("empathy_score", pa.float64()),
        ("suitability", pa.float64()),
    ]
)
TIERS = ("tier1", "tier2", "senior", "retention")
NO_AGENTS_FIX = "land the `agents` table (support source: team, skills, languages, QA and empathy scores)"


def _languages(text: str | None) -> list[str]:
    return sorted({part for part in (text or "").split(",") if part})


def suitability(qa_score: float | None, empathy_score: float | None) -> float | None:
    """How well an agent handles an emotionally charged customer, 0-100: the mean of the QA and empathy scores
    (the one known when the other is missing; None when both are)."""
    known = [s for s in (qa_score, empathy_score) if s is not None]
    return sum(known) / len(known) if known else None


def pool_languages(agents: list[dict]) -> dict[str, str | None]:
    """agent_id -> the one language pool the agent serves within its team: the language it speaks that the fewest
    agents of its team speak (ties by code), so that scarce languages keep their speakers and no agent's load is
    counted in two pools. None for an agent with no declared language."""
    speakers: dict[tuple[str, str], int] = {}
    for agent in agents:
        for language in _languages(agent["languages"]):
            speakers[(agent["team"], language)] = speakers.get((agent["team"], language), 0) + 1
    out = {}
    for agent in agents:
        spoken = _languages(agent["languages"])
        out[agent["agent_id"]] = (
            min(spoken, key=lambda lang, team=agent["team"]: (speakers[(team, lang)], lang)) if spoken else None
        )
    return out


def agent_roster(agents: pa.Table) -> pa.Table:
    """Active agents of a known tier (stg_support__agents rows), with their pool language and suitability."""
    rows = [
        r
        for r in agents.select(
            ["agent_id", "team", "skills", "languages", "experience_years", "qa_score", "empathy_score", "is_active"]
        ).to_pylist()
        if r["is_active"] is not False and r["team"] in TIERS
    ]
    if agents.num_rows == 0:
        status.report(
            "agents",
            "skipped",
            "no agents table: calls are routed to a tier and skills only, with no recommended agent",
            counts={"agents": 0},
            fix=NO_AGENTS_FIX,
        )
    elif not rows:
        status.report(
            "agents",
            "skipped",
            f"none of the {agents.num_rows:,} agents is active in a known team ({', '.join(TIERS)}): "
            "calls are routed to a tier and skills only",
            counts={"agents": agents.num_rows, "active": 0},
            fix="send the agents' current team and is_active",
        )
    else:
        missing = sum(1 for r in rows if r["qa_score"] is None and r["empathy_score"] is None)
        teams = {r["team"] for r in rows}
        absent = [t for t in TIERS if t not in teams]
        counts = {"agents": agents.num_rows, "active": len(rows), "without_scores": missing, "tiers_absent": absent}
        if missing or absent:
            reasons = []
            if missing:
                reasons.append(f"{missing:,} active agents have no QA or empathy score (ranked last in their pool)")
            if absent:
                reasons.append(f"no active agent in tier(s) {', '.join(absent)}: their customers get no agent")
            status.report("agents", "degraded", "; ".join(reasons), counts=counts, fix=NO_AGENTS_FIX)
        else:
            status.report("agents", "ok", counts=counts)
    pools = pool_languages(rows)
    rows = sorted(rows, key=lambda r: r["agent_id"])
    return pa.Table.from_pylist(
        [
            {
                "agent_id": r["agent_id"],
                "team": r["team"],
                "skills": r["skills"],
                "languages": ",".join(_languages(r["languages"])) or None,
                "pool_language": pools[r["agent_id"]],
                "experience_years": r["experience_years"],
                "qa_score": r["qa_score"],
                "empathy_score": r["empathy_score"],
                "suitability": suitability(r["qa_score"], r["empathy_score"]),
            }
            for r in rows
        ],
        schema=ROSTER_SCHEMA,
    )
