"""Bring-your-own columns judged by what they hold: personal data by value, proxies of age and gender."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from empathy.predict import feature_screening as fs

N = 600
RULES = (("(.*_)?id|.*_ids?", "identifier", "An identifier."),)


@pytest.fixture(scope="module")
def profiles():
    rng = np.random.default_rng(3)
    birth = rng.integers(1935, 2007, N).astype(float)
    birth[rng.random(N) < 0.25] = np.nan
    return pd.DataFrame(
        {
            "customer_id": [f"c{i:04d}" for i in range(N)],
            "birth_year": birth,
            "age_band": [None] * N,
            "gender": rng.choice(["female", "male", "unknown"], N, p=[0.48, 0.48, 0.04]),
            "created_at": pd.Timestamp("2026-03-01"),
        }
    )


def _long(profiles, columns: dict) -> pd.DataFrame:
    frames = []
    for name, (kind, values) in columns.items():
        values = list(values)
        frames.append(
            pd.DataFrame(
                {
                    "byo_source": "customer",
                    "column_name": name,
                    "column_kind": kind,
                    "customer_id": profiles["customer_id"],
                    "value_text": values if kind == "categorical" else None,
                    "value_number": pd.to_numeric(pd.Series(values), errors="coerce") if kind == "numeric" else None,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _decide(profiles, columns, **settings):
    out = fs.screen(_long(profiles, columns), profiles, fs.ScreeningSettings(name_rules=RULES, **settings))
    return out.set_index("column_name")


def _senior(profiles):
    age = 2026 - profiles["birth_year"]
    return np.where(profiles["birth_year"].isna(), np.nan, (age >= 65).astype(float))


def test_a_yes_no_phone_option_is_a_feature_and_senior_citizen_an_age_proxy(profiles):
    rng = np.random.default_rng(5)
    out = _decide(
        profiles,
        {
            "phone_service": ("categorical", rng.choice(["yes", "no"], N)),
            "senior_citizen": ("numeric", _senior(profiles)),
        },
    )
    assert out.loc["phone_service", "decision"] == "feature"
    assert out.loc["phone_service", "age_association"] < 0.2
    assert (out.loc["senior_citizen", "decision"], out.loc["senior_citizen", "reason_category"]) == (
        "excluded",
        "age_proxy",
    )
    assert out.loc["senior_citizen", "age_association"] >= 0.5
    assert "allowed_proxy_columns" in out.loc["senior_citizen", "reason"]


def test_an_allowed_proxy_stays_a_feature_with_its_reason(profiles):
    out = _decide(
        profiles, {"senior_citizen": ("numeric", _senior(profiles))}, allowed_proxy_columns=("Senior_Citizen",)
    )
    assert (out.loc["senior_citizen", "decision"], out.loc["senior_citizen", "reason_category"]) == (
        "feature",
        "allowed_proxy",
    )


def test_gender_proxies_and_linear_age_correlates_are_caught(profiles):
    rng = np.random.default_rng(8)
    shops_for = np.where(profiles["gender"] == "female", "womenswear", "menswear")
    shops_for = np.where(rng.random(N) < 0.1, "kids", shops_for)
    years_as_member = (2026 - profiles["birth_year"]) * 0.3 + rng.normal(0, 3, N)
    out = _decide(
        profiles,
        {"shops_for": ("categorical", shops_for), "years_as_member": ("numeric", years_as_member)},
    )
    assert out.loc["shops_for", "reason_category"] == "gender_proxy"
    assert out.loc["years_as_member", "reason_category"] == "age_proxy"
    assert "correlation" in out.loc["years_as_member", "reason"]


@pytest.mark.parametrize(
    ("make", "pattern"),
    [
        pytest.param(lambda i: f"person.{i}@mail.example.com", "email", id="email"),
        pytest.param(lambda i: f"+34 6{i:02d} {i * 7919 % 1000:03d} {i % 997:03d}", "phone", id="phone"),
        pytest.param(
            lambda i: f"{['Maria', 'John', 'Ana', 'Pedro'][i % 4]} {chr(65 + i % 26)}. {['Silva', 'Smith'][i % 2]}",
            "name",
            id="name",
        ),
        pytest.param(lambda i: f"{i + 1} Baker Street, London", "address", id="address"),
        pytest.param(lambda i: f"Rua das Flores, {i + 1}", "address", id="address-pt"),
        pytest.param(
            lambda i: ["DE89 3704 0044 0532 0130 00", "GB82 WEST 1234 5698 7654 32"][i % 2], "iban", id="iban"
        ),
    ],
)
def test_personal_data_is_found_by_its_values_under_any_name(profiles, make, pattern):
    values = [make(i) for i in range(N)]
    if pattern == "iban":  # two accounts are too few distinct values: add valid ones
        values = [values[i] if i < 2 else _iban(i) for i in range(N)]
    out = _decide(profiles, {"notes": ("categorical", values)})
    assert (out.loc["notes", "decision"], out.loc["notes", "reason_category"]) == ("excluded", "personal_data")
    assert out.loc["notes", "matched_pattern"] == pattern and out.loc["notes", "matched_share"] >= 0.5


def _iban(i: int) -> str:
    bban = f"37040044{i:010d}"
    check = 98 - int(bban + "131400") % 97  # DE = 13 14, check digits 00
    return f"DE{check:02d}{bban}"


def test_a_declared_column_and_a_seed_rule_exclude_before_values(profiles):
    rng = np.random.default_rng(2)
    tier = rng.choice(["bronze", "silver", "gold"], N)
    out = _decide(
        profiles,
        {"tier": ("categorical", tier), "partner_id": ("categorical", tier)},
        personal_data_columns=("tier",),
    )
    assert out.loc["tier", "reason_category"] == "declared_personal_data"
    assert out.loc["partner_id", "reason_category"] == "identifier"


def test_categorical_levels_and_small_samples_are_not_personal_data(profiles):
    few = profiles.head(20)
    out = _decide(
        few,
        {
            "colour": ("categorical", ["green", "brown", "white", "black"] * 5),
            "referrer": ("categorical", [f"friend{i}@x.org" for i in range(20)]),
        },
    )
    assert out.loc["colour", "decision"] == "feature"  # four levels: not a column of surnames
    assert out.loc["referrer", "reason_category"] == "personal_data"  # e-mails are personal data at any size
    assert pd.isna(out.loc["colour", "age_association"])  # too few pairs to measure an association


def test_screening_is_deterministic_and_typed(profiles):
    rng = np.random.default_rng(1)
    columns = {
        "phone_service": ("categorical", rng.choice(["yes", "no"], N)),
        "senior_citizen": ("numeric", _senior(profiles)),
    }
    first = fs.to_arrow(fs.screen(_long(profiles, columns), profiles, fs.ScreeningSettings()))
    second = fs.to_arrow(
        fs.screen(_long(profiles, columns).sample(frac=1, random_state=4), profiles, fs.ScreeningSettings())
    )
    assert first.equals(second)
    assert fs.to_arrow(fs.screen(_empty(), profiles, fs.ScreeningSettings())).schema == fs.SCHEMA


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        columns=["byo_source", "column_name", "column_kind", "customer_id", "value_text", "value_number"]
    )
