"""The fake Telegram refuses what Telegram refuses: texts and captions over the limits, measured
as Telegram measures them (issue 15, item 6)."""

from __future__ import annotations

import pytest
from aiogram.exceptions import TelegramBadRequest

from bot.app import build_bot
from bot.config import Settings
from bot.fakebot import FakeSession, telegram_length


def test_length_is_counted_as_telegram_counts() -> None:
    assert telegram_length("<b>Tom &amp; Jerry</b>") == len("Tom & Jerry")
    assert telegram_length("&lt;b&gt;") == 3
    assert telegram_length("&#128512;") == 2  # one emoji outside the BMP: two UTF-16 code units
    assert telegram_length("🚚 Д") == 4
    assert telegram_length("  \n text \n ") == 4  # Telegram trims the ends
    assert telegram_length("<b>x</b>", html_mode=False) == 8


@pytest.fixture
def session() -> FakeSession:
    return FakeSession()


async def test_texts_and_captions_over_the_limits_are_refused(session: FakeSession) -> None:
    bot = build_bot(Settings(_env_file=None, bot_token=None), session=session)  # type: ignore[call-arg]
    await bot.send_message(1, "<b>" + "я" * 4096 + "</b>")  # tags don't count
    await bot.send_message(1, "&amp;" * 4096)  # an entity counts as its character
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(1, "x" * 4097)
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(1, "😀" * 2049)  # 4,098 UTF-16 code units
    sent = await bot.send_message(1, "short")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.edit_message_text("x" * 4097, chat_id=1, message_id=sent.message_id)
    await bot.send_photo(1, "photo", caption="c" * 1024)
    with pytest.raises(TelegramBadRequest, match="caption is too long"):
        await bot.send_photo(1, "photo", caption="c" * 1025)
    with pytest.raises(TelegramBadRequest, match="MESSAGE_TOO_LONG"):
        await bot.answer_callback_query("1", text="a" * 201)
