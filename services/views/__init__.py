"""The read models: every read the dashboard (and the bench) shows, one module per board or entity.

Each function takes the caller's session and the actor (`(session, *, actor, campaign_code, ...)`) and
scopes by the actor: the office and leaders read every department; a department actor reads only its
own department's rows, and naming another department is refused through `services.guard` (the unit
of work records the refusal). Reads are plain SQL over the records and the rollup table, returned as
DataFrames (boards and charts) or DTOs. Status words come from the domain vocabularies.
"""
