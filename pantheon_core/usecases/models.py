"""The model catalogue (aliases, provider ids, prices) and the orchestrator manager model."""

from __future__ import annotations

from pantheon_core.actor import Actor
from pantheon_core.domain.agents import ModelAlias, parse_alias
from pantheon_core.domain.manager import MANAGER_MODEL_KEY, manager_alias
from pantheon_core.domain.pricing import PricingVersion
from pantheon_core.usecases.audit_log import record, require_owner
from pantheon_core.usecases.deps import UseCase


class ListModels(UseCase):
    """The pricing version in force, with every alias's provider model and prices."""

    async def __call__(self) -> PricingVersion:
        async with self.deps.uow() as uow:
            return await uow.pricing.current()


class GetManagerModel(UseCase):
    async def __call__(self) -> ModelAlias:
        async with self.deps.uow() as uow:
            return manager_alias(await uow.settings.get(MANAGER_MODEL_KEY))


class SetManagerModel(UseCase):
    """Choose the orchestrator's manager model for every room (owners only, FR-MODE-004).
    Turns already running keep the manager they started with."""

    async def __call__(self, actor: Actor, alias: str) -> ModelAlias:
        await require_owner(self.deps, actor, "admin.manager_model.set", "manager_model")
        chosen = parse_alias(alias)
        async with self.deps.uow() as uow:
            before = manager_alias(await uow.settings.get(MANAGER_MODEL_KEY))
            await uow.settings.put(MANAGER_MODEL_KEY, chosen.value, now=self.deps.clock.now())
            await record(uow, self.deps, actor, "admin.manager_model.set", "manager_model",
                         before={"manager_model": before.value},
                         after={"manager_model": chosen.value})
            await uow.commit()
        return chosen
