"""Every ``pantheon …`` command the runbooks and deployment docs cite exists, with those
options: a renamed command or option fails here, not during an incident."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.cli_invocations import (
    Invocation,
    invocations_in_line,
    invocations_in_markdown,
    problems,
)

ROOT = Path(__file__).resolve().parents[2]
RUNBOOKS = sorted((ROOT / "docs" / "runbooks").glob("*.md"))
DOCS = [*RUNBOOKS, ROOT / "docs" / "deployment.md", ROOT / "docs" / "environment.md"]
INVOCATIONS = [invocation for doc in DOCS for invocation in invocations_in_markdown(doc, ROOT)]
SECTIONS = ("## When to use", "## Steps", "## Verify", "## Back out")


def test_the_runbooks_are_there() -> None:
    names = {path.stem for path in RUNBOOKS}
    assert names >= {"deploy", "promote", "rollback", "rotate-keys", "restore-backup",
                     "provider-outage"}


@pytest.mark.parametrize("runbook", RUNBOOKS, ids=lambda path: path.stem)
def test_a_runbook_says_when_how_verify_and_back_out(runbook: Path) -> None:
    text = runbook.read_text(encoding="utf-8")
    positions = [text.find(f"\n{section}\n") for section in SECTIONS]
    assert all(p >= 0 for p in positions), f"{runbook.name} needs the sections {SECTIONS}"
    assert positions == sorted(positions), f"{runbook.name}: sections out of order"
    assert invocations_in_markdown(runbook, ROOT), f"{runbook.name} cites no pantheon command"


@pytest.mark.parametrize("runbook", RUNBOOKS, ids=lambda path: path.stem)
def test_runbooks_are_linked_from_the_docs_index(runbook: Path) -> None:
    index = (ROOT / "docs" / "README.md").read_text(encoding="utf-8")
    assert f"(runbooks/{runbook.name})" in index


def test_the_readme_points_at_operations() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Operations" in readme and "(docs/README.md)" in readme


@pytest.mark.parametrize("invocation", INVOCATIONS, ids=lambda i: f"{i.where} {i}")
def test_cited_command_exists(invocation: Invocation) -> None:
    assert problems(invocation) == [], f"{invocation.where}: {invocation}"


def test_enough_commands_are_checked() -> None:
    # A parser that silently found nothing would pass every test above.
    assert len(INVOCATIONS) >= 40


@pytest.mark.parametrize(("line", "problem"), [
    ("pantheon db upgrad", "has no command 'upgrad'"),
    ("pantheon db downgrade", "needs 1 argument(s)"),
    ("pantheon jobs runs --lmit 5", "has no option '--lmit'"),
    ("railway ssh --service api -- pantheon --as x@example.com billing grant a@b.c", "needs 2"),
    ("pantheon db current extra", "takes at most 0"),
    ("pantheon admin audit --since", "--since needs a value"),
])
def test_the_checker_catches_mistakes(line: str, problem: str) -> None:
    [invocation] = invocations_in_line(line, "example")
    found = problems(invocation)
    assert found and problem in found[0]


@pytest.mark.parametrize("line", [
    "X=$(railway ssh --service api -- pantheon db current --json | jq -r .current)",
    "pantheon --as a@example.com billing grant b@example.com 10 --reason 'a welcome gift'",
    "pantheon admin cap a@example.com --clear",
    "pantheon serve --host 0.0.0.0 --port=8000",
    "pantheon …",
])
def test_the_checker_accepts_real_commands(line: str) -> None:
    [invocation] = invocations_in_line(line, "example")
    assert problems(invocation) == []


LINK = re.compile(r"\]\(([^)\s]+)\)")


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return {_anchor(line.lstrip("#")) for line in lines if line.startswith("#")}


@pytest.mark.parametrize("doc", [*DOCS, ROOT / "docs" / "README.md"],
                         ids=lambda path: str(path.relative_to(ROOT)))
def test_links_between_the_docs_resolve(doc: Path) -> None:
    for target in LINK.findall(doc.read_text(encoding="utf-8")):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        file_part, _, anchor = target.partition("#")
        linked = (doc.parent / file_part).resolve() if file_part else doc
        assert linked.exists(), f"{doc.name}: {target} does not exist"
        if anchor:
            assert anchor in _anchors(linked), f"{doc.name}: no heading #{anchor} in {linked.name}"
