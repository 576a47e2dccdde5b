from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class MailMessage:
    to: str
    subject: str
    text: str
    kind: str  # e.g. "magic_link": lets a development outbox find the newest link
    link: str | None = None


class Mailer(Protocol):
    """Delivers one message or raises ``Unavailable``; best effort, not transactional."""

    async def send(self, message: MailMessage) -> None: ...
