"""The one entry for each campaign operation that runs a flow: `run_tick` and `run_launch`. The CLI,
the dashboard and the benchmarks call them.

Prefect is imported only when a flow is about to run (about 2 s of the CLI's fixed cost; measured
here): what can be settled without the engine — a refused day, a re-tick of a day whose state has
not changed since its tick, storing the spec — is settled first, in the application's own store.
"""

from __future__ import annotations

import datetime as dt

from domain.access import SYSTEM, Actor
from domain.spec import CampaignSpec
from flows.runtime import embedded_engine, flow_settings
from services import campaigns, ticking
from services.campaigns import LaunchReport
from services.ticking import TickContext, TickSummary
from settings import Settings
from store.uow import UnitOfWork


def run_tick(
    campaign: str,
    as_of: dt.date,
    *,
    settings_or_db_url: Settings | str,
    actor: Actor = SYSTEM,
    at: dt.datetime | None = None,
) -> TickSummary:
    """Tick one campaign to `as_of` as `actor` (the CLI: SYSTEM; the dashboard's 巡检: the office
    user) on the embedded engine. A refused day is a message before any flow run starts; a re-tick
    of the last day with nothing recorded since (services.ticking.repeat_of_last_tick) is recorded
    as unchanged without starting one — every step would find its work done."""
    settings = flow_settings(settings_or_db_url)
    moment = at or settings.now()
    with UnitOfWork(settings.db_url) as uow:
        ticking.check_tick_date(uow.session, campaign, as_of)
        repeated = ticking.repeat_of_last_tick(uow.session, TickContext(campaign, as_of, actor, moment))
        uow.commit()
    if repeated is not None:
        return repeated
    from flows.campaign_flows import tick  # Prefect: loaded only when a flow runs

    with embedded_engine():
        return tick(campaign, as_of, settings.db_url, actor, moment)


def run_launch(
    spec: CampaignSpec,
    *,
    settings_or_db_url: Settings | str,
    actor: Actor = SYSTEM,
    at: dt.datetime | None = None,
    source_path: str | None = None,
    dry_run: bool = False,
) -> LaunchReport:
    """Launch a campaign, or apply a changed spec to it, as `actor` (checked and audited by
    services.campaigns.launch) through the launch flow on the embedded engine. The spec is stored
    first and the flow gets its digest, so any spec that fits the database launches."""
    settings = flow_settings(settings_or_db_url)
    moment = at or settings.now()
    with UnitOfWork(settings.db_url) as uow:
        digest = campaigns.store_spec(uow.session, spec, actor=actor, at=moment)
        uow.commit()
    from flows.campaign_flows import launch  # Prefect: loaded only when a flow runs

    with embedded_engine():
        return launch(spec.id, digest, moment, actor, source_path, dry_run, settings.db_url)
