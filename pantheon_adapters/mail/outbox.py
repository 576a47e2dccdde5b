"""The embedded default mailer: every message becomes a JSON file and a log line."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio

from pantheon_core.ports.mailer import MailMessage

logger = logging.getLogger("pantheon.mail")

DEFAULT_KEEP = 200


class OutboxMailer:
    """Delivers mail into a directory instead of the internet (``Mailer`` port).

    - ``send`` writes one JSON file per message (``to, subject, text, kind, link,
      created_at``) atomically: a reader never sees a half-written file. The directory
      is created if missing. The message, link included, is also logged on
      ``pantheon.mail`` so a developer finds it in the server log.
    - Only the newest ``keep`` files are kept; older ones are pruned after each send.
    - ``latest_link(email)`` returns the newest magic-link URL sent to that address
      (case-insensitive), or ``None``. It reads only the files, so another process
      (the CLI) can call it.
    """

    def __init__(self, directory: Path, *, keep: int = DEFAULT_KEEP) -> None:
        self.directory = Path(directory)
        self.keep = max(1, keep)

    async def send(self, message: MailMessage) -> None:
        record = {**asdict(message), "created_at": datetime.now(UTC).isoformat()}
        path = await anyio.to_thread.run_sync(self._store, record)
        logger.info("Outbox mail to %s (%s): %r%s [%s]", message.to, message.kind,
                    message.subject, f" link: {message.link}" if message.link else "", path.name)

    def latest_link(self, email: str) -> str | None:
        wanted = email.strip().lower()
        for path in reversed(self._message_files()):
            record = _read(path)
            if record is None or record.get("kind") != "magic_link":
                continue
            to, link = record.get("to"), record.get("link")
            if isinstance(to, str) and to.strip().lower() == wanted and isinstance(link, str):
                return link
        return None

    def _store(self, record: dict[str, Any]) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        # The name sorts by time, so "newest" never depends on file-system timestamps.
        path = self.directory / f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.json"
        fd, tmp_name = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(record, handle, ensure_ascii=False, indent=2)
            os.replace(tmp_name, path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        self._prune()
        return path

    def _prune(self) -> None:
        files = self._message_files()
        for old in files[: max(0, len(files) - self.keep)]:
            old.unlink(missing_ok=True)  # another process may have pruned it already

    def _message_files(self) -> list[Path]:
        """The message files, oldest first."""
        if not self.directory.is_dir():
            return []
        return sorted(p for p in self.directory.glob("*.json") if not p.name.startswith("."))


def _read(path: Path) -> dict[str, Any] | None:
    """A message file's record, or ``None`` if it vanished (pruned) or is not ours."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None
