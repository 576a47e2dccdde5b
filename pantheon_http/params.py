"""Path parameters, typed once: what an id (or an agent's name) in a URL may look like.

Control characters (``%00`` and friends) are refused as input errors before any
database sees them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

_PRINTABLE = r"^[^\x00-\x1f\x7f]+$"

RoomIdPath = Annotated[str, Path(description="The room's id.", max_length=100,
                                 pattern=_PRINTABLE)]
AgentRefPath = Annotated[str, Path(description="The agent's id, or its name (any case).",
                                   max_length=100, pattern=_PRINTABLE)]
TokenIdPath = Annotated[str, Path(description="The API token's id.", max_length=100,
                                  pattern=_PRINTABLE)]
