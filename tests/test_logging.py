"""What the process logs holds no secrets: the bot token is redacted over the whole record,
tracebacks included (issue 15, item 11)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

import main

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


@pytest.fixture
def root_stream() -> Iterator[io.StringIO]:
    """main.setup_logging's handler on the root logger, writing into a buffer; the root logger
    is put back as it was afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    main.setup_logging("DEBUG", TOKEN)
    stream = io.StringIO()
    (handler,) = [h for h in root.handlers if h not in saved_handlers]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    try:
        yield stream
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)


def _raise_client_error() -> None:
    raise RuntimeError(f"Cannot connect to https://api.telegram.org/bot{TOKEN}/getUpdates")


def test_token_in_an_exception_is_redacted_from_the_traceback(root_stream: io.StringIO) -> None:
    log = logging.getLogger("bot.polling")
    try:
        _raise_client_error()
    except RuntimeError:
        log.error("polling failed", exc_info=True)
    out = root_stream.getvalue()
    assert "polling failed" in out and "RuntimeError" in out  # the traceback is there…
    assert "<BOT_TOKEN>" in out
    assert TOKEN not in out and TOKEN.split(":")[1] not in out  # …without the token


def test_token_in_args_stack_info_and_url_encoded_is_redacted(root_stream: io.StringIO) -> None:
    log = logging.getLogger("bot.polling")
    log.warning("request %s failed", f"https://api.telegram.org/bot{TOKEN}/getMe")
    log.warning("encoded %s", TOKEN.replace(":", "%3A"))
    log.info("the secret part alone: %s", TOKEN.split(":")[1], stack_info=True)
    out = root_stream.getvalue()
    assert out.count("<BOT_TOKEN>") == 3
    assert TOKEN.split(":")[1] not in out
