"""/privacy: what Kabinet keeps and why, in both languages, from anywhere (a flow goes on after it),
with the shop's full policy behind a button when PRIVACY_URL is set."""

from __future__ import annotations

import pytest
from aiogram.types import InlineKeyboardMarkup

from bot.config import Settings, SettingsError, load_settings
from bot.views.help import COMMANDS
from tests.conftest import App
from tests.flows.conftest import Player

TEXTS = {
    "en": ("<b>🔒 Privacy</b>", "The card number and CVC are never kept", "step 1 of 8", "📍 Shipping addresses",
           "➕ Add an address", "🇷🇺 Russia", "step 2 of 8"),
    "ru": ("<b>🔒 Конфиденциальность</b>", "Номер карты и код CVC никогда не хранятся", "шаг 1 из 8",
           "📍 Адреса доставки", "➕ Добавить адрес", "🇷🇺 Россия", "шаг 2 из 8"),
}


def urls(player: Player) -> list[str]:
    markup = player.last.reply_markup
    assert isinstance(markup, InlineKeyboardMarkup)
    return [b.url for row in markup.inline_keyboard for b in row if b.url]


async def test_privacy_says_what_is_kept_and_a_flow_goes_on_after_it(app: App, user: Player, lang: str) -> None:
    head, card_line, first, addresses, add, russia, second = TEXTS[lang]
    await user.send("/start")
    await user.press(addresses)
    await user.press(add)  # the new address form: its first step
    assert first in user.last_text
    await user.send("/privacy")
    assert user.last_text.startswith(head) and card_line in user.last_text
    assert {"en": "forgotten after 30 days", "ru": "забывается через 30 дней"}[lang] in user.last_text
    assert urls(user) == []  # no policy URL set: no button to it
    await user.send("/help")
    assert "/privacy — " in user.last_text  # listed with the commands, as Telegram's menu lists it
    form, data = user.find_button(russia)
    await user.press_data(data, form)  # the form's button: the form goes on where it was
    assert any(second in (m.text or "") for m in user.bot_messages)


class TestWithThePolicyUrlSet:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"privacy_url": "https://shop.example.com/privacy"})

    async def test_the_shops_full_policy_is_a_button(self, app: App, alex: Player) -> None:
        await alex.send("/privacy")
        assert urls(alex) == ["https://shop.example.com/privacy"]


def test_privacy_is_a_command_of_the_menu_and_its_url_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "privacy" in [command for command, _ in COMMANDS]
    monkeypatch.setenv("PRIVACY_URL", "shop.example.com/privacy")
    with pytest.raises(SettingsError, match="PRIVACY_URL"):
        load_settings()
