"""Which bring-your-own columns may become features, judged by what they hold rather than by their name.

Every extra column a company sends in customers or subscriptions is a candidate feature of the churn and
next-action models. `screen` decides each one, in this order, and gives the reason:

1. **declared**: the company lists it as personal data (var `personal_data_columns`);
2. **name rule**: a regular expression of the seed `feature_exclusions` matches its name (identifiers,
   sensitive attributes, outcome leakage; a user may still list columns there);
3. **personal data by value**: at least `personal_data_min_share` of its sampled values look like e-mail
   addresses, phone numbers, person names, street addresses or IBANs (and it has at least
   `MIN_DISTINCT_VALUES` distinct values, so a yes/no plan option is never "a phone number");
4. **proxy** of a sensitive attribute: its association with age (age band, from the birth year or the band)
   or with gender is at least `proxy_association_threshold`: bias-corrected Cramér's V over the column
   (numbers in up to ten quantile bins, text by level) and the attribute, and for numbers also the absolute
   Pearson correlation with the birth year. A proxy listed in var `allowed_proxy_columns` stays a feature.

Name rules come before values because they are the user's own statement; a personal-data column is kept out
whatever its association. Everything here reads only values and sensitive attributes, never an outcome.

The same decisions keep personal extra columns in staging: dim_customers (what BI reads) carries no column whose
reason category is in var `personal_data_categories` (macro byo_personal_columns).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

MIN_DISTINCT_VALUES = 10
MIN_PAIRS = 30  # fewer customers with both the column and the attribute known: no association is measured
AGE_BANDS = ((0, 24, "18-24"), (25, 34, "25-34"), (35, 44, "35-44"), (45, 54, "45-54"), (55, 64, "55-64"))
NAMES_FILE = Path(__file__).parent / "data" / "person_names.txt"

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)
PHONE_CHARS = re.compile(r"^\+?[\d\s().\-/]+$")
STREET_WORDS = (
    r"street|st|road|rd|avenue|ave|lane|ln|drive|dr|boulevard|blvd|way|court|ct|place|pl|square|sq|"
    r"calle|avenida|av|rua|travessa|praca|strasse|straße|str|weg|platz|gasse|rue|via|viale|piazza"
)
ADDRESS = re.compile(
    "|".join(
        [
            rf"^\d+[a-z]?,?\s+(\S+\s+){{0,4}}({STREET_WORDS})\.?(\s|,|$)",  # 221b Baker Street
            rf"^(\S+\s+){{0,3}}\S*({STREET_WORDS})\.?,?\s+\d+[a-z]?(\s|,|$)",  # Hauptstraße 5, Main St 12
            rf"^({STREET_WORDS})\.?\s+(\S+\s+){{0,4}}\S+,?\s+\d+[a-z]?(\s|,|$)",  # Rua das Flores, 100
        ]
    ),
    re.IGNORECASE,
)
IBAN = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$")
WORD = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*", re.UNICODE)

REASONS = {
    "declared_personal_data": "Declared personal data (var personal_data_columns): kept out of the features.",
    "personal_data": "{share:.0%} of its sampled values look like {what}: personal data is kept out of the features.",
    "age_proxy": "Strongly associated with age ({method} {value:.2f} >= {threshold:g}): a proxy of a protected "
    "attribute; list it in var allowed_proxy_columns to use it anyway.",
    "gender_proxy": "Strongly associated with gender ({method} {value:.2f} >= {threshold:g}): a proxy of a "
    "protected attribute; list it in var allowed_proxy_columns to use it anyway.",
    "allowed_proxy": "Associated with {attribute} ({method} {value:.2f}) but allowed by var allowed_proxy_columns.",
}
PATTERN_WORDS = {
    "email": "e-mail addresses",
    "phone": "phone numbers",
    "name": "person names",
    "address": "street addresses",
    "iban": "IBANs",
}


@dataclass(frozen=True)
class ScreeningSettings:
    personal_data_min_share: float = 0.5
    proxy_association_threshold: float = 0.5
    allowed_proxy_columns: tuple[str, ...] = ()
    personal_data_columns: tuple[str, ...] = ()
    name_rules: tuple[tuple[str, str, str], ...] = ()  # (regex, category, reason) of seed feature_exclusions


@dataclass
class Decision:
    byo_source: str
    column_name: str
    column_kind: str
    decision: str = "feature"  # feature | excluded
    reason_category: str | None = None
    reason: str = "A candidate feature: no rule keeps it out."
    sampled_values: int = 0
    distinct_values: int = 0
    matched_pattern: str | None = None
    matched_share: float | None = None
    age_association: float | None = None
    gender_association: float | None = None
    association_method: dict = field(default_factory=dict)


# -- values ------------------------------------------------------------------------------------------------------
@cache
def person_names() -> frozenset[str]:
    words = []
    for line in NAMES_FILE.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            words += line.split()
    return frozenset(words)


def _is_phone(value: str) -> bool:
    if not PHONE_CHARS.match(value):
        return False
    digits = sum(ch.isdigit() for ch in value)
    separated = value.startswith(("+", "0", "(")) or any(ch in value for ch in " -./()")
    return 8 <= digits <= 15 and separated


def _is_name(value: str) -> bool:
    words = WORD.findall(value)
    if any(ch.isdigit() for ch in value) or not 1 <= len(words) <= 4:
        return False
    return any(w.lower() in person_names() for w in words)


def _is_iban(value: str) -> bool:
    compact = value.replace(" ", "").upper()
    if not IBAN.match(compact):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


CHECKS = {  # the more specific first
    "email": lambda v: bool(EMAIL.match(v)),
    "iban": _is_iban,
    "phone": _is_phone,
    "address": lambda v: bool(ADDRESS.search(v)),
    "name": _is_name,
}


def pattern_shares(values: pd.Series) -> dict[str, float]:
    """Share of the non-empty values that look like each kind of personal data."""
    text = values.dropna().astype(str).str.strip()
    text = text[text != ""]
    if text.empty:
        return dict.fromkeys(CHECKS, 0.0)
    distinct = text.value_counts()
    out = {}
    for kind, check in CHECKS.items():
        hits = np.array([check(v) for v in distinct.index])
        out[kind] = float(distinct.to_numpy()[hits].sum() / distinct.sum())
    return out


# -- association -------------------------------------------------------------------------------------------------
def cramers_v(x: pd.Series, y: pd.Series) -> float:
    """Bias-corrected Cramér's V (Bergsma 2013) of two categorical series of equal length, NaN pairs dropped."""
    pairs = pd.DataFrame({"x": x.to_numpy(), "y": y.to_numpy()}).dropna()
    if len(pairs) < MIN_PAIRS:
        return float("nan")
    table = pd.crosstab(pairs["x"], pairs["y"]).to_numpy().astype(float)
    n = table.sum()
    rows, cols = table.shape
    if rows < 2 or cols < 2:
        return 0.0
    expected = np.outer(table.sum(1), table.sum(0)) / n
    phi2 = float(((table - expected) ** 2 / expected).sum() / n)
    phi2c = max(0.0, phi2 - (rows - 1) * (cols - 1) / (n - 1))
    rows_c = rows - (rows - 1) ** 2 / (n - 1)
    cols_c = cols - (cols - 1) ** 2 / (n - 1)
    denom = min(rows_c - 1, cols_c - 1)
    return float(np.sqrt(phi2c / denom)) if denom > 0 else 0.0


def as_levels(values: pd.Series, kind: str) -> pd.Series:
    """Numbers in up to ten quantile bins, text by level (its 30 commonest, the rest as one), missing kept NaN."""
    if kind == "numeric":
        numbers = pd.to_numeric(values, errors="coerce")
        if numbers.nunique() <= 10:
            return numbers
        return pd.qcut(numbers, 10, labels=False, duplicates="drop")
    text = values.astype("string").str.strip().str.lower()
    top = text.value_counts().index[:30]
    return text.where(text.isin(top) | text.isna(), "__other__")


def age_bands(birth_year: pd.Series, age_band: pd.Series, reference_year: int) -> pd.Series:
    """The age band of each customer: from the birth year where known, else the stated band."""
    age = reference_year - pd.to_numeric(birth_year, errors="coerce")
    band = pd.Series(pd.NA, index=birth_year.index, dtype="string")
    for low, high, label in AGE_BANDS:
        band = band.mask(age.between(low, high), label)
    band = band.mask(age >= 65, "65+")
    return band.fillna(age_band.astype("string").str.strip())


def associations(values: pd.Series, kind: str, profile: pd.DataFrame) -> dict[str, tuple[float, str]]:
    """{attribute: (strength, method)} of a column with age and gender (NaN when too few pairs)."""
    levels = as_levels(values, kind)
    gender = profile["gender"].astype("string").str.strip().str.lower()
    gender = gender.where(~gender.isin(["unknown", ""]))
    out = {
        "age": (cramers_v(levels, profile["age_band"]), "Cramér's V"),
        "gender": (cramers_v(levels, gender), "Cramér's V"),
    }
    if kind == "numeric":
        pairs = pd.DataFrame(
            {"x": pd.to_numeric(values, errors="coerce").to_numpy(), "y": profile["birth_year"].to_numpy(float)}
        ).dropna()
        if len(pairs) >= MIN_PAIRS and pairs["x"].std() > 0 and pairs["y"].std() > 0:
            r = abs(float(np.corrcoef(pairs["x"], pairs["y"])[0, 1]))
            v = out["age"][0]
            if np.isnan(v) or r > v:
                out["age"] = (r, "|correlation| with birth year")
    return out


# -- decisions ---------------------------------------------------------------------------------------------------
def _name_rule(name: str, settings: ScreeningSettings) -> tuple[str, str] | None:
    for regex, category, reason in settings.name_rules:
        if re.fullmatch(regex, name.lower()):
            return category, f"Name matches seed feature_exclusions rule {category}: {reason}"
    return None


def _personal_by_value(decision: Decision, values: pd.Series, settings: ScreeningSettings) -> bool:
    if decision.distinct_values < MIN_DISTINCT_VALUES:
        return False
    shares = pattern_shares(values)
    kind = max(shares, key=lambda k: (shares[k], -list(CHECKS).index(k)))  # ties: the more specific kind
    if shares[kind] < settings.personal_data_min_share:
        return False
    decision.decision, decision.reason_category = "excluded", "personal_data"
    decision.matched_pattern, decision.matched_share = kind, round(shares[kind], 4)
    decision.reason = REASONS["personal_data"].format(share=shares[kind], what=PATTERN_WORDS[kind])
    return True


def _proxy(decision: Decision, values: pd.Series, profile: pd.DataFrame, settings: ScreeningSettings) -> None:
    found = associations(values, decision.column_kind, profile)
    decision.age_association = None if np.isnan(found["age"][0]) else round(found["age"][0], 4)
    decision.gender_association = None if np.isnan(found["gender"][0]) else round(found["gender"][0], 4)
    decision.association_method = {k: m for k, (_, m) in found.items()}
    strong = [
        (value, attribute, method)
        for attribute, (value, method) in found.items()
        if not np.isnan(value) and value >= settings.proxy_association_threshold
    ]
    if not strong:
        return
    value, attribute, method = max(strong)
    allowed = decision.column_name.lower() in {c.lower() for c in settings.allowed_proxy_columns}
    args = {"method": method, "value": value, "threshold": settings.proxy_association_threshold}
    if allowed:
        decision.reason_category = "allowed_proxy"
        decision.reason = REASONS["allowed_proxy"].format(attribute=attribute, **args)
        return
    decision.decision, decision.reason_category = "excluded", f"{attribute}_proxy"
    decision.reason = REASONS[f"{attribute}_proxy"].format(**args)


def screen_column(
    byo_source: str,
    column_name: str,
    column_kind: str,
    values: pd.Series,
    profile: pd.DataFrame,
    settings: ScreeningSettings,
) -> Decision:
    """The decision on one candidate column; `values` and `profile` (age_band, birth_year, gender) align by row."""
    present = values.dropna()
    decision = Decision(byo_source, column_name, column_kind, sampled_values=len(present))
    decision.distinct_values = int(present.nunique())
    if column_name.lower() in {c.lower() for c in settings.personal_data_columns}:
        decision.decision, decision.reason_category = "excluded", "declared_personal_data"
        decision.reason = REASONS["declared_personal_data"]
        return decision
    rule = _name_rule(column_name, settings)
    if rule is not None:
        decision.decision, (decision.reason_category, decision.reason) = "excluded", rule
        return decision
    if column_kind == "categorical" and _personal_by_value(decision, values, settings):
        return decision
    _proxy(decision, values, profile, settings)
    return decision


def screen(values: pd.DataFrame, profiles: pd.DataFrame, settings: ScreeningSettings) -> pd.DataFrame:
    """One row per candidate column of `values` (byo_source, column_name, column_kind, customer_id, value_text,
    value_number), judged against `profiles` (customer_id, birth_year, age_band, gender, created_at)."""
    profiles = profiles.drop_duplicates("customer_id").set_index("customer_id")
    created = pd.to_datetime(profiles["created_at"], errors="coerce")
    reference_year = int(created.max().year) if created.notna().any() else 2000
    profiles["age_band"] = age_bands(profiles["birth_year"], profiles["age_band"], reference_year)
    decisions = []
    for (source, name, kind), rows in values.groupby(["byo_source", "column_name", "column_kind"], sort=True):
        rows = rows.sort_values("customer_id", kind="stable")
        column = rows["value_number"] if kind == "numeric" else rows["value_text"]
        profile = profiles.reindex(rows["customer_id"]).reset_index(drop=True)
        decisions.append(screen_column(source, name, kind, column.reset_index(drop=True), profile, settings))
    return pd.DataFrame([_row(d) for d in decisions], columns=COLUMNS)


COLUMNS = [
    "feature_column_id",
    "byo_source",
    "column_name",
    "column_kind",
    "decision",
    "reason_category",
    "reason",
    "sampled_values",
    "distinct_values",
    "matched_pattern",
    "matched_share",
    "age_association",
    "gender_association",
    "association_method",
]


SCHEMA = pa.schema(
    [
        ("feature_column_id", pa.string()),
        ("byo_source", pa.string()),
        ("column_name", pa.string()),
        ("column_kind", pa.string()),
        ("decision", pa.string()),
        ("reason_category", pa.string()),
        ("reason", pa.string()),
        ("sampled_values", pa.int64()),
        ("distinct_values", pa.int64()),
        ("matched_pattern", pa.string()),
        ("matched_share", pa.float64()),
        ("age_association", pa.float64()),
        ("gender_association", pa.float64()),
        ("association_method", pa.string()),
    ]
)


def to_arrow(decisions: pd.DataFrame) -> pa.Table:
    """The screening as an Arrow table with fixed types (also when there is no candidate column)."""
    return pa.Table.from_pandas(decisions, schema=SCHEMA, preserve_index=False)


def _row(d: Decision) -> dict:
    method = "; ".join(f"{k}: {m}" for k, m in sorted(d.association_method.items())) or None
    own = {c: getattr(d, c) for c in COLUMNS if c not in ("feature_column_id", "association_method")}
    return {"feature_column_id": f"{d.byo_source}:{d.column_name}", **own, "association_method": method}
