"""🛍 Shopping: the hub, search, product cards (options, ♡ My wishes, Add to
cart, Find similar, Store), store pages (coupons, Follow), favourite stores, My wishes, the cart
(+, −, remove) and Recently viewed (discounted only, by category, remove one, clear all).

Checkout (Buy now, a store's part of the cart) is bot/handlers/checkout.py's."""

from __future__ import annotations

import logging
from typing import Any, NoReturn

from aiogram import Bot, F
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from bot.db.catalog import ProductRow
from bot.db.engine import Database
from bot.db.users import UserRow
from bot.handlers.answers import refusals
from bot.handlers.common import show
from bot.handlers.flow import Done, Draft, question
from bot.handlers.routing import Handlers
from bot.keyboards.catalog import ProductAction, ProductCb, ShopAction, ShopCb, Src
from bot.keyboards.common import MenuCb
from bot.services.catalog.kept import CartLineNotFound, KeptService
from bot.services.catalog.pictures import picture_bytes
from bot.services.catalog.products import CatalogService
from bot.services.coupons import CouponService
from bot.services.errors import N_, DomainError
from bot.views import catalog as views
from bot.views.common import Fmt

log = logging.getLogger(__name__)
router = Handlers("catalog", N_("🛍 Shopping"), order=15)

QUERY = "shop_query"  # FSM data: the last search's words (for its pages)
FOUND = "shop_found"  # and how many it found, [shown, more]: its pages are not counted again


class Shop(StatesGroup):
    searching = State()


async def shop_refused(event: CallbackQuery | Message, error: DomainError, f: Fmt) -> None:
    if isinstance(event, CallbackQuery):
        await event.answer(f.error(error), show_alert=True)
    else:
        await event.answer(f.error(error))


refusals(router.callback_query, shop_refused)
refusals(router.message, shop_refused)


# -- the hub and search -------------------------------------------------------------------------
@router.callback_query(MenuCb.filter(F.section == "catalog"))
@router.callback_query(ShopCb.filter(F.action == ShopAction.hub))
async def hub(query: CallbackQuery, user: UserRow, kept: KeptService, f: Fmt, state: FSMContext,
              db: Database) -> None:
    if await state.get_state() == Shop.searching.state:  # Back from the search question: the step is over
        async with db.write():  # (the last search's words stay for its pages)
            await state.set_state(None)
    wished = (await kept.wishlist(user.id)).total
    await show(query, views.hub_screen(f, wished=wished, cart_pieces=await kept.cart_size(user.id)))


async def _search(text: str, draft: Draft, f: Fmt, state: FSMContext, db: Database,
                  catalog: CatalogService) -> NoReturn:
    words = text.strip()
    found = await catalog.search(words)  # refused (no words): the engine asks again with why
    async with db.write():
        await state.set_state(None)
        await state.update_data({QUERY: words[:200], FOUND: [found.total, found.more]})
    raise Done(views.results_screen(words, found, f))


SEARCH = question(router, Shop.searching, views.search_prompt, N_("Type the words as text."), _search, leave=hub)


@router.callback_query(ShopCb.filter(F.action == ShopAction.search))
async def ask_search(query: CallbackQuery, state: FSMContext, db: Database, f: Fmt) -> None:
    await show(query, await SEARCH.start(state, db, {}, f))


@router.callback_query(ShopCb.filter(F.action == ShopAction.results))
async def results(query: CallbackQuery, callback_data: ShopCb, state: FSMContext, db: Database,
                  catalog: CatalogService, f: Fmt) -> None:
    data = await state.get_data()
    words = str(data.get(QUERY) or "")
    if not words:  # the search was left (/menu): ask again
        await ask_search(query, state, db, f)
        return
    page = await catalog.search(words, callback_data.page, found=kept_found(data))
    await show(query, views.results_screen(words, page, f))


def kept_found(data: dict[str, Any]) -> tuple[int, bool] | None:
    """What the typed search found, as FOUND keeps it: (shown, more); None if it is not kept."""
    found = data.get(FOUND)
    return (int(found[0]), bool(found[1])) if isinstance(found, list) and len(found) == 2 else None


# -- a product ------------------------------------------------------------------------------------
async def show_product(query: CallbackQuery, user: UserRow, catalog: CatalogService, f: Fmt, product_id: int,
                       *, opt: str = "", src: Src = Src.link, page: int = 0, record: bool = False,
                       note: str | None = None) -> None:
    card = await catalog.product(user.id, product_id, record=record)
    await show(query, views.product_screen(card, f, chosen=views.chosen_from(opt, card.product), src=src, page=page),
               note)


async def send_picture(bot: Bot, chat_id: int, product: ProductRow, catalog: CatalogService) -> bool:
    """The product's picture, by Telegram's file id once it has one; the first time uploaded (and
    its file id kept). False: the product has none."""
    if product.image_file_id:
        try:
            await bot.send_photo(chat_id=chat_id, photo=product.image_file_id)
            return True
        except TelegramBadRequest:  # Telegram no longer knows the file: upload it again
            log.info("product %s: its picture's file id is gone, uploading it again", product.id)
    data = picture_bytes(product.image_path)
    if data is None:
        return False
    sent = await bot.send_photo(chat_id=chat_id, photo=BufferedInputFile(data, filename=f"product-{product.id}.png"))
    if sent.photo:
        await catalog.remember_image(product.id, sent.photo[-1].file_id)
    return True


@router.callback_query(ProductCb.filter(F.action.in_({ProductAction.open, ProductAction.option})))
async def open_product(query: CallbackQuery, callback_data: ProductCb, user: UserRow, catalog: CatalogService,
                       f: Fmt) -> None:
    cb = callback_data
    if cb.action == ProductAction.open:  # a product opened: its picture, then the card below it
        card = await catalog.product(user.id, cb.id)
        screen = views.product_screen(card, f, chosen=views.chosen_from(cb.opt, card.product), src=cb.src,
                                      page=cb.page)
        assert query.bot is not None
        if card.product.image_file_id or card.product.image_path:
            await query.answer()
            if await send_picture(query.bot, query.from_user.id, card.product, catalog):
                await query.bot.send_message(chat_id=query.from_user.id, **screen.as_kwargs())
                return
        await show(query, screen)
        return
    await show_product(query, user, catalog, f, cb.id, opt=cb.opt, src=cb.src, page=cb.page)


@router.callback_query(ProductCb.filter(F.action.in_({ProductAction.wish, ProductAction.unwish})))
async def wish(query: CallbackQuery, callback_data: ProductCb, user: UserRow, catalog: CatalogService,
               kept: KeptService, f: Fmt) -> None:
    on = callback_data.action == ProductAction.wish
    await kept.wish(user.id, callback_data.id, on)
    await show_product(query, user, catalog, f, callback_data.id, opt=callback_data.opt, src=callback_data.src,
                       page=callback_data.page,
                       note=f._("♥ Added to My wishes") if on else f._("Removed from My wishes"))


@router.callback_query(ProductCb.filter(F.action == ProductAction.cart))
async def add_to_cart(query: CallbackQuery, callback_data: ProductCb, user: UserRow, catalog: CatalogService,
                      kept: KeptService, f: Fmt) -> None:
    card = await catalog.product(user.id, callback_data.id, record=False)
    chosen = views.options_of(views.chosen_from(callback_data.opt, card.product), card.product)
    await kept.add_to_cart(user.id, callback_data.id, chosen)
    await show_product(query, user, catalog, f, callback_data.id, opt=callback_data.opt, src=callback_data.src,
                       page=callback_data.page, note=f._("🛒 Added to cart"))


@router.callback_query(ProductCb.filter(F.action == ProductAction.move))
async def move_to_cart(query: CallbackQuery, callback_data: ProductCb, user: UserRow, kept: KeptService,
                       f: Fmt) -> None:
    await kept.move_to_cart(user.id, callback_data.id)
    await show(query, views.wishlist_screen(await kept.wishlist(user.id, callback_data.page), f),
               f._("🛒 Moved to cart"))


@router.callback_query(ProductCb.filter(F.action == ProductAction.forget))
async def forget_viewed(query: CallbackQuery, callback_data: ProductCb, user: UserRow, kept: KeptService,
                        f: Fmt) -> None:
    await kept.forget_viewed(user.id, callback_data.id)
    await show_viewed(query, user, kept, f, page=callback_data.page, note=f._("Removed from Recently viewed"))


@router.callback_query(ProductCb.filter(F.action == ProductAction.similar))
async def similar(query: CallbackQuery, callback_data: ProductCb, catalog: CatalogService, f: Fmt) -> None:
    of, found = await catalog.similar(callback_data.id)
    back = ProductCb(action=ProductAction.open, id=of.id, src=callback_data.src, page=callback_data.page)
    await show(query, views.similar_screen(of, found, f, back))


# -- stores ---------------------------------------------------------------------------------------
async def show_store(query: CallbackQuery, user: UserRow, catalog: CatalogService, f: Fmt, store_id: int,
                     page: int = 0, note: str | None = None) -> None:
    await show(query, views.store_screen(await catalog.store(user.id, store_id, page), f), note)


@router.callback_query(ShopCb.filter(F.action == ShopAction.store))
async def store(query: CallbackQuery, callback_data: ShopCb, user: UserRow, catalog: CatalogService, f: Fmt) -> None:
    await show_store(query, user, catalog, f, callback_data.id, callback_data.page)


@router.callback_query(ShopCb.filter(F.action.in_({ShopAction.follow, ShopAction.unfollow})))
async def follow(query: CallbackQuery, callback_data: ShopCb, user: UserRow, catalog: CatalogService, f: Fmt) -> None:
    on = callback_data.action == ShopAction.follow
    await catalog.follow(user.id, callback_data.id, on)
    await show_store(query, user, catalog, f, callback_data.id,
                     note=f._("♥ Added to Favourite stores") if on else f._("Removed from Favourite stores"))


@router.callback_query(ShopCb.filter(F.action == ShopAction.coupon))
async def collect_coupon(query: CallbackQuery, callback_data: ShopCb, user: UserRow, catalog: CatalogService,
                         coupons: CouponService, f: Fmt) -> None:
    await coupons.collect_store_coupon(user.id, callback_data.id)
    await show_store(query, user, catalog, f, callback_data.store, note=f._("🎟 The coupon is in My coupons"))


@router.callback_query(ShopCb.filter(F.action == ShopAction.stores))
async def favourite_stores(query: CallbackQuery, user: UserRow, catalog: CatalogService, f: Fmt) -> None:
    await show(query, views.followed_screen(await catalog.followed(user.id), f))


# -- My wishes ------------------------------------------------------------------------------------
@router.callback_query(ShopCb.filter(F.action == ShopAction.wishlist))
async def wishlist(query: CallbackQuery, callback_data: ShopCb, user: UserRow, kept: KeptService, f: Fmt) -> None:
    await show(query, views.wishlist_screen(await kept.wishlist(user.id, callback_data.page), f))


# -- the cart -------------------------------------------------------------------------------------
async def show_cart(query: CallbackQuery, user: UserRow, kept: KeptService, f: Fmt, note: str | None = None) -> None:
    await show(query, views.cart_screen(await kept.cart(user.id), f), note)


async def show_line(query: CallbackQuery, user: UserRow, kept: KeptService, f: Fmt, line_id: int,
                    note: str | None = None) -> None:
    cart = await kept.cart(user.id)
    line = next((ln for group in cart.stores for ln in group.lines if ln.id == line_id), None)
    if line is None:
        raise CartLineNotFound()
    await show(query, views.cart_line_screen(line, f), note)


@router.callback_query(ShopCb.filter(F.action == ShopAction.cart))
async def cart(query: CallbackQuery, user: UserRow, kept: KeptService, f: Fmt) -> None:
    await show_cart(query, user, kept, f)


@router.callback_query(ShopCb.filter(F.action == ShopAction.line))
async def cart_line(query: CallbackQuery, callback_data: ShopCb, user: UserRow, kept: KeptService, f: Fmt) -> None:
    await show_line(query, user, kept, f, callback_data.id)


@router.callback_query(ShopCb.filter(F.action.in_({ShopAction.plus, ShopAction.minus})))
async def change_quantity(query: CallbackQuery, callback_data: ShopCb, user: UserRow, kept: KeptService,
                          f: Fmt) -> None:
    left = await kept.change_quantity(user.id, callback_data.id, 1 if callback_data.action == ShopAction.plus else -1)
    if left:
        await show_line(query, user, kept, f, callback_data.id)
    else:
        await show_cart(query, user, kept, f, f._("Removed from cart"))


@router.callback_query(ShopCb.filter(F.action == ShopAction.remove))
async def remove(query: CallbackQuery, callback_data: ShopCb, user: UserRow, kept: KeptService, f: Fmt) -> None:
    await kept.remove_from_cart(user.id, callback_data.id)
    await show_cart(query, user, kept, f, f._("Removed from cart"))


# -- Recently viewed ------------------------------------------------------------------------------
async def show_viewed(query: CallbackQuery, user: UserRow, kept: KeptService, f: Fmt, *, page: int = 0,
                      discounted: bool = False, category_index: int | None = None, note: str | None = None) -> None:
    category = None
    if category_index is not None:
        categories = await kept.viewed_categories(user.id)
        if category_index >= len(categories):  # the list changed since: all of them
            category_index = None
        else:
            category = categories[category_index][0]
    found = await kept.viewed(user.id, page, category=category, discounted=discounted)
    await show(query, views.viewed_screen(found, f, discounted=discounted, category=category,
                                          category_index=category_index or 0), note)


@router.callback_query(ShopCb.filter(F.action.in_({ShopAction.viewed, ShopAction.viewed_discounted,
                                                   ShopAction.viewed_category})))
async def viewed(query: CallbackQuery, callback_data: ShopCb, user: UserRow, kept: KeptService, f: Fmt) -> None:
    await show_viewed(query, user, kept, f, page=callback_data.page,
                      discounted=callback_data.action == ShopAction.viewed_discounted,
                      category_index=callback_data.id if callback_data.action == ShopAction.viewed_category else None)


@router.callback_query(ShopCb.filter(F.action == ShopAction.viewed_categories))
async def viewed_categories(query: CallbackQuery, user: UserRow, kept: KeptService, f: Fmt) -> None:
    await show(query, views.viewed_categories_screen(await kept.viewed_categories(user.id), f))


@router.callback_query(ShopCb.filter(F.action == ShopAction.viewed_clear))
async def clear_viewed(query: CallbackQuery, f: Fmt) -> None:
    await show(query, views.clear_viewed_screen(f))


@router.callback_query(ShopCb.filter(F.action == ShopAction.viewed_clear_ok))
async def clear_viewed_ok(query: CallbackQuery, user: UserRow, kept: KeptService, f: Fmt) -> None:
    await kept.forget_viewed(user.id)
    await show_viewed(query, user, kept, f, note=f._("Recently viewed is cleared"))
