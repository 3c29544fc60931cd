"""Prefect flows: they only compose tasks. `as_of` is always a parameter, never read from a clock."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from prefect import flow

from domain.access import SYSTEM, Actor
from domain.spec import CampaignSpec, PhaseKind
from services.campaigns import LaunchReport
from services.ticking import PhaseTick, StepCounts
from tasks import campaign_tasks as t
from tasks import work_tasks as w


@flow(name="launch-campaign", flow_run_name="launch-{spec.id}")
def launch(spec: CampaignSpec, at: dt.datetime, actor: Actor = SYSTEM, source_path: str | None = None,
           dry_run: bool = False, db_url: str | None = None) -> LaunchReport:
    return t.launch_campaign(spec, actor, at, source_path, dry_run, db_url)


def _phase_steps(campaign: str, phase: PhaseTick, as_of: dt.date, db_url: str | None) -> StepCounts:
    """The mechanism every phase kind shares: open what is due, mark overdue, escalate, remind."""
    opened = t.open_assignments(phase, as_of, db_url)
    overdue = t.mark_overdue(campaign, phase, as_of, db_url)
    escalations = t.record_escalations(campaign, phase, as_of, db_url)
    reminders = t.record_reminders(campaign, phase, as_of, db_url)
    return StepCounts(opened, overdue, escalations, reminders)


def _phase_flow(kind: PhaseKind):  # noqa: ANN202
    @flow(name=f"phase-{kind.value}", flow_run_name="{campaign}-{phase.key}-{as_of}")
    def run(campaign: str, phase: PhaseTick, as_of: dt.date, db_url: str | None = None) -> StepCounts:
        return _phase_steps(campaign, phase, as_of, db_url)

    return run


@flow(name="phase-verification", flow_run_name="{campaign}-{phase.key}-{as_of}")
def verification_phase(campaign: str, phase: PhaseTick, as_of: dt.date, db_url: str | None = None) -> StepCounts:
    """重点核查: draw each department's sample (once) before the shared steps see its assignments."""
    w.draw_samples(campaign, phase, as_of, db_url)
    return _phase_steps(campaign, phase, as_of, db_url)


PHASE_FLOWS = {kind: _phase_flow(kind) for kind in PhaseKind} | {PhaseKind.verification: verification_phase}


@dataclass(frozen=True)
class TickSummary:
    campaign: str
    as_of: dt.date
    phases: dict[str, str] = field(default_factory=dict)  # key -> state
    counts: StepCounts = StepCounts()
    rollup_rows: int = 0


@flow(name="tick-campaign", flow_run_name="tick-{campaign}-{as_of}")
def tick(campaign: str, as_of: dt.date, db_url: str | None = None) -> TickSummary:
    phases = t.sync_phases(campaign, as_of, db_url)
    counts = StepCounts()
    for phase in phases:
        if phase.needs_work:
            counts = counts + PHASE_FLOWS[PhaseKind(phase.kind)](campaign, phase, as_of, db_url)
    rows = t.write_rollup(campaign, as_of, db_url)
    return TickSummary(campaign, as_of, {p.key: p.state for p in phases}, counts, rows)
