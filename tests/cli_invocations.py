"""Find ``pantheon …`` invocations in text and check them against the real CLI.

Docs, runbooks and process files (``Procfile``, ``railway.json``) cite CLI commands; these
helpers pull each invocation out of shell text and check that its command path exists and
that every option it passes is one that command accepts, with a plausible number of
arguments — so a renamed command or option fails a test instead of a 3 a.m. runbook step.
"""

from __future__ import annotations

import functools
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer

from pantheon_cli.main import app

SHELL_BREAKS = {"|", "||", "&&", ";", ">", ">>", "<", "2>&1", ")", "&"}
ANYTHING = {"…", "..."}  # "pantheon …" in prose: any command
FENCE = re.compile(r"^```(\w*)\s*$")
INLINE = re.compile(r"`([^`\n]*\bpantheon [^`\n]*)`")  # a span with `pantheon <something>`
SHELL_LANGUAGES = {"bash", "sh", "shell", "console"}


@dataclass(frozen=True)
class Invocation:
    where: str  # "path:line"
    args: tuple[str, ...]  # what follows ``pantheon``

    def __str__(self) -> str:
        return " ".join(("pantheon", *self.args))


# Typer ships its own copy of Click, so commands are told apart by shape, not by class:
# a group has ``commands``; a parameter says whether it is an ``option`` or an ``argument``.
Command = Any
HELP = ("-h", "--help")


@functools.cache
def root_command() -> Command:
    """The ``pantheon`` Click command, built once (Typer rebuilds it on every call)."""
    return typer.main.get_command(app)


def _is_group(command: Command) -> bool:
    return isinstance(getattr(command, "commands", None), dict)


def _tokens(line: str) -> list[str]:
    text = line.replace("$(", " ( ").replace(")", " ) ")
    try:
        return shlex.split(text, comments=False, posix=True)
    except ValueError:  # unbalanced quotes in prose: split on blanks
        return text.split()


def invocations_in_line(line: str, where: str) -> list[Invocation]:
    tokens = _tokens(line)
    found: list[Invocation] = []
    for index, token in enumerate(tokens):
        if token != "pantheon" and not token.endswith("bin/pantheon"):
            continue
        args: list[str] = []
        for arg in tokens[index + 1:]:
            if arg in SHELL_BREAKS:
                break
            args.append(arg)
        found.append(Invocation(where, tuple(args)))
    return found


def shell_lines(path: Path) -> list[tuple[int, str]]:
    """Lines of shell code in a Markdown file (fenced shell blocks, with ``\\``
    continuations joined) and inline code spans that mention ``pantheon``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[tuple[int, str]] = []
    fence: str | None = None
    pending: tuple[int, str] | None = None
    for number, line in enumerate(lines, start=1):
        marker = FENCE.match(line.strip())
        if marker:
            fence = None if fence is not None else marker.group(1)
            continue
        if fence is None:
            found.extend((number, span) for span in INLINE.findall(line))
        elif fence in SHELL_LANGUAGES:
            start, text = pending or (number, "")
            text += line.strip()
            if text.endswith("\\"):
                pending = (start, text[:-1] + " ")
            else:
                pending = None
                found.append((start, text))
    return found


def invocations_in_markdown(path: Path, root: Path) -> list[Invocation]:
    relative = path.relative_to(root)
    return [invocation for number, line in shell_lines(path)
            for invocation in invocations_in_line(line, f"{relative}:{number}")]


def problems(invocation: Invocation, root: Command | None = None) -> list[str]:
    """What is wrong with the invocation (nothing: an empty list)."""
    command = root or root_command()
    args = list(invocation.args)
    path = ["pantheon"]
    while _is_group(command):
        rest = _consume_options(command, args, path)
        if isinstance(rest, str):
            return [rest]
        args = rest
        if not args or args[0] in ANYTHING:
            return [] if args else [f"{' '.join(path)} needs a subcommand"]
        name, args = args[0], args[1:]
        sub = command.commands.get(name)
        if sub is None:
            return [f"{' '.join(path)} has no command {name!r}"]
        command, path = sub, [*path, name]
    rest = _consume_options(command, args, path)
    if isinstance(rest, str):
        return [rest]
    return _check_arguments(command, rest, path)


def _options(command: Command) -> dict[str, bool]:
    """Option name → whether it takes a value."""
    table = dict.fromkeys(HELP, False)
    for param in command.params:
        if param.param_type_name == "option":
            takes_value = not (param.is_flag or param.count)
            for name in (*param.opts, *param.secondary_opts):
                table[name] = takes_value
    return table


def _consume_options(command: Command, args: list[str],
                     path: list[str]) -> list[str] | str:
    """Check and drop the options among ``args``; return the positional arguments (for a
    group: up to its subcommand) or the problem found."""
    options = _options(command)
    positional: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg in ANYTHING:
            return [*positional, arg]
        if arg.startswith("-") and arg != "-":
            name, _, value = arg.partition("=")
            if name not in options:
                return f"{' '.join(path)} has no option {name!r}"
            if options[name] and not value:
                index += 1
                if index >= len(args):
                    return f"{' '.join(path)} {name} needs a value"
            index += 1
            continue
        if _is_group(command):
            return [*positional, *args[index:]]
        positional.append(arg)
        index += 1
    return positional


def _check_arguments(command: Command, positional: list[str],
                     path: list[str]) -> list[str]:
    if positional and positional[-1] in ANYTHING:
        return []
    arguments = [p for p in command.params if p.param_type_name == "argument"]
    required = sum(max(a.nargs, 1) for a in arguments if a.required)
    unlimited = any(a.nargs == -1 for a in arguments)
    most = None if unlimited else sum(max(a.nargs, 1) for a in arguments)
    if len(positional) < required:
        return [f"{' '.join(path)} needs {required} argument(s), got {positional}"]
    if most is not None and len(positional) > most:
        return [f"{' '.join(path)} takes at most {most} argument(s), got {positional}"]
    return []
