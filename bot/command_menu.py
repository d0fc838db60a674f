"""The command list Telegram shows in the "/" menu: everyone's, per language, set at start; and a
seller's own chat, which also lists /seller.

A per-chat list (BotCommandScopeChat) replaces the default one in that chat, so a seller's holds
the same commands plus /seller, in both languages (by the Telegram app's language, as the default
list) and in the seller's own locale where the app's language is neither. It is set when the
invitation is redeemed and taken away when /seller is refused to someone who sells for no store
any more (`main.py seller remove` runs without the bot: the chat's list is brought in line the
next time they use it). Telegram failing here is logged, never an error for the person: the
command works whether or not the menu lists it."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault

from bot.i18n import I18n
from bot.views.common import Fmt
from bot.views.help import command_descriptions

log = logging.getLogger(__name__)
LOCALES = ("en", "ru")


def _commands(f: Fmt, *, seller: bool = False) -> list[BotCommand]:
    return [BotCommand(command=c, description=d) for c, d in command_descriptions(f, seller=seller)]


async def set_commands(bot: Bot, i18n: I18n, default_locale: str) -> None:
    """The command list per language, and the default scope in the default locale."""
    for locale in LOCALES:
        await bot.set_my_commands(_commands(Fmt(i18n, locale)), scope=BotCommandScopeDefault(), language_code=locale)
    await bot.set_my_commands(_commands(Fmt(i18n, default_locale)), scope=BotCommandScopeDefault())


async def show_seller_commands(bot: Bot, f: Fmt, chat_id: int, *, on: bool) -> None:
    """List /seller in this chat's menu (`on`), or give the chat the default list back."""
    scope = BotCommandScopeChat(chat_id=chat_id)
    try:
        for locale in (*LOCALES, None):
            if on:
                here = f if locale is None else f.rebind(locale, f.tz_name)
                await bot.set_my_commands(_commands(here, seller=True), scope=scope, language_code=locale)
            else:
                await bot.delete_my_commands(scope=scope, language_code=locale)
    except Exception as error:  # the menu only: the seller's commands work without it
        log.warning("the command menu of chat %s could not be changed (%s)", chat_id, type(error).__name__)
