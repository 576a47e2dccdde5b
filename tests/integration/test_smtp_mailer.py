"""SmtpMailer against a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from pantheon_adapters.mail.smtp import SmtpMailer
from pantheon_adapters.settings import Settings
from pantheon_core.errors import Unavailable
from pantheon_core.ports.mailer import MailMessage

MESSAGE = MailMessage(to="ada@example.com", subject="Your Pantheon sign-in link",
                      text="Sign in: http://x/verify?token=abc", kind="magic_link",
                      link="http://x/verify?token=abc")


@dataclass
class Collector:
    """An aiosmtpd handler that keeps what it receives."""

    received: list[tuple[str, list[str], Message]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.original_content or envelope.content)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def authenticate(server: Any, session: Any, envelope: Any, mechanism: str,
                 data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"pan", b"secret")
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server() -> Iterator[tuple[Collector, int]]:
    collector = Collector()
    port = free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port,
                            authenticator=authenticate, auth_require_tls=False)
    controller.start()
    try:
        yield collector, port
    finally:
        controller.stop()


def mailer(port: int, **overrides: Any) -> SmtpMailer:
    options: dict[str, Any] = {"sender": "Pantheon <no-reply@pantheon.test>", "starttls": False,
                               "timeout_s": 5.0}
    return SmtpMailer("127.0.0.1", port, **{**options, **overrides})


async def test_delivers_the_message(smtp_server: tuple[Collector, int]) -> None:
    collector, port = smtp_server
    await mailer(port).send(MESSAGE)

    [(mail_from, rcpt_tos, parsed)] = collector.received
    assert mail_from == "no-reply@pantheon.test"
    assert rcpt_tos == ["ada@example.com"]
    assert parsed["Subject"] == "Your Pantheon sign-in link"
    assert parsed["To"] == "ada@example.com"
    body = parsed.get_payload(decode=True)
    assert isinstance(body, bytes)
    assert "http://x/verify?token=abc" in body.decode()


async def test_logs_in_when_configured(smtp_server: tuple[Collector, int]) -> None:
    collector, port = smtp_server
    await mailer(port, username="pan", password="secret").send(MESSAGE)
    assert len(collector.received) == 1


async def test_rejected_login_is_unavailable(smtp_server: tuple[Collector, int]) -> None:
    collector, port = smtp_server
    with pytest.raises(Unavailable) as caught:
        await mailer(port, username="pan", password="wrong").send(MESSAGE)
    assert caught.value.code == "mail_unavailable"
    assert collector.received == []


async def test_starttls_unsupported_by_server_is_unavailable(
        smtp_server: tuple[Collector, int]) -> None:
    _, port = smtp_server
    with pytest.raises(Unavailable) as caught:
        await mailer(port, starttls=True).send(MESSAGE)
    assert caught.value.code == "mail_unavailable"


async def test_unreachable_server_is_unavailable() -> None:
    with pytest.raises(Unavailable) as caught:
        await mailer(free_port(), timeout_s=2.0).send(MESSAGE)
    assert caught.value.code == "mail_unavailable"


def test_from_settings_reads_the_smtp_fields() -> None:
    settings = Settings(smtp_host="mail.example.com", smtp_port=465, smtp_username="u",
                        smtp_password="p", smtp_starttls=True, smtp_timeout_s=3.0)
    built = SmtpMailer.from_settings(settings)
    assert (built.host, built.port, built.username, built.password) == (
        "mail.example.com", 465, "u", "p")
    assert (built.implicit_tls, built.starttls, built.timeout_s) == (True, False, 3.0)
    assert built.sender == settings.smtp_from


def test_from_settings_without_a_host_is_unavailable() -> None:
    with pytest.raises(Unavailable) as caught:
        SmtpMailer.from_settings(Settings(mail_backend="smtp"))
    assert caught.value.code == "mail_not_configured"
