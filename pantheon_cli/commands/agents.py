"""``pantheon agents``: list, add, edit, remove and reorder a room's agents."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pantheon_cli.options import AgentRef, JsonFlag, RoomRef
from pantheon_cli.output import Output
from pantheon_cli.runner import Invocation
from pantheon_cli.views import agents as views

app = typer.Typer(help="A room's agents: who answers, with which model, tools and role; "
                       "removed ones can be restored for 7 days.",
                  no_args_is_help=True)

Model = Annotated[str | None, typer.Option(
    "--model", metavar="ALIAS", help="llama, qwen, deepseek, gpt_oss or premium.")]
Role = Annotated[str | None, typer.Option("--role", help="The role prompt.")]
RoleFile = Annotated[Path | None, typer.Option(
    "--role-file", exists=True, dir_okay=False, readable=True,
    help="Read the role prompt from a UTF-8 text file.")]
WebSearch = Annotated[bool | None, typer.Option("--web-search/--no-web-search",
                                                help="May it search the web?")]
Files = Annotated[bool | None, typer.Option("--files/--no-files",
                                            help="May it read the room's files?")]
Position = Annotated[int | None, typer.Option(
    "--position", min=0, help="Where it goes in the order (0 = first).")]


@app.command("list")
def list_agents(
    ctx: typer.Context, room: RoomRef,
    deleted: Annotated[bool, typer.Option("--deleted", help="Show removed agents that can "
                                                            "still be restored.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """List a room's agents in the order they answer, or with --deleted the 7-day trash."""
    run = Invocation(ctx, as_json=as_json)
    agents = run.in_room(room, lambda s, r: s.use_cases.list_agents(s.actor, r.id,
                                                                    deleted=deleted))
    run.out.emit(views.agents_data(agents),
                 views.agents_trash_table if deleted else views.agents_table)


@app.command("add")
def add_agent(
    ctx: typer.Context, room: RoomRef,
    name: Annotated[str, typer.Argument(help="Its name, which is also its @handle.")],
    model: Annotated[str, typer.Option("--model", metavar="ALIAS",
                                       help="llama, qwen, deepseek, gpt_oss or premium.")],
    role: Role = None, role_file: RoleFile = None, web_search: WebSearch = False,
    files: Files = False, position: Position = None, as_json: JsonFlag = False,
) -> None:
    """Add an agent to a room (last, unless --position says otherwise)."""
    run = Invocation(ctx, as_json=as_json)
    prompt = role_prompt(run.out, role, role_file) or ""
    agent = run.in_room(room, lambda s, r: s.use_cases.add_agent(
        s.actor, r.id, name=name, model_alias=model, role_prompt=prompt,
        web_search=bool(web_search), files=bool(files), position=position))
    run.out.emit(views.agent_data(agent), views.agent_saved("added"))


@app.command("edit")
def edit_agent(
    ctx: typer.Context, room: RoomRef, agent: AgentRef,
    name: Annotated[str | None, typer.Option("--name", help="A new name (and @handle).")] = None,
    model: Model = None, role: Role = None, role_file: RoleFile = None,
    web_search: WebSearch = None, files: Files = None, position: Position = None,
    as_json: JsonFlag = False,
) -> None:
    """Change an agent; only the options you pass change. Applies from the next send."""
    run = Invocation(ctx, as_json=as_json)
    prompt = role_prompt(run.out, role, role_file)
    if all(v is None for v in (name, model, prompt, web_search, files, position)):
        run.out.usage_error("nothing_to_change", "Pass at least one option to change; "
                                                 "see pantheon agents edit --help.")
    edited = run.in_room(room, lambda s, r: s.use_cases.edit_agent(
        s.actor, r.id, agent, name=name, model_alias=model, role_prompt=prompt,
        web_search=web_search, files=files, position=position))
    run.out.emit(views.agent_data(edited), views.agent_saved("updated"))


@app.command("remove")
def remove_agent(ctx: typer.Context, room: RoomRef, agent: AgentRef,
                 as_json: JsonFlag = False) -> None:
    """Remove an agent from a room; the others close the gap. Restorable for 7 days."""
    run = Invocation(ctx, as_json=as_json)
    removed = run.in_room(room, lambda s, r: s.use_cases.remove_agent(s.actor, r.id, agent))
    run.out.emit(views.agent_data(removed), views.agent_removed, soft_wrap=True)


@app.command("restore")
def restore_agent(ctx: typer.Context, room: RoomRef, agent: AgentRef,
                  as_json: JsonFlag = False) -> None:
    """Restore an agent removed less than 7 days ago (by id, or by name); it goes last."""
    run = Invocation(ctx, as_json=as_json)
    restored = run.in_room(room, lambda s, r: s.use_cases.restore_agent(s.actor, r.id, agent))
    run.out.emit(views.agent_data(restored), views.agent_restored)


@app.command("reorder")
def reorder_agents(
    ctx: typer.Context, room: RoomRef,
    agents: Annotated[list[str], typer.Argument(
        metavar="AGENT", help="Every agent of the room, once each, in the new order.")],
    as_json: JsonFlag = False,
) -> None:
    """Set the order agents answer in (roundtable order, orchestrator fallback)."""
    run = Invocation(ctx, as_json=as_json)
    ordered = run.in_room(room, lambda s, r: s.use_cases.reorder_agents(s.actor, r.id, agents))
    run.out.emit(views.agents_data(ordered), views.agents_table)


def role_prompt(out: Output, role: str | None, role_file: Path | None) -> str | None:
    """The role prompt from --role or --role-file (not both), or None when neither is given."""
    if role is not None and role_file is not None:
        out.usage_error("conflicting_options", "Pass --role or --role-file, not both.")
    if role_file is None:
        return role
    try:
        return role_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        out.usage_error("unreadable_role_file", f"Cannot read {role_file}: {exc}")
