"""Who is asking. Every use case receives an :class:`Actor` and decides from it.

HTTP (session cookie, API token, Supabase JWT) and the CLI (``--as EMAIL`` or the
local operator) are only different ways of producing one.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

from pantheon_core.errors import Forbidden, Unauthenticated
from pantheon_core.ids import UserId


class Role(StrEnum):
    """Admin roles stored in the database, plus the local operator.

    ``operator`` is never stored: it is the identity of someone running the CLI
    on a machine that holds the database credentials, who can do anything an
    owner can (and is how the first owner gets granted).
    """

    OWNER = "owner"
    ANALYST = "analyst"
    OPERATOR = "operator"


STORED_ROLES: frozenset[Role] = frozenset({Role.OWNER, Role.ANALYST})
ANONYMOUS = "anonymous"  # the audit log's name for a caller who is not signed in


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: UserId | None
    roles: frozenset[Role] = field(default_factory=frozenset)
    email: str | None = None
    request_id: str | None = None  # for the audit log: which request did it
    client: str | None = None  # for the audit log: the client address, or "cli"

    def via(self, *, request_id: str | None, client: str | None) -> Actor:
        """This actor, tagged with where the request came from."""
        return replace(self, request_id=request_id, client=client)

    @property
    def role_label(self) -> str:
        """The strongest role, as the audit log names it (``anonymous``: nobody signed in)."""
        for role in (Role.OPERATOR, Role.OWNER, Role.ANALYST):
            if role in self.roles:
                return role.value
        return "user" if self.user_id is not None else ANONYMOUS

    @property
    def label(self) -> str:
        if self.email:
            return self.email
        if self.is_operator:
            return "operator"
        return str(self.user_id) if self.user_id is not None else ANONYMOUS

    @classmethod
    def operator(cls) -> Actor:
        return cls(user_id=None, roles=frozenset({Role.OPERATOR}))

    @classmethod
    def anonymous(cls, *, request_id: str | None = None, client: str | None = None) -> Actor:
        """A caller not signed in (yet): who signs in, a webhook's sender. It may do only
        what needs no user; it is recorded in the audit log by its request and address."""
        return cls(user_id=None, request_id=request_id, client=client)

    @property
    def is_operator(self) -> bool:
        return Role.OPERATOR in self.roles

    @property
    def can_admin_write(self) -> bool:
        return self.is_operator or Role.OWNER in self.roles

    @property
    def can_admin_read(self) -> bool:
        return self.can_admin_write or Role.ANALYST in self.roles

    def require_user(self) -> UserId:
        """The end user behind this actor; the operator is not one."""
        if self.user_id is None:
            raise Unauthenticated(
                "This action needs a user: sign in, or pass --as EMAIL on the CLI.",
                code="user_required",
            )
        return self.user_id

    def require_admin_write(self) -> None:
        if not self.can_admin_write:
            raise Forbidden("Only an owner may do this.", code="owner_required")

    def require_admin_read(self) -> None:
        if not self.can_admin_read:
            raise Forbidden("Only an owner or analyst may see this.", code="admin_required")
