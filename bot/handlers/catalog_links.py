"""A product's deep link, `t.me/<bot>?start=p<id>`: the product card, as a new message (before the
commands' plain /start, which shows the menu)."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from bot.db.engine import Database
from bot.db.users import UserRow
from bot.handlers.catalog import send_picture
from bot.handlers.commands import leave_flow_from_message
from bot.handlers.common import reply
from bot.handlers.routing import Handlers
from bot.keyboards.catalog import Src
from bot.services.catalog.products import CatalogService, ProductNotFound
from bot.views import catalog as views
from bot.views.common import Fmt

router = Handlers("catalog_links")

PRODUCT_LINK = r"^p([1-9][0-9]{0,11})$"


@router.message(CommandStart(deep_link=True, magic=F.args.regexp(PRODUCT_LINK)))
async def product_link(message: Message, command: CommandObject, state: FSMContext, db: Database, user: UserRow,
                       catalog: CatalogService, f: Fmt) -> None:
    await leave_flow_from_message(message, state, db, f)  # like /start: whatever was under way is left
    try:
        card = await catalog.product(user.id, int((command.args or "p0")[1:]))
    except ProductNotFound as error:
        await message.answer(f.error(error))
        return
    assert message.bot is not None
    await send_picture(message.bot, message.chat.id, card.product, catalog)
    await reply(message, views.product_screen(card, f, chosen=views.chosen_from("", card.product), src=Src.link, page=0))
