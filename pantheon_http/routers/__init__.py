"""One router per endpoint family, all mounted under ``/api/v1`` (health at the root)."""
