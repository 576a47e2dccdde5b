"""Periodic clean-up that keeps credential tables small."""

from __future__ import annotations

from pantheon_core.usecases.deps import UseCase


class PurgeExpiredCredentials(UseCase):
    """Delete used or expired magic links and expired sessions; returns the number removed.

    Safe to run any number of times, from any number of workers.
    """

    async def __call__(self) -> int:
        async with self.deps.uow() as uow:
            removed = await uow.credentials.purge_expired(self.deps.clock.now())
            await uow.commit()
        return removed
