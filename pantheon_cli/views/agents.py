"""Agents: the roster table (position, @handle, model alias, tools, role prompt)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypedDict

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from pantheon_cli.views.cells import NONE, excerpt, iso, when
from pantheon_core.domain.agents import Agent


class ToolsView(TypedDict):
    web_search: bool
    files: bool


class AgentView(TypedDict):
    id: str
    room_id: str
    name: str
    handle: str
    position: int
    model_alias: str
    tools: ToolsView
    role_prompt: str
    created_at: str | None
    updated_at: str | None
    removed_at: str | None
    restorable_until: str | None


def agent_data(agent: Agent) -> AgentView:
    return AgentView(
        id=agent.id, room_id=agent.room_id, name=agent.name, handle=f"@{agent.name}",
        position=agent.position, model_alias=agent.model_alias.value,
        tools=ToolsView(web_search=agent.tools.web_search, files=agent.tools.files),
        role_prompt=agent.role_prompt, created_at=iso(agent.created_at),
        updated_at=iso(agent.updated_at), removed_at=iso(agent.deleted_at),
        restorable_until=iso(agent.restorable_until()),
    )


def agents_data(agents: Sequence[Agent]) -> list[AgentView]:
    return [agent_data(agent) for agent in agents]


def tools_cell(tools: ToolsView) -> str:
    enabled = [name for name, allowed in tools.items() if allowed]
    return ", ".join(enabled) or NONE


def agents_table(agents: list[AgentView]) -> RenderableType:
    """The roster in position order; ``#`` is the agent's position (0 runs first)."""
    if not agents:
        return Text("No agents yet. Add one: pantheon agents add ROOM NAME --model ALIAS",
                    style="dim")
    table = Table(title="Agents", title_justify="left", expand=False)
    table.add_column("#", justify="right", style="dim")
    table.add_column("Agent", style="bold cyan", no_wrap=True)
    table.add_column("Model")
    table.add_column("Tools")
    table.add_column("Role", overflow="fold")
    for agent in agents:
        table.add_row(str(agent["position"]), agent["handle"], agent["model_alias"],
                      tools_cell(agent["tools"]), excerpt(agent["role_prompt"]) or NONE)
    return table


def agent_saved(verb: str) -> Callable[[AgentView], RenderableType]:
    """A renderer confirming ``verb`` (added, updated) for one agent."""

    def render(agent: AgentView) -> RenderableType:
        return Text.assemble(
            (f"{verb.capitalize()} ", "green"), (agent["handle"], "bold cyan"),
            f" at position {agent['position']}: {agent['model_alias']}, "
            f"tools {tools_cell(agent['tools'])}. Applies from the next send.",
        )

    return render


def agent_removed(agent: AgentView) -> RenderableType:
    return Text.assemble(("Removed ", "green"), (agent["handle"], "bold cyan"),
                         ". The next send runs without it. Restorable until "
                         f"{when(agent['restorable_until'])} with:\n"
                         f"  pantheon agents restore {agent['room_id']} {agent['id']}")


def agents_trash_table(agents: list[AgentView]) -> RenderableType:
    """Removed agents that can still be restored, most recently removed first."""
    if not agents:
        return Text("No removed agents to restore.", style="dim")
    table = Table(title="Removed agents", title_justify="left", expand=False)
    table.add_column("Agent", style="bold cyan", no_wrap=True)
    table.add_column("Model")
    table.add_column("Removed")
    table.add_column("Restorable until")
    table.add_column("ID", style="dim", no_wrap=True)
    for agent in agents:
        table.add_row(agent["handle"], agent["model_alias"], when(agent["removed_at"]),
                      when(agent["restorable_until"]), agent["id"])
    return table


def agent_restored(agent: AgentView) -> RenderableType:
    return Text.assemble(("Restored ", "green"), (agent["handle"], "bold cyan"),
                         f" at position {agent['position']}. Applies from the next send.")
