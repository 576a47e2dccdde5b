"""docs/environment.md documents every setting, as the code defines it.

A setting added to ``Settings`` without a row fails here with the row to add; a row whose
type or default drifted from the code fails with what the code says. ``NEXT_PUBLIC_*``
variables used by the web app are held to the same rule.
"""

from __future__ import annotations

import re
import types
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pytest
from pydantic import AliasChoices
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from pantheon_adapters.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "environment.md"
WEB_SOURCES = ("app", "components", "hooks", "lib", "next.config.ts")
PROCESSES = {"all", "web", "worker", "release", "cli"}
# A name ending in one of these words (…_API_KEY, …_WEBHOOK_SECRET, …_ACCESS_KEY_ID) is a secret.
SENSITIVE = re.compile(r"_(KEY|SECRET|PASSWORD|TOKEN|DSN)(_ID)?$")
HEADER = ["variable", "type", "default", "process", "secret", "meaning"]


@dataclass(frozen=True)
class Row:
    variable: str
    type: str
    default: str
    process: str
    secret: str
    meaning: str


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def _rows(section: str) -> dict[str, Row]:
    """The table rows under the ``## `` heading that starts with ``section``."""
    rows: dict[str, Row] = {}
    inside = False
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            inside = line[3:].startswith(section)
            continue
        if not inside or not line.startswith("| `"):
            continue
        cells = _cells(line)
        assert len(cells) == len(HEADER), f"a row needs {HEADER}: {line}"
        row = Row(cells[0].strip("`"), *cells[1:])
        assert row.variable not in rows, f"{row.variable} is documented twice"
        rows[row.variable] = row
    return rows


def _env_names(name: str, field: FieldInfo) -> list[str]:
    """The environment variables a field reads, the primary one first."""
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return [choice for choice in alias.choices
                if isinstance(choice, str) and choice.isupper()]
    if isinstance(alias, str):
        return [alias.upper()]
    return [f"PANTHEON_{name.upper()}"]


SETTINGS = {_env_names(name, field)[0]: field for name, field in Settings.model_fields.items()}
ROWS = _rows("Settings")


def _core_type(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            rest = [arg for arg in get_args(annotation) if arg is not type(None)]
            annotation = rest[0] if len(rest) == 1 else annotation
            if len(rest) != 1:
                return annotation
        else:
            return annotation


def expected_type_words(annotation: Any) -> list[str]:
    """Words the type cell must contain for this annotation."""
    core = _core_type(annotation)
    if get_origin(core) is Literal:
        return [f"`{value}`" for value in get_args(core)]
    if get_origin(core) in (list, dict):
        return ["json"]
    for kind, word in ((bool, "boolean"), (int, "integer"), (float, "number"),
                       (Decimal, "decimal"), (Path, "path"), (str, "string")):
        if core is kind:
            return [word]
    raise AssertionError(f"no documented type word for {annotation!r}: extend this test")


def default_spellings(field: FieldInfo) -> list[str] | None:
    """How the default may be written in the default cell (in backticks), or None when the
    default is derived (unset or computed) and the meaning column explains it."""
    value = field.default
    if field.default_factory is not None or value is None or value is PydanticUndefined:
        return None
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, float):
        return [repr(value), f"{value:g}"]
    return [str(value)]


def test_every_setting_is_documented() -> None:
    missing = sorted(set(SETTINGS) - set(ROWS))
    skeletons = "\n".join(
        f"| `{name}` | {', '.join(expected_type_words(SETTINGS[name].annotation))} | … |"
        " … | … | … |" for name in missing)
    assert not missing, f"docs/environment.md lacks rows for {missing}:\n{skeletons}"


def test_every_documented_setting_exists() -> None:
    stale = sorted(set(ROWS) - set(SETTINGS))
    assert not stale, f"docs/environment.md documents settings the code no longer has: {stale}"


def test_other_names_of_a_setting_are_mentioned() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name, field in Settings.model_fields.items():
        for alias in _env_names(name, field)[1:]:
            assert f"`{alias}`" in text, f"{alias} (read for {name}) is not mentioned"


@pytest.mark.parametrize("variable", sorted(set(SETTINGS) & set(ROWS)))
def test_row_agrees_with_the_code(variable: str) -> None:
    row, field = ROWS[variable], SETTINGS[variable]
    for word in expected_type_words(field.annotation):
        assert word in row.type.lower(), f"{variable}: the type cell {row.type!r} lacks {word!r}"
    spellings = default_spellings(field)
    if spellings is not None:
        assert any(f"`{spelling}`" in row.default for spelling in spellings), \
            f"{variable}: the default cell {row.default!r} should show `{spellings[0]}`"
    processes = {part.strip() for part in row.process.split(",")}
    assert processes and processes <= PROCESSES, f"{variable}: process {row.process!r}"
    assert row.secret in ("yes", "no"), f"{variable}: secret must be yes or no"
    if SENSITIVE.search(variable):
        assert row.secret == "yes", f"{variable} looks like a secret: mark it secret"
    assert row.meaning, f"{variable}: say what it means"


def _web_variables() -> set[str]:
    found: set[str] = set()
    web = ROOT / "web"
    for entry in WEB_SOURCES:
        path = web / entry
        files = [path] if path.is_file() else [*path.rglob("*.ts"), *path.rglob("*.tsx")]
        for file in files:
            found |= set(re.findall(r"NEXT_PUBLIC_[A-Z0-9_]+", file.read_text(encoding="utf-8")))
    return found


def test_web_build_variables_are_documented() -> None:
    used = _web_variables()
    documented = set(_rows("Web app"))
    assert used, "the web app reads no NEXT_PUBLIC_* variable: is WEB_SOURCES right?"
    assert used == documented, (f"undocumented: {sorted(used - documented)}; "
                                f"documented but unused: {sorted(documented - used)}")
    for variable, row in _rows("Web app").items():
        assert row.secret == "no", f"{variable}: a NEXT_PUBLIC_* value is public by definition"
