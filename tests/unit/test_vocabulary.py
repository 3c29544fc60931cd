"""Every entity's one vocabulary: complete labels, unique labels, moves between its own members, and
each status label written in exactly one module of the project."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest

from domain import access, assignment, delivery, department, lead, problem, project
from domain.problem import EVENT_MOVES, PROBLEM, PROBLEM_CATEGORY, ProblemCategory
from domain.vocabulary import Vocabulary

ROOT = Path(__file__).resolve().parents[2]
VOCABULARY_MODULES = (access, assignment, delivery, department, lead, problem, project)
# Whose status labels must be written once: the labels people see for where a piece of work stands.
STATUS_VOCABULARIES = {
    "ASSIGNMENT": assignment.ASSIGNMENT,
    "LEAD": lead.LEAD,
    "PROBLEM": problem.PROBLEM,
    "DELIVERY": delivery.DELIVERY,
}
SKIPPED_DIRECTORIES = {".venv", "tests", ".git", "node_modules", "build", "dist", "__pycache__"}


def _vocabularies() -> list[tuple[str, Vocabulary[Any]]]:
    found = [
        (f"{m.__name__}.{name}", value)
        for m in VOCABULARY_MODULES
        for name, value in vars(m).items()
        if isinstance(value, Vocabulary)
    ]
    return sorted({id(v): (n, v) for n, v in found}.values(), key=lambda item: item[0])


VOCABULARIES = _vocabularies()


def test_every_entity_has_a_vocabulary() -> None:
    names = {name.rsplit(".", 1)[1] for name, _ in VOCABULARIES}
    assert {
        "ASSIGNMENT",
        "SUBMISSION",
        "PHASE_STATE",
        "LEAD",
        "LEAD_SOURCE",
        "LEAD_OUTCOME",
        "LEAD_MEASURE",
        "PROBLEM",
        "PROBLEM_CATEGORY",
        "HANDLING_CLASS",
        "PROBLEM_EVENT",
        "DELIVERY",
        "OUTBOX",
        "CHANNEL",
        "DEPARTMENT_KIND",
        "ROLE",
        "TENDER_METHOD",
    } <= names


@pytest.mark.parametrize(("name", "vocabulary"), VOCABULARIES, ids=[n for n, _ in VOCABULARIES])
def test_labels_complete_unique_and_moves_between_members(name: str, vocabulary: Vocabulary[Any]) -> None:
    members = list(vocabulary.enum)
    assert set(vocabulary.labels) == set(members), name
    labels = [vocabulary.labels[m] for m in members]
    assert all(label.strip() for label in labels), name
    assert len(set(labels)) == len(labels), f"{name}: two members share a label"
    for source, targets in vocabulary.transitions.items():
        assert source in members
        assert all(isinstance(t, vocabulary.enum) and t in members for t in targets), name
    for member in members:  # every member reads back from its value and its label
        assert vocabulary.parse(member.value) is member and vocabulary.parse(vocabulary.label(member)) is member


@pytest.mark.parametrize(("name", "vocabulary"), VOCABULARIES, ids=[n for n, _ in VOCABULARIES])
def test_an_alias_never_shadows_another_members_label(name: str, vocabulary: Vocabulary[Any]) -> None:
    for member in vocabulary.enum:
        assert vocabulary.parse(vocabulary.label(member)) is member, name


def test_problem_events_are_moves_the_problem_allows() -> None:
    for event, (source, target) in EVENT_MOVES.items():
        assert PROBLEM.allows(source, target), event


def test_the_retired_combined_category_reads_as_illegal_subcontracting() -> None:
    assert "转包/违法分包" not in PROBLEM_CATEGORY.choice_labels()
    assert PROBLEM_CATEGORY.parse("转包/违法分包") is ProblemCategory.illegal_subcontracting
    split = {ProblemCategory.subcontract_transfer.value, ProblemCategory.illegal_subcontracting.value}
    assert split == {"转包", "违法分包"}


def _project_sources() -> Iterator[Path]:
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if not SKIPPED_DIRECTORIES.intersection(relative.parts[:-1]):
            yield path


def _string_literals(tree: ast.AST) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value


def test_each_status_label_is_written_in_one_module() -> None:
    """A status label typed outside domain/ is a second copy of the vocabulary. domain/ is its one home:
    办理中 is both an assignment's and a lead's label, each written by its own vocabulary there."""
    wanted: dict[str, str] = {}
    for vocabulary_name, vocabulary in STATUS_VOCABULARIES.items():
        for member in vocabulary.enum:
            wanted.setdefault(vocabulary.label(member), f"{vocabulary_name}.{member.name}")
    seen: dict[str, set[str]] = {label: set() for label in wanted}
    for path in _project_sources():
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for text in _string_literals(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if text in seen:
                seen[text].add(module)
    assert all(any(m.startswith("domain.") for m in modules) for modules in seen.values())
    copies = {
        f"{label} ({wanted[label]})": sorted(m for m in modules if not m.startswith("domain."))
        for label, modules in seen.items()
    }
    copies = {label: modules for label, modules in copies.items() if modules}
    assert copies == {}, f"status labels written outside domain/: {copies}"


def test_the_walk_finds_the_domain_modules() -> None:
    """Guards the test above against a walk that silently reads nothing."""
    modules = {".".join(p.relative_to(ROOT).with_suffix("").parts) for p in _project_sources()}
    assert {"domain.assignment", "domain.lead", "domain.problem", "domain.delivery", "services.leads"} <= modules


def test_members_are_str_enums() -> None:
    for name, vocabulary in VOCABULARIES:
        assert issubclass(vocabulary.enum, StrEnum), name
