"""Running one command: global options, the container, the actor, and errors.

A command creates an :class:`Invocation` from Typer's context and its ``--json`` flag,
then calls :meth:`Invocation.call` once with the use case to run. The runner builds the
container (the composition root) once, resolves the actor, awaits the work, and always
closes the container. A core error becomes one line (or a JSON error) and exit code 1.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

import anyio
import typer
from pydantic import ValidationError

from pantheon_adapters.bootstrap import Container, Settings, build_container, load_settings
from pantheon_cli.output import Output
from pantheon_core.actor import Actor
from pantheon_core.domain.rooms import Room
from pantheon_core.errors import PantheonError, Unavailable
from pantheon_core.usecases.catalog import UseCases

T = TypeVar("T")

CLI_CLIENT = "cli"  # where the audit log says a CLI command came from
NO_USER_MESSAGE = "This command acts as a user: pass --as EMAIL or set PANTHEON_USER."


@dataclass(frozen=True, slots=True)
class GlobalOptions:
    """The root options (``--as``, ``--data-dir``, ``--database-url``), kept on Typer's context."""

    as_email: str | None = None
    data_dir: Path | None = None
    database_url: str | None = None

    def overrides(self) -> dict[str, Any]:
        given = {"data_dir": self.data_dir, "database_url": self.database_url}
        return {name: value for name, value in given.items() if value is not None}

    def settings(self) -> Settings:
        """``PANTHEON_*`` settings with the command-line overrides applied."""
        return load_settings(**self.overrides())

    def export(self) -> None:
        """Hand the overrides to a process launched by name (the server) via its environment."""
        for name, value in self.overrides().items():
            os.environ[f"PANTHEON_{name.upper()}"] = str(value)


class Identity(Enum):
    """Who a command acts as."""

    USER = "user"  # the --as user; required
    USER_OR_OPERATOR = "user_or_operator"  # the --as user if given, else the local operator
    NONE = "none"  # nobody: the use case takes no actor


@dataclass(frozen=True, slots=True)
class Session:
    """What a command's work receives: the container and the resolved actor."""

    container: Container
    actor: Actor

    @property
    def use_cases(self) -> UseCases:
        return self.container.use_cases


class Invocation:
    """One run of one command."""

    def __init__(self, ctx: typer.Context, *, as_json: bool = False,
                 json_lines: bool = False) -> None:
        self.options = ctx.find_object(GlobalOptions) or GlobalOptions()
        self.out = Output(as_json=as_json, json_lines=json_lines)
        self.request_id = uuid.uuid4().hex  # one per command, as HTTP has one per request

    def call(self, work: Callable[[Session], Awaitable[T]], *,
             identity: Identity = Identity.USER) -> T:
        """Run ``work`` against a fresh container; report a core error and exit if it raises."""
        if identity is Identity.USER and not self.options.as_email:
            self.out.usage_error("user_required", NO_USER_MESSAGE)
        settings = self.settings()
        try:
            return anyio.run(self._session, settings, work, identity)
        except PantheonError as error:
            self.out.fail(error)

    def in_room(self, ref: str, work: Callable[[Session, Room], Awaitable[T]], *,
                include_deleted: bool = False) -> T:
        """Resolve ROOM (an id or a unique name) for the user, then run ``work`` with it."""

        async def resolved(session: Session) -> T:
            room = await session.use_cases.find_room(session.actor, ref,
                                                     include_deleted=include_deleted)
            return await work(session, room)

        return self.call(resolved)

    def database(self, operation: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run a database-management operation (migrations), reporting failures in one line."""
        try:
            return anyio.run(operation, *args)
        except PantheonError as error:
            self.out.fail(error)
        except Exception as exc:  # entry point: a failed migration is reported, not dumped
            self.out.fail(database_error(exc))

    def settings(self) -> Settings:
        """The settings for this run; a bad ``PANTHEON_*`` value is a usage error."""
        try:
            return self.options.settings()
        except ValidationError as exc:
            problems = "; ".join(_settings_problem(e) for e in exc.errors())
            self.out.usage_error("invalid_settings", f"Invalid settings: {problems}")

    async def _session(self, settings: Settings, work: Callable[[Session], Awaitable[T]],
                       identity: Identity) -> T:
        container = await self._open(settings)
        try:
            actor = await self._actor(container.use_cases, identity)
            return await work(Session(container, actor))
        finally:
            await container.aclose()

    async def _open(self, settings: Settings) -> Container:
        """The container, with its database answering; otherwise one ``database_error``."""
        try:
            container = await build_container(settings)
        except PantheonError:
            raise
        except Exception as exc:  # entry point: a bad URL or a down database is one line
            raise database_error(exc) from exc
        probe = container.readiness_checks.get("database")
        try:
            if probe is not None:
                await probe()
        except Exception as exc:  # entry point: as above, before any use case runs
            await container.aclose()
            raise database_error(exc) from exc
        return container

    async def _actor(self, use_cases: UseCases, identity: Identity) -> Actor:
        """The operator, or the ``--as`` user; tagged ``client="cli"`` and this command's
        request id for the audit log."""
        operator = Actor.operator().via(request_id=self.request_id, client=CLI_CLIENT)
        if identity is Identity.NONE or not self.options.as_email:
            return operator
        actor = await use_cases.act_as(operator, self.options.as_email)
        return actor.via(request_id=self.request_id, client=CLI_CLIENT)


def database_error(exc: Exception) -> Unavailable:
    """A database failure (unreachable, bad URL, unknown revision) as one readable line."""
    detail = " ".join(f"{type(exc).__name__}: {exc}".split())
    return Unavailable(f"Database error: {detail}", code="database_error")


def _settings_problem(error: Mapping[str, Any]) -> str:
    """One settings error: the variable it is about (when it is about one) and why."""
    message = str(error["msg"]).removeprefix("Value error, ")
    if not error["loc"]:  # a rule across several settings names them in its message
        return message
    name = "_".join(map(str, error["loc"])).upper()
    prefix = "" if name.startswith("PANTHEON_") else "PANTHEON_"  # an alias is already whole
    return f"{prefix}{name}: {message}"
