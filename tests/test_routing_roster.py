"""The agent roster calls are routed to (empathy.routing.roster): who is on it, their pool and what is reported."""

from __future__ import annotations

import pyarrow as pa
import pytest

from empathy import status
from empathy.routing import roster

AGENTS = pa.schema(
    [
        ("agent_id", pa.string()),
        ("team", pa.string()),
        ("skills", pa.string()),
        ("languages", pa.string()),
        ("experience_years", pa.float64()),
        ("qa_score", pa.float64()),
        ("empathy_score", pa.float64()),
        ("is_active", pa.bool_()),
    ]
)


def _agents(*rows: tuple) -> pa.Table:
    return pa.Table.from_pylist([dict(zip(AGENTS.names, r, strict=True)) for r in rows], schema=AGENTS)


def _last_report() -> dict:
    return status.recent()[-1]


def test_no_agents_table_routes_to_tiers_only_and_says_so():
    out = roster.agent_roster(_agents())
    assert out.num_rows == 0 and out.schema == roster.ROSTER_SCHEMA
    report = _last_report()
    assert report["status"] == "skipped" and "tier" in report["reason"] and report["fix"]


def test_inactive_and_unknown_team_agents_are_left_out():
    out = roster.agent_roster(
        _agents(
            ("a1", "senior", "complaints", "en", 5.0, 80.0, 90.0, True),
            ("a2", "senior", "complaints", "en", 5.0, 80.0, 90.0, False),
            ("a3", "night", "complaints", "en", 5.0, 80.0, 90.0, True),
        )
    )
    assert out.column("agent_id").to_pylist() == ["a1"]
    assert out.column("suitability").to_pylist() == [85.0]
    assert _last_report()["status"] == "degraded"  # tier1, tier2 and retention have nobody


def test_each_agent_serves_the_scarcest_language_it_speaks_in_its_team():
    out = roster.agent_roster(
        _agents(
            ("a1", "tier1", None, "en,es", 1.0, 70.0, None, True),
            ("a2", "tier1", None, "en", 1.0, None, None, True),
            ("a3", "tier1", None, "es,en,pt", 1.0, 60.0, 50.0, None),
            ("a4", "tier2", None, "es", 1.0, 60.0, 50.0, True),
            ("a5", "senior", None, "en", 1.0, 60.0, 50.0, True),
            ("a6", "retention", None, None, 1.0, 60.0, 50.0, True),
        )
    )
    pools = dict(zip(out.column("agent_id").to_pylist(), out.column("pool_language").to_pylist(), strict=True))
    assert pools == {"a1": "es", "a2": "en", "a3": "pt", "a4": "es", "a5": "en", "a6": None}
    suitability = dict(zip(out.column("agent_id").to_pylist(), out.column("suitability").to_pylist(), strict=True))
    assert suitability["a1"] == 70.0 and suitability["a2"] is None and suitability["a3"] == 55.0
    assert _last_report()["status"] == "degraded"  # a2 has no score


@pytest.mark.parametrize(
    ("qa", "empathy", "expected"),
    [
        pytest.param(80.0, 60.0, 70.0, id="both"),
        pytest.param(None, 60.0, 60.0, id="empathy-only"),
        pytest.param(None, None, None, id="neither"),
    ],
)
def test_suitability_is_the_mean_of_the_known_scores(qa, empathy, expected):
    assert roster.suitability(qa, empathy) == expected
