"""The ``SlotLeases`` port: counting concurrent holders (running turns) with expiring leases."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class SlotPool:
    """A named pool of at most ``limit`` concurrent leases (``limit`` 0: none may be taken)."""

    key: str
    limit: int


@dataclass(frozen=True, slots=True)
class SlotGrant:
    """What :meth:`SlotLeases.acquire` decided. Refused: ``full`` is the first pool (in the
    order given) without a free slot and ``in_use`` the live leases it held."""

    granted: bool
    full: SlotPool | None = None
    in_use: int = 0


class SlotLeases(Protocol):
    """Concurrent leases in named pools, each one expiring unless renewed.

    - ``acquire`` takes one lease for ``holder`` in every pool, or in none: all pools are
      checked and taken in one atomic step, so two callers racing for the last slot cannot
      both get it. A holder that already holds a live lease in a pool keeps it (renewed) and
      is not counted twice.
    - A lease lives ``ttl_s`` seconds after it was last acquired or renewed. A process that
      dies without releasing frees its slots when they expire; nobody has to clean up.
    - ``renew`` extends the holder's leases by ``ttl_s`` from now, re-taking one that expired
      meanwhile even beyond the limit (its holder is still running and must be counted).
    - ``release`` gives the holder's leases back; releasing what is not held does nothing.
    - ``in_use`` is the number of live leases in a pool.

    Implementations raise ``Unavailable`` when their store cannot be reached.
    """

    async def acquire(self, holder: str, pools: Sequence[SlotPool], *,
                      ttl_s: float) -> SlotGrant: ...

    async def renew(self, holder: str, keys: Sequence[str], *, ttl_s: float) -> None: ...

    async def release(self, holder: str, keys: Sequence[str]) -> None: ...

    async def in_use(self, key: str) -> int: ...
