"""`campaign score` on the demo database (`campaign demo --no-dashboard`): the ranking it prints follows the
YAML's scoring rules, recomputed here by hand from the raw records (plain sqlite3, not the services).

The demo database is the one tests/conftest.py builds once per test session as `campaign demo` does (the
simulation, then the demo's accounts); `campaign score` runs in-process (tests/cli_support.run_cli) on a
private copy of it. tests/e2e/test_cli.py runs `campaign demo` itself as a process, end to end."""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from collections import Counter

from cli.campaign_commands import DEMO_PASSWORD
from domain.localtime import LOCAL_TZ
from domain.spec import CampaignSpec
from services.holidays import campaign_calendar
from tests.cli_support import run_cli

BEIJING = LOCAL_TZ


def _day(value: str | None) -> dt.date | None:
    """A stored UTC instant as its Beijing day."""
    if value is None:
        return None
    moment = dt.datetime.fromisoformat(value)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(BEIJING).date()


def _by_hand(db) -> tuple[dt.date, list[tuple[str, float]]]:
    con = sqlite3.connect(db)
    cid, spec_json, last = con.execute("SELECT id, spec_json, last_tick_on FROM campaign").fetchone()
    spec = CampaignSpec.model_validate_json(spec_json)
    day = dt.date.fromisoformat(last)
    cal = campaign_calendar(spec)
    rules = spec.scoring
    depts = dict(
        con.execute("SELECT id, name FROM department WHERE campaign_id=? AND active AND NOT is_office", (cid,))
    )
    n: dict[str, Counter[int]] = {k: Counter() for k in ("late", "esc", "ret", "uns", "duban", "early")}
    subs: dict[int, list[tuple]] = {}
    for aid, at, state, reviewed in con.execute(
        "SELECT assignment_id, submitted_at, state, reviewed_at FROM submission ORDER BY seq"
    ):
        subs.setdefault(aid, []).append((_day(at), state, _day(reviewed)))
    for aid, dept, opens, due_text, ack in con.execute(
        "SELECT id, department_id, opens_on, due_on, acknowledged_at FROM assignment WHERE campaign_id=? "
        "AND status NOT IN ('cancelled', 'scheduled') AND opens_on <= ? AND NOT ongoing",
        (cid, day.isoformat()),
    ):
        due = dt.date.fromisoformat(due_text)
        mine = subs.get(aid, [])
        standing = [
            s for s in mine if s[0] <= day and (s[1] in ("pending", "accepted") or (s[1] == "returned" and s[2] > day))
        ]
        end = standing[-1][0] if standing else day
        if end > due:
            n["late"][dept] += max(1, cal.workdays_between(due, end))
        n["ret"][dept] += sum(1 for s in mine if s[1] == "returned" and s[2] <= day)
        accepted = [s for s in mine if s[1] == "accepted"]
        if accepted and (accepted[-1][2] or accepted[-1][0]) <= day and accepted[-1][0] < due:
            n["early"][dept] += 1
        within = spec.acknowledge_within_working_days
        if within is not None:
            deadline = cal.add_workdays(dt.date.fromisoformat(opens), within)
            signed = _day(ack)
            if deadline < day and (signed is None or signed > day or signed > deadline):
                n["uns"][dept] += 1
    for dept, reached in con.execute(
        "SELECT a.department_id, e.reached_on FROM escalation e JOIN assignment a ON a.id = e.assignment_id"
    ):
        n["esc"][dept] += dt.date.fromisoformat(reached) <= day
    for dept, issued, respond_by, answered in con.execute(
        "SELECT department_id, issued_on, respond_due_on, answered_at FROM duban"
    ):
        due = dt.date.fromisoformat(respond_by)
        if dt.date.fromisoformat(issued) <= day and day > due:  # past its 反馈期限 on the day
            n["duban"][dept] += _day(answered) is None or _day(answered) > due
    scores = []
    for dept, name in depts.items():
        score = rules.base
        for key, rule, sign in (
            ("late", rules.overdue_day, -1),
            ("esc", rules.escalation_level, -1),
            ("ret", rules.returned_submission, -1),
            ("uns", rules.unsigned, -1),
            ("duban", rules.duban_unanswered, -1),
            ("early", rules.early_completion, 1),
        ):
            score += sign * round(min(rule.points * n[key][dept], rule.cap), 2)
        scores.append((name, round(score, 2)))
    scores.sort(key=lambda x: -x[1])
    return day, scores


def test_score_on_the_demo_database_ranks_as_the_yaml_rules_say(demo_copy, tmp_path, monkeypatch, capsys):
    db = demo_copy  # tmp_path/data/demo.db, where `campaign demo` run from tmp_path leaves it
    monkeypatch.chdir(tmp_path)
    proc = run_cli(
        "score", "--campaign", "yanjiang-2020", "--as", "leader",
        env={"CAMPAIGN_DATABASE_URL": f"sqlite:///{db}", "CAMPAIGN_PASSWORD": DEMO_PASSWORD},
        monkeypatch=monkeypatch, capsys=capsys,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    printed = [line.split() for line in proc.stdout.splitlines() if re.match(r"\s*\d+\s", line)]
    day, expected = _by_hand(db)
    assert f"截至 {day}" in proc.stdout
    assert [(cols[1], float(cols[2])) for cols in printed] == sorted(
        expected, key=lambda x: (-x[1], _code_of(db, x[0]))
    )
    assert len({float(cols[2]) for cols in printed}) > 1  # the demo's departments do differ
    # 督办单 were issued and some answered; a 批示 was written: the demo shows the loop with data
    con = sqlite3.connect(db)
    assert con.execute("SELECT count(*) FROM duban WHERE number LIKE '雁督〔2020〕%'").fetchone()[0] > 0
    assert con.execute("SELECT count(*) FROM duban WHERE state = 'answered'").fetchone()[0] > 0
    assert con.execute("SELECT count(*) FROM instruction WHERE task_assignment_id IS NOT NULL").fetchone()[0] == 1
    assert json.loads(con.execute("SELECT reasons FROM score_snapshot LIMIT 1").fetchone()[0])


def _code_of(db, name: str) -> str:
    return sqlite3.connect(db).execute("SELECT code FROM department WHERE name = ?", (name,)).fetchone()[0]
