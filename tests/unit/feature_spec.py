"""A small campaign YAML that uses every issue-16 feature once, for the spec and plan feature tests."""

from __future__ import annotations

FEATURES_YAML = """\
id: features
title: 功能示例
issuer: 联席办
start: 2025-03-03
end: 2026-02-27
office: bgs
departments:
  - {code: bgs, name: 联席办, kind: office}
  - {code: ga, name: 公安局, kind: police, tags: [成员]}
  - {code: zj, name: 住建局, kind: industry_regulator, tags: [成员, 行业]}
  - {code: jt, name: 交通局, kind: industry_regulator, tags: [成员, 行业]}
phases:
  - key: build
    kind: implementation
    title: 组织实施
    start: 2025-03-03
    end: 2025-06-30
    tasks:
      - key: raids
        title: 集中收网
        deliverable: report
        assignees: {departments: [ga]}
        count: 3
        batches: [2025-04-30, 2025-05-30]
        due: 2025-06-30
      - key: duty
        title: 标后履约监管
        deliverable: report
        assignees: {tags: [成员]}
        due: ongoing
        reported_in: [monthly]
  - key: extra
    title: 自选与巩固
    start: 2025-07-01
    end: 2026-02-27
    optional_items:
      assignees: {tags: [行业]}
      max_per_department: 3
      deliverables: [report, ledger]
      note: 不允许以自选事项清理整改取代本方案规定的事项整改
    tasks:
      - key: wrapup
        title: 巩固提升总结
        deliverable: report
        assignees: {tags: [行业]}
        due: {working_days_after: phase_start, days: 10}
recurring_reports:
  - key: monthly
    title: 月报
    assignees: {tags: [成员]}
    day_of_month: 20
  - key: weekly
    title: 周报
    assignees: {departments: [zj]}
    every: week
    weekday: 5
    first_month: 2025-11-01
  - key: quarterly
    title: 季报
    assignees: {departments: [bgs]}
    every: quarter
    day_of_month: 10
  - key: yearly
    title: 年报
    assignees: {departments: [bgs]}
    every: year
    day_of_month: 15
sampling:
  phase: build
  min_ratio: 0.2
"""


def features_with(old: str, new: str) -> str:
    assert FEATURES_YAML.count(old) == 1, old
    return FEATURES_YAML.replace(old, new)


def line_of(text: str, fragment: str, after: str = "") -> int:
    """The 1-based line holding `fragment` (the first one after the line holding `after`)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i, line in enumerate(lines[start:], start + 1) if fragment in line)
