"""Restoring what is no longer there: purged (a tombstone says so) or never the actor's."""

from __future__ import annotations

from pantheon_core.actor import Actor
from pantheon_core.domain.trash import TrashKind
from pantheon_core.errors import PantheonError
from pantheon_core.ports.unit_of_work import UnitOfWork


async def missing_for_restore(uow: UnitOfWork, actor: Actor, kind: TrashKind, ref: str,
                              missing: PantheonError) -> PantheonError:
    """The error a restore of ``ref`` answers when no such row exists: the tombstone's
    ``410`` (``restore_window_expired``, or ``retention_expired``) if the purge jobs removed
    it and it was the actor's, else ``missing`` (a 404: someone else's is never revealed)."""
    stone = await uow.retention.tombstone(kind, ref)
    if stone is not None and actor.user_id is not None and stone.owner_id == actor.user_id:
        return stone.restore_refused()
    return missing
