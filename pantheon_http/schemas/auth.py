"""Sign-in, sessions and personal API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, cast

from pydantic import BaseModel, Field

from pantheon_core.domain.credentials import MAX_TOKEN_NAME, ApiToken
from pantheon_core.domain.users import User, UserStatus
from pantheon_core.usecases.signin import SignIn
from pantheon_core.usecases.tokens import MAX_TOKEN_DAYS, IssuedToken
from pantheon_http.schemas.base import RequestModel


class MagicLinkRequest(RequestModel):
    email: str = Field(examples=["ada@example.com"])


class MagicLinkSent(BaseModel):
    status: Literal["sent"] = "sent"
    message: str


class VerifyRequest(RequestModel):
    token: str = Field(description="The `token` query parameter of the e-mailed link.")


class UserOut(BaseModel):
    id: str
    email: str
    display_name: str | None
    status: UserStatus
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(id=user.id, email=user.email, display_name=user.display_name,
                   status=user.status, created_at=user.created_at)


class SignedIn(BaseModel):
    user: UserOut
    expires_at: datetime = Field(description="When the session (and its cookie) ends.")

    @classmethod
    def of(cls, sign_in: SignIn) -> SignedIn:
        return cls(user=UserOut.of(sign_in.user), expires_at=sign_in.session.expires_at)


class TokenCreate(RequestModel):
    name: str = Field(description=f"1-{MAX_TOKEN_NAME} characters, e.g. the script's name.",
                      examples=["nightly export"])
    expires_in_days: int | None = Field(None, description=f"1-{MAX_TOKEN_DAYS}; default: never.")


TokenStatus = Literal["active", "revoked", "expired"]


class TokenOut(BaseModel):
    id: str
    name: str
    hint: str = Field(description="The token's prefix and last four characters.")
    status: TokenStatus
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken, now: datetime) -> TokenOut:
        # pydantic checks the value on construction; the cast only informs the type checker.
        status = cast(TokenStatus, token.status_at(now))
        return cls(id=token.id, name=token.name, hint=token.hint, status=status,
                   created_at=token.created_at, expires_at=token.expires_at,
                   last_used_at=token.last_used_at, revoked_at=token.revoked_at)


class TokenIssued(BaseModel):
    token: TokenOut
    secret: str = Field(description="Send as `Authorization: Bearer …`. Shown only this once.")

    @classmethod
    def of(cls, issued: IssuedToken, now: datetime) -> TokenIssued:
        return cls(token=TokenOut.of(issued.token, now), secret=issued.secret)


class TokenList(BaseModel):
    tokens: list[TokenOut] = Field(description="Newest first, revoked ones included.")


class DevOutboxLink(BaseModel):
    email: str
    link: str = Field(description="The newest sign-in link e-mailed to that address; opening "
                                  "it shows the confirmation page.")
