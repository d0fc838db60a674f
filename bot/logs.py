"""Logging set-up for the process: one stream handler whose formatter redacts the bot token from
the whole formatted record — the message, its arguments, a traceback (``exc_info``) and
``stack_info`` — since a client error's text can carry the request URL, and the URL the token."""

from __future__ import annotations

import logging

REDACTED = "<BOT_TOKEN>"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactingFormatter(logging.Formatter):
    """A formatter that replaces the token (and its secret part after the colon, alone or
    URL-encoded) in everything it produces."""

    def __init__(self, fmt: str | None = FORMAT, *, token: str | None) -> None:
        super().__init__(fmt)
        secrets = set()
        if token:
            secrets.add(token)
            secrets.add(token.replace(":", "%3A"))
            secrets.add(token.replace(":", "%3a"))
            secret = token.partition(":")[2]
            if len(secret) >= 8:  # too short a part would blank out ordinary words
                secrets.add(secret)
        # longest first, so that the whole token is replaced before its secret part
        self._secrets = sorted(secrets, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text


def setup_logging(level: str, token: str | None) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter(token=token))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    logging.getLogger("aiogram.event").setLevel(max(logging.WARNING, logging.getLevelName(level)))
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
