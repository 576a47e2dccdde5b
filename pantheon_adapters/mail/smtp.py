"""Production mail over SMTP (stdlib ``smtplib``, run in a worker thread)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import anyio

from pantheon_adapters.settings import Settings
from pantheon_core.errors import Unavailable
from pantheon_core.ports.mailer import MailMessage

IMPLICIT_TLS_PORT = 465


class SmtpMailer:
    """Sends each message over one SMTP connection (``Mailer`` port).

    STARTTLS and login are used when configured; port 465 means implicit TLS.
    Any connection, TLS or protocol failure becomes ``Unavailable`` with code
    ``mail_unavailable``: the caller learns that mail is down, not why SMTP broke.
    """

    def __init__(
        self,
        host: str,
        port: int = 587,
        *,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        implicit_tls: bool = False,
        timeout_s: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.username = username
        self.password = password
        self.starttls = starttls and not implicit_tls
        self.implicit_tls = implicit_tls
        self.timeout_s = timeout_s

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpMailer:
        if not settings.smtp_host:
            raise Unavailable("SMTP mail is selected but PANTHEON_SMTP_HOST is not set.",
                              code="mail_not_configured")
        return cls(settings.smtp_host, settings.smtp_port, sender=settings.smtp_from,
                   username=settings.smtp_username, password=settings.smtp_password,
                   starttls=settings.smtp_starttls,
                   implicit_tls=settings.smtp_port == IMPLICIT_TLS_PORT,
                   timeout_s=settings.smtp_timeout_s)

    async def send(self, message: MailMessage) -> None:
        email = self._compose(message)
        try:
            await anyio.to_thread.run_sync(self._deliver, email)
        except (OSError, smtplib.SMTPException) as exc:
            raise Unavailable(
                f"E-mail could not be sent through {self.host}:{self.port} "
                f"({type(exc).__name__}: {exc}).",
                code="mail_unavailable",
            ) from exc

    def _compose(self, message: MailMessage) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.to
        email["Subject"] = message.subject
        email["Date"] = formatdate(localtime=False, usegmt=True)
        email["Message-ID"] = make_msgid(domain=self.host)
        email.set_content(message.text)
        return email

    def _deliver(self, email: EmailMessage) -> None:
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.implicit_tls:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout_s, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
        with smtp:
            if self.starttls:
                smtp.starttls(context=context)
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(email)
