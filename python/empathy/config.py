"""Paths and settings. Every path comes from an environment variable with a default inside the repo.

| variable               | default                                   | what                                   |
|------------------------|-------------------------------------------|----------------------------------------|
| EMPATHY_PROJECT_DIR    | the repo (folder holding dbt_project.yml) | dbt project                            |
| EMPATHY_HOME           | <project>/.empathy                        | everything the product writes          |
| EMPATHY_LANDING        | <home>/landing                            | landing files (Parquet, by table/day)  |
| EMPATHY_WAREHOUSE      | <home>/warehouse.duckdb                   | working database (gate + dbt build)    |
| EMPATHY_PUBLISHED      | <home>/published/empathy.duckdb           | what BI tools read (replaced atomically)|
| EMPATHY_CONFIG         | <project>/empathy.yml                     | gate thresholds, sector, dbt vars      |
| EMPATHY_RESTRICTED     | <home>/restricted/contact_centre.duckdb   | customer key -> id, contact centre only|
| EMPATHY_PII_SALT       | (none; the demo world: a public demo salt)| secret key of the published pseudonyms |
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

DEFAULTS = {
    "sector": "retail",
    "gate": {
        # A batch (one landing file) whose share of rejected rows exceeds this
        # blocks publication.
        "max_failure_rate": 0.05,
        # Allowed clock skew for "no future timestamps", in hours.
        "future_tolerance_hours": 1,
    },
    "publish": {"schemas": ["marts", "audit"]},
    # dbt vars passed to `dbt build` by `empathy run` (see dbt_project.yml for the list).
    "dbt": {"vars": {}},
    # Text model tier: fast (static embedding + linear heads) or accurate (fine-tuned MiniLM for sentiment and
    # emotions on English texts, the fast tier's heads for the rest).
    "text": {"tier": "fast"},
}
TEXT_TIERS = ("fast", "accurate")


def find_project_dir(start: Path | None = None) -> Path:
    env = os.environ.get("EMPATHY_PROJECT_DIR")
    if env:
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    for p in (here, *here.parents):
        if (p / "dbt_project.yml").exists():
            return p
    # Installed package used outside the repo: fall back to the source checkout.
    pkg_root = Path(__file__).resolve().parents[2]
    if (pkg_root / "dbt_project.yml").exists():
        return pkg_root
    raise FileNotFoundError(
        "cannot find dbt_project.yml in the current folder or its parents; "
        "run from the project folder or set EMPATHY_PROJECT_DIR"
    )


def _deep_merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


@dataclass
class Settings:
    project_dir: Path
    home: Path
    landing: Path
    warehouse: Path
    published: Path
    options: dict = field(default_factory=dict)

    @property
    def gate(self) -> dict:
        return self.options["gate"]

    @property
    def text_tier(self) -> str:
        tier = self.options["text"]["tier"]
        if tier not in TEXT_TIERS:
            raise ValueError(f"empathy.yml: text.tier is {tier!r}; use one of: {', '.join(TEXT_TIERS)}")
        return tier

    @property
    def restricted(self) -> Path:
        """The contact centre's lookup from published customer key to customer id (not for BI)."""
        env = os.environ.get("EMPATHY_RESTRICTED")
        return Path(env).resolve() if env else self.home / "restricted" / "contact_centre.duckdb"

    @property
    def profiles_dir(self) -> Path:
        return self.project_dir / "profiles"

    @property
    def dbt_target(self) -> Path:
        return self.home / "dbt" / "target"

    @property
    def gx_dir(self) -> Path:
        return self.home / "gx"

    def env(self) -> dict[str, str]:
        """Environment for child processes (dbt) so they see the same paths."""
        e = dict(os.environ)
        e.update(
            EMPATHY_PROJECT_DIR=str(self.project_dir),
            EMPATHY_HOME=str(self.home),
            EMPATHY_LANDING=str(self.landing),
            EMPATHY_WAREHOUSE=str(self.warehouse),
            EMPATHY_PUBLISHED=str(self.published),
            DBT_SEND_ANONYMOUS_USAGE_STATS="false",
            # dbt's artefacts and logs live with the data they describe, so two homes
            # (e.g. parallel test runs) never share a target folder.
            DBT_TARGET_PATH=str(self.dbt_target),
            DBT_LOG_PATH=str(self.home / "dbt" / "logs"),
        )
        from empathy.privacy import SALT_ENV, demo_salt

        # dbt hashes personal data with the salt; on the demo world without one, the public demo salt
        salt = demo_salt(self.landing)
        if salt:
            e[SALT_ENV] = salt
        return e


def load_settings(
    *,
    landing: Path | None = None,
    warehouse: Path | None = None,
    published: Path | None = None,
    home: Path | None = None,
) -> Settings:
    project = find_project_dir()
    home = Path(home or os.environ.get("EMPATHY_HOME") or project / ".empathy").resolve()
    cfg_path = Path(os.environ.get("EMPATHY_CONFIG") or project / "empathy.yml")
    options = copy.deepcopy(DEFAULTS)
    if cfg_path.exists():
        with cfg_path.open() as f:
            user = yaml.safe_load(f) or {}
        if not isinstance(user, dict):
            raise ValueError(f"{cfg_path}: expected a mapping at the top level")
        options = _deep_merge(DEFAULTS, user)
    return Settings(
        project_dir=project,
        home=home,
        landing=Path(landing or os.environ.get("EMPATHY_LANDING") or home / "landing").resolve(),
        warehouse=Path(warehouse or os.environ.get("EMPATHY_WAREHOUSE") or home / "warehouse.duckdb").resolve(),
        published=Path(
            published or os.environ.get("EMPATHY_PUBLISHED") or home / "published" / "empathy.duckdb"
        ).resolve(),
        options=options,
    )
