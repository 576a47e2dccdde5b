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


class _NotConnected(Exception):
    """Connecting failed: nothing reached the server, so trying again cannot send twice."""

    def __init__(self, cause: OSError | smtplib.SMTPException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class SmtpMailer:
    """Sends each message over one SMTP connection (``Mailer`` port).

    STARTTLS and login are used when configured; port 465 means implicit TLS.
    Any connection, TLS or protocol failure becomes ``Unavailable`` with code
    ``mail_unavailable``: the caller learns that mail is down, not why SMTP broke.

    Budgets: ``connect_timeout_s`` to connect, ``timeout_s`` for each reply after that,
    ``total_timeout_s`` for the whole send. Only a failure to connect is retried (up to
    ``max_attempts`` in all): once connected, a retry could deliver the message twice.
    Past the total, the caller gets ``mail_unavailable`` at once; the worker thread still
    talking to the server ends by its own socket timeout.
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
        connect_timeout_s: float = 10.0,
        total_timeout_s: float = 30.0,
        max_attempts: int = 2,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.username = username
        self.password = password
        self.starttls = starttls and not implicit_tls
        self.implicit_tls = implicit_tls
        self.timeout_s = timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.total_timeout_s = total_timeout_s
        self.max_attempts = max(1, max_attempts)

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpMailer:
        if not settings.smtp_host:
            raise Unavailable("SMTP mail is selected but PANTHEON_SMTP_HOST is not set.",
                              code="mail_not_configured")
        return cls(settings.smtp_host, settings.smtp_port, sender=settings.smtp_from,
                   username=settings.smtp_username, password=settings.smtp_password,
                   starttls=settings.smtp_starttls,
                   implicit_tls=settings.smtp_port == IMPLICIT_TLS_PORT,
                   timeout_s=settings.smtp_timeout_s,
                   connect_timeout_s=settings.smtp_connect_timeout_s,
                   total_timeout_s=settings.smtp_total_timeout_s,
                   max_attempts=settings.smtp_max_attempts)

    async def send(self, message: MailMessage) -> None:
        email = self._compose(message)
        try:
            with anyio.fail_after(self.total_timeout_s):
                await self._send_with_retries(email)
        except TimeoutError as exc:
            raise self._unavailable(f"no answer within {self.total_timeout_s:g} s") from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise self._unavailable(f"{type(exc).__name__}: {exc}") from exc

    async def _send_with_retries(self, email: EmailMessage) -> None:
        for attempt in range(1, self.max_attempts + 1):
            try:
                await anyio.to_thread.run_sync(self._deliver, email, abandon_on_cancel=True)
                return
            except _NotConnected as exc:
                if attempt == self.max_attempts:
                    raise exc.cause from exc
            await anyio.sleep(0.5 * attempt)

    def _unavailable(self, reason: str) -> Unavailable:
        return Unavailable(f"E-mail could not be sent through {self.host}:{self.port} "
                           f"({reason}).", code="mail_unavailable")

    def _compose(self, message: MailMessage) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.to
        email["Subject"] = message.subject
        email["Date"] = formatdate(localtime=False, usegmt=True)
        email["Message-ID"] = make_msgid(domain=self.host)
        email.set_content(message.text)
        return email

    def _connect(self, context: ssl.SSLContext) -> smtplib.SMTP:
        """A connected client whose replies are then awaited ``timeout_s`` each."""
        smtp: smtplib.SMTP
        if self.implicit_tls:
            smtp = smtplib.SMTP_SSL(timeout=self.connect_timeout_s, context=context)
        else:
            smtp = smtplib.SMTP(timeout=self.connect_timeout_s)
        try:
            smtp.connect(self.host, self.port)
        except (OSError, smtplib.SMTPException) as exc:
            smtp.close()
            raise _NotConnected(exc) from exc
        if smtp.sock is not None:
            smtp.sock.settimeout(self.timeout_s)
        smtp.timeout = self.timeout_s
        return smtp

    def _deliver(self, email: EmailMessage) -> None:
        context = ssl.create_default_context()
        with self._connect(context) as smtp:
            if self.starttls:
                smtp.starttls(context=context)
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(email)
