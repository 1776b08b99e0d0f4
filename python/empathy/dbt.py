"""Run dbt as a child process, with progress read from its JSON log lines.

A child process keeps dbt's global state and memory out of the orchestrating
process, and a build that is killed takes nothing else with it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from empathy.config import Settings


class DbtFailed(RuntimeError):
    pass


@dataclass
class DbtResult:
    command: list[str]
    returncode: int
    statuses: Counter = field(default_factory=Counter)  # (resource_type, status) -> n
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    marts: list = field(default_factory=list)  # empathy.mart_status.MartStatus rows after a successful build

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def count(self, resource_type: str, status: str | None = None) -> int:
        return sum(
            n for (rt, st), n in self.statuses.items() if rt == resource_type and (status is None or st == status)
        )


def dbt_executable() -> str:
    local = Path(sys.executable).parent / "dbt"
    if local.exists():
        return str(local)
    found = shutil.which("dbt")
    if not found:
        raise FileNotFoundError("dbt is not installed in this environment; run `make install`")
    return found


def run_dbt(settings: Settings, args: list[str], progress=None, env: dict[str, str] | None = None) -> DbtResult:
    """Run `dbt <args>` in the project; `progress(done, total, label)` is called per finished node.

    `env` adds variables to the child's environment (the pipeline's run id, which audit.model_status records).
    """
    import time

    cmd = [
        dbt_executable(),
        "--log-format",
        "json",
        "--no-use-colors",
        *args,
        "--project-dir",
        str(settings.project_dir),
        "--profiles-dir",
        str(settings.profiles_dir),
    ]
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    result = DbtResult(command=cmd, returncode=-1)
    start = time.monotonic()
    tail: list[str] = []
    with subprocess.Popen(
        cmd,
        cwd=settings.project_dir,
        env={**settings.env(), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.strip()
            if not line:
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                tail.append(line)
                continue
            info = event.get("info", {})
            data = event.get("data", {})
            name = info.get("name", "")
            msg = info.get("msg", "")
            if info.get("level") in ("error", "warn") and msg:
                tail.append(msg)
            node = data.get("node_info") or {}
            if name in ("LogModelResult", "LogTestResult", "LogSeedResult", "LogSnapshotResult", "LogNodeResult"):
                status = str(node.get("node_status") or data.get("status") or "").lower()
                rtype = node.get("resource_type") or name.removeprefix("Log").removesuffix("Result").lower()
                result.statuses[(rtype, status)] += 1
                if status in ("error", "fail"):
                    result.failures.append(msg)
                if progress:
                    total = data.get("total") or data.get("num_models") or 0
                    progress(int(data.get("index") or 0), int(total), node.get("node_name", ""))
            elif name in ("LogSkipBecauseError", "SkippingDetails"):
                rtype = node.get("resource_type") or "node"
                result.statuses[(rtype, "skipped")] += 1
                if progress:
                    total = data.get("total") or data.get("num_models") or 0
                    progress(int(data.get("index") or 0), int(total), node.get("node_name", ""))
            del tail[:-40]
        result.returncode = proc.wait()
    result.seconds = time.monotonic() - start
    if not result.ok and not result.failures:
        result.failures = tail[-15:]
    elif not result.ok:
        # the node lines say which model failed; the error events say why (database message, file, line)
        details = [m for m in tail if "error" in m.lower() and m not in result.failures]
        result.failures += details[-10:]
    return result
