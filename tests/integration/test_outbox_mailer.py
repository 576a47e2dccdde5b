"""The development outbox: files another process can read, and a log line per message."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from pantheon_adapters.mail.outbox import OutboxMailer
from pantheon_core.ports.mailer import MailMessage


def magic(to: str, link: str) -> MailMessage:
    return MailMessage(to=to, subject="Your Pantheon sign-in link", text=f"Sign in: {link}",
                       kind="magic_link", link=link)


def links_on_disk(directory: Path) -> list[str]:
    return sorted(json.loads(p.read_text())["link"] for p in directory.glob("*.json"))


def leftovers(directory: Path) -> list[Path]:
    return list(directory.glob(".*"))


async def test_each_message_is_one_json_file_in_a_created_directory(tmp_path: Path) -> None:
    outbox = tmp_path / "data" / "outbox"
    await OutboxMailer(outbox).send(magic("ada@example.com", "http://x/verify?token=t1"))

    files = list(outbox.iterdir())
    assert len(files) == 1
    record = json.loads(files[0].read_text())
    assert record["to"] == "ada@example.com"
    assert record["subject"] == "Your Pantheon sign-in link"
    assert record["text"] == "Sign in: http://x/verify?token=t1"
    assert record["kind"] == "magic_link"
    assert record["link"] == "http://x/verify?token=t1"
    assert record["created_at"].endswith("+00:00")


async def test_latest_link_is_the_newest_for_that_address(tmp_path: Path) -> None:
    mailer = OutboxMailer(tmp_path)
    await mailer.send(magic("ada@example.com", "http://x/1"))
    await mailer.send(magic("bob@example.com", "http://x/2"))
    await mailer.send(magic("Ada@Example.com", "http://x/3"))
    await mailer.send(MailMessage(to="ada@example.com", subject="Hi", text="no link", kind="news"))

    reader = OutboxMailer(tmp_path)  # e.g. the CLI, in another process: only the files count
    assert reader.latest_link("ADA@example.com") == "http://x/3"
    assert reader.latest_link("bob@example.com") == "http://x/2"
    assert reader.latest_link("eve@example.com") is None


def test_latest_link_on_a_missing_outbox_is_none(tmp_path: Path) -> None:
    assert OutboxMailer(tmp_path / "never-written").latest_link("ada@example.com") is None


async def test_unreadable_files_are_skipped(tmp_path: Path) -> None:
    mailer = OutboxMailer(tmp_path)
    await mailer.send(magic("ada@example.com", "http://x/1"))
    (tmp_path / "99999999999999999999-junk.json").write_text("{not json")
    assert mailer.latest_link("ada@example.com") == "http://x/1"


async def test_only_the_newest_files_are_kept(tmp_path: Path) -> None:
    mailer = OutboxMailer(tmp_path, keep=5)
    for n in range(12):
        await mailer.send(magic("ada@example.com", f"http://x/{n}"))

    assert links_on_disk(tmp_path) == sorted(f"http://x/{n}" for n in range(7, 12))
    assert leftovers(tmp_path) == []  # no temporary files left behind
    assert mailer.latest_link("ada@example.com") == "http://x/11"


async def test_the_link_is_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="pantheon.mail"):
        await OutboxMailer(tmp_path).send(magic("ada@example.com", "http://x/verify?token=abc"))
    assert any("http://x/verify?token=abc" in r.getMessage() and "ada@example.com"
               in r.getMessage() for r in caplog.records if r.name == "pantheon.mail")
