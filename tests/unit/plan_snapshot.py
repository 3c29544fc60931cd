"""The plan of a campaign YAML as plain JSON data, to keep as a fixture and compare after the spec grows.

Only the fields the plan had when the fixture was taken are compared (`project`), so a new plan field
with its plain value (a task without `count`, a report every month) leaves an old snapshot matching.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from domain.plan import build_plan
from services.holidays import campaign_calendar
from services.spec_files import load_spec

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def plan_snapshot(path: Path) -> dict[str, Any]:
    spec = load_spec(path)
    plan = build_plan(spec, campaign_calendar(spec))
    return {
        "spec_json": json.loads(spec.model_dump_json()),
        "spec_sha256": hashlib.sha256(spec.model_dump_json().encode()).hexdigest(),  # as services.campaigns
        "templates": [{k: _plain(v) for k, v in dataclasses.asdict(t).items()} for t in plan.templates],
        "assignments": [{k: _plain(v) for k, v in dataclasses.asdict(a).items()} for a in plan.assignments],
    }


def project(records: list[dict[str, Any]], fields: list[str]) -> list[dict[str, Any]]:
    return [{k: r[k] for k in fields} for r in records]


def fixture_path(example: Path) -> Path:
    return FIXTURES / f"plan-{example.stem}.json"


def write_fixture(example: Path) -> None:
    fixture_path(example).write_text(
        json.dumps(plan_snapshot(example), ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":  # regenerate only when a plan change is intended: python -m tests.unit.plan_snapshot
    for name in ("yanjiang-2020.yaml", "hebei-huitoukan-2018.yaml"):
        write_fixture(FIXTURES / name)  # the examples as written for the schema before issue 16
