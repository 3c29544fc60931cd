"""Red-flag screening of the bid register (issue 14): pure types, rules, collusion groups, scores and the
risk-weighted verification draw. Only stdlib and pydantic; the database, imports and pages plug in from outside.

Entry points: `scan.scan(register, settings)` → `RiskScan`; `draw.draw_department(...)` / `draw.draw_register(...)`;
`synthetic.generate(...)` builds a register with planted rings for tests, the bench and the demo.
"""
