"""The catalog's screens: the shopping hub, a product card, lists of products (search, similar,
wishlist, recently viewed), a store's page, favourite stores, the cart and a cart line, and the
price-drop push. Titles are shown in the user's language when the product has one."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from aiogram.types import InlineKeyboardButton
from aiogram.utils.text_decorations import html_decoration as hd

from bot.db.catalog import ProductRow, StoreRow
from bot.db.coupons import Offer
from bot.keyboards.catalog import CartCheckoutCb, ProductAction, ProductCb, ShopAction, ShopCb, Src
from bot.keyboards.relay import RelayAction, RelayCb
from bot.services.catalog.alerts import PRICE_DROP_KIND
from bot.services.catalog.kept import Cart, CartLine, KeptPage
from bot.services.catalog.products import FollowedStore, NotSold, ProductCard, ProductPage, StorePage
from bot.services.errors import N_
from bot.views.common import Fmt, Screen, button, clip, markup, nav_row, pager_row
from bot.views.pushes import register_push

TITLE_IN_LIST = 48

CATEGORIES = {
    "audio": N_("Audio"), "phones": N_("Phones and accessories"), "home": N_("Home and garden"),
    "clothing": N_("Clothing"), "beauty": N_("Beauty and health"), "toys": N_("Toys"), "sports": N_("Sports"),
    "computers": N_("Computers"), "power": N_("Chargers and batteries"), "cables": N_("Cables"),
    "cases": N_("Cases and covers"),
}
OPTION_NAMES = {"colour": N_("Colour"), "size": N_("Size"), "capacity": N_("Capacity")}
# the common values in the user's language (a shop's own values are shown as the shop wrote them)
OPTION_VALUES = {"black": N_("black"), "white": N_("white"), "silver": N_("silver"), "grey": N_("grey"),
                 "gray": N_("grey"), "red": N_("red"), "green": N_("green"), "blue": N_("blue"),
                 "clear": N_("clear"), "beige": N_("beige"), "brown": N_("brown"), "pink": N_("pink"),
                 "purple": N_("purple"), "orange": N_("orange"), "yellow": N_("yellow"),
                 "navy": N_("navy"), "transparent": N_("transparent")}


def category_label(code: str, f: Fmt) -> str:
    msgid = CATEGORIES.get(code)
    return f._(msgid) if msgid else code


def option_name(name: str, f: Fmt) -> str:
    """A known option's name in the user's language, whatever its case ("colour", "Colour")."""
    msgid = OPTION_NAMES.get(name.strip().casefold())
    return f._(msgid) if msgid else name


def option_value(value: str, f: Fmt) -> str:
    msgid = OPTION_VALUES.get(value.strip().casefold())
    return f._(msgid) if msgid else value


def options_text(options: Iterable[tuple[str, str]], f: Fmt) -> str:
    """Chosen options in the user's language, "Colour: black, Size: M" (plain text: quote it)."""
    return ", ".join(f"{option_name(name, f)}: {option_value(value, f)}" for name, value in options)


def not_sold(f: Fmt) -> str:
    return "⛔ " + f.error(NotSold())


def price_text(p: ProductRow, f: Fmt) -> str:
    now = f.money(p.price_minor, p.currency)
    if p.discounted:
        return f"<b>{now}</b> <s>{f.money(p.old_price_minor or 0, p.currency)}</s>"
    return f"<b>{now}</b>"


def rating_text(rated: ProductRow | StoreRow, f: Fmt) -> str:
    """A product's or a store's stars and how many reviews they come from."""
    if not rated.rating_x10:
        return f._("No ratings yet")
    stars = f.number(rated.rating_x10 / 10)
    reviews = f.ngettext("{n} review", "{n} reviews", rated.reviews_count).format(n=rated.reviews_count)
    return f"★ {stars} · {reviews}"


def chosen_from(opt: str, p: ProductRow) -> list[int]:
    """The option indexes from a button ("0.1"), each within what the product offers (else 0)."""
    parts = opt.split(".") if opt else []
    chosen = []
    for n, values in enumerate(p.options.values()):
        index = int(parts[n]) if n < len(parts) and parts[n].isdigit() else 0
        chosen.append(index if index < len(values) else 0)
    return chosen


def options_of(chosen: Sequence[int], p: ProductRow) -> dict[str, str]:
    return {name: values[chosen[n]] for n, (name, values) in enumerate(p.options.items())}


def _opt(chosen: Sequence[int]) -> str:
    return ".".join(str(i) for i in chosen)


# -- the hub ----------------------------------------------------------------------------------
def hub_screen(f: Fmt, *, wished: int, cart_pieces: int) -> Screen:
    text = "\n".join([f._("<b>🛍 Shopping</b>"),
                      f._("Find products, keep them in My wishes or the cart, and come back to what you viewed.")])
    wishes = f._("♡ My wishes") + (f" · {wished}" if wished else "")
    cart = f._("🛒 Cart") + (f" · {cart_pieces}" if cart_pieces else "")
    rows = [
        [button(f._("🔎 Search"), ShopCb(action=ShopAction.search))],
        [button(wishes, ShopCb(action=ShopAction.wishlist)), button(cart, ShopCb(action=ShopAction.cart))],
        [button(f._("👁 Recently viewed"), ShopCb(action=ShopAction.viewed)),
         button(f._("🏬 Favourite stores"), ShopCb(action=ShopAction.stores))],
        nav_row(f),
    ]
    return Screen(text, markup(rows))


def search_prompt(f: Fmt, error: str | None = None) -> Screen:
    lines = [f._("<b>🔎 Search</b>"), f._("Type a word or two of what you are looking for, in English or Russian.")]
    if error:
        lines.insert(0, "⚠️ " + error)
    return Screen("\n".join(lines), markup([nav_row(f, back=ShopCb(action=ShopAction.hub))]))


# -- lists of products ------------------------------------------------------------------------
def _line(n: int, p: ProductRow, f: Fmt) -> str:
    title = hd.quote(clip(p.title_in(f.locale), TITLE_IN_LIST))
    mark = "" if p.active else " · " + f._("no longer sold")
    return f"{n}. {title} — {price_text(p, f)}{mark}"



def _open_buttons(products: Sequence[ProductRow], src: Src, page: int, first: int,
                  f: Fmt) -> list[list[InlineKeyboardButton]]:
    return [[button(f"{first + n}. {clip(p.title_in(f.locale), 40)}",
                    ProductCb(action=ProductAction.open, id=p.id, src=src, page=page))]
            for n, p in enumerate(products)]


def results_screen(query: str, found: ProductPage, f: Fmt) -> Screen:
    lines = [f._("<b>🔎 “{query}”</b>").format(query=hd.quote(clip(query, 60)))]
    if not found.total:
        lines.append(f._("Nothing found. Try other words, or fewer of them."))
    else:
        if found.more:  # the best RANKED are shown
            lines.append(f.ngettext("More than {n} product found: the best {n} are shown. Add a word to narrow "
                                    "the search.", "More than {n} products found: the best {n} are shown. Add a word "
                                    "to narrow the search.", found.total).format(n=found.total))
        else:
            lines.append(f.ngettext("{n} product found", "{n} products found", found.total).format(n=found.total))
        first = found.page * 8 + 1
        lines += [""] + [_line(first + n, p, f) for n, p in enumerate(found.rows)]
    rows = _open_buttons(found.rows, Src.search, found.page, found.page * 8 + 1, f)
    rows.append(pager_row(found.page, found.pages, lambda p: ShopCb(action=ShopAction.results, page=p)))
    rows.append([button(f._("🔎 New search"), ShopCb(action=ShopAction.search))])
    rows.append(nav_row(f, back=ShopCb(action=ShopAction.hub)))
    return Screen("\n".join(lines), markup(rows))


def similar_screen(of: ProductRow, found: ProductPage, f: Fmt, back: ProductCb) -> Screen:
    lines = [f._("<b>🔁 Like “{title}”</b>").format(title=hd.quote(clip(of.title_in(f.locale), 60)))]
    if not found.rows:
        lines.append(f._("No similar products yet."))
    else:
        lines += [""] + [_line(n + 1, p, f) for n, p in enumerate(found.rows)]
    rows = _open_buttons(found.rows, Src.similar, 0, 1, f)
    rows.append(nav_row(f, back=back))
    return Screen("\n".join(lines), markup(rows))


# -- the product card -------------------------------------------------------------------------
def product_screen(card: ProductCard, f: Fmt, *, chosen: Sequence[int], src: Src, page: int) -> Screen:
    p = card.product
    lines = [f"<b>{hd.quote(p.title_in(f.locale))}</b>", f._("Store: {store}").format(store=hd.quote(p.store)),
             "", price_text(p, f)]
    if p.discounted:
        saved = (p.old_price_minor or 0) - p.price_minor
        lines[-1] += " · " + f._("−{amount}").format(amount=f.money(saved, p.currency))
    lines.append(rating_text(p, f))
    if p.category:
        lines.append(f._("Category: {category}").format(category=category_label(p.category, f)))
    for n, (name, values) in enumerate(p.options.items()):
        lines.append(f"{option_name(name, f)}: <b>{hd.quote(option_value(values[chosen[n]], f))}</b>")
    if not p.active:
        lines += ["", not_sold(f)]
    if card.in_cart:
        lines += ["", f.ngettext("🛒 {n} in your cart", "🛒 {n} in your cart", card.in_cart).format(n=card.in_cart)]
    rows: list[list[InlineKeyboardButton]] = []
    if p.active:
        for n, values in enumerate(p.options.values()):
            option_row = []
            for index, value in enumerate(values[:6]):
                pick = list(chosen)
                pick[n] = index
                label = ("✓ " if chosen[n] == index else "") + clip(option_value(value, f), 20)
                option_row.append(button(label, ProductCb(action=ProductAction.option, id=p.id, opt=_opt(pick),
                                                          src=src, page=page)))
            rows.append(option_row)
        rows.append([button(f._("⚡ Buy now"), ProductCb(action=ProductAction.buy, id=p.id, opt=_opt(chosen), src=src,
                                                         page=page)),
                     button(f._("🛒 Add to cart"), ProductCb(action=ProductAction.cart, id=p.id, opt=_opt(chosen),
                                                              src=src, page=page))])
    wish = (button(f._("♥ In My wishes"), ProductCb(action=ProductAction.unwish, id=p.id, opt=_opt(chosen), src=src,
                                                     page=page)) if card.wished else
            button(f._("♡ Add to My wishes"), ProductCb(action=ProductAction.wish, id=p.id, opt=_opt(chosen), src=src,
                                                         page=page)))
    rows.append([wish])
    if src == Src.wishlist and card.wished and p.active:
        rows.append([button(f._("🛒 Move to cart"), ProductCb(action=ProductAction.move, id=p.id, src=src, page=page))])
    if src == Src.viewed:
        rows.append([button(f._("✕ Remove from Recently viewed"), ProductCb(action=ProductAction.forget, id=p.id,
                                                                            src=src, page=page))])
    rows.append([button(f._("🔁 Find similar"), ProductCb(action=ProductAction.similar, id=p.id, src=src, page=page)),
                 button(f._("🏬 Store"), ShopCb(action=ShopAction.store, id=p.store_id))])
    rows.append([button(f._("✉️ Message seller"), RelayCb(action=RelayAction.store, id=p.store_id))])
    rows.append(nav_row(f, back=back_of(src, page)))
    return Screen("\n".join(lines), markup(rows))


def back_of(src: Src, page: int) -> ShopCb:
    action = {Src.search: ShopAction.results, Src.wishlist: ShopAction.wishlist, Src.cart: ShopAction.cart,
              Src.viewed: ShopAction.viewed}.get(src, ShopAction.hub)
    return ShopCb(action=action, page=page)


# -- wishlist, recently viewed ----------------------------------------------------------------
def _kept_line(n: int, k: Any, f: Fmt, *, when: str) -> str:
    line = _line(n, k.product, f)
    if k.cheaper_now:
        line += " · " + f._("📉 was {price}").format(price=f.money(k.price_then_minor, k.product.currency))
    return line + f"\n   <i>{when}</i>"


def wishlist_screen(page: KeptPage, f: Fmt) -> Screen:
    lines = [f._("<b>♡ My wishes</b>")]
    if not page.total:
        lines.append(f._("Nothing here yet. Tap “♡ Add to My wishes” on a product: you will be told when its "
                         "price drops."))
    else:
        lines.append(f.ngettext("{n} product", "{n} products", page.total).format(n=page.total))
        first = page.page * 8 + 1
        lines += [""] + [_kept_line(first + n, k, f, when=f._("added {date}").format(date=f.date(k.at)))
                         for n, k in enumerate(page.rows)]
    rows = _open_buttons([k.product for k in page.rows], Src.wishlist, page.page, page.page * 8 + 1, f)
    rows.append(pager_row(page.page, page.pages, lambda p: ShopCb(action=ShopAction.wishlist, page=p)))
    rows.append(nav_row(f, back=ShopCb(action=ShopAction.hub)))
    return Screen("\n".join(lines), markup(rows))


def viewed_screen(page: KeptPage, f: Fmt, *, discounted: bool, category: str | None, category_index: int) -> Screen:
    lines = [f._("<b>👁 Recently viewed</b>")]
    if discounted:
        lines.append(f._("Discounted only."))
    if category is not None:
        lines.append(f._("Category: {category}").format(category=category_label(category, f)))
    if not page.total:
        lines.append(f._("Nothing here yet: the products you open appear here, the newest first."))
    else:
        first = page.page * 8 + 1
        lines += [""] + [_line(first + n, k.product, f) for n, k in enumerate(page.rows)]
    rows = _open_buttons([k.product for k in page.rows], Src.viewed, page.page, page.page * 8 + 1, f)
    action = ShopAction.viewed_discounted if discounted else (
        ShopAction.viewed_category if category is not None else ShopAction.viewed)
    rows.append(pager_row(page.page, page.pages, lambda p: ShopCb(action=action, id=category_index, page=p)))
    filters = [button(f._("🏷 All") if discounted else f._("🏷 Discounted only"),
                      ShopCb(action=ShopAction.viewed if discounted else ShopAction.viewed_discounted)),
               button(f._("🗂 By category"), ShopCb(action=ShopAction.viewed_categories))]
    rows.append(filters)
    if page.total and not discounted and category is None:
        rows.append([button(f._("🧹 Clear all"), ShopCb(action=ShopAction.viewed_clear))])
    rows.append(nav_row(f, back=ShopCb(action=ShopAction.hub)))
    return Screen("\n".join(lines), markup(rows))


def viewed_categories_screen(categories: Sequence[tuple[str, int]], f: Fmt) -> Screen:
    text = f._("<b>👁 Recently viewed</b>") + "\n" + (f._("Choose a category.") if categories
                                                       else f._("Nothing here yet."))
    rows = [[button(f"{category_label(code, f)} · {count}", ShopCb(action=ShopAction.viewed_category, id=n))]
            for n, (code, count) in enumerate(categories[:20])]
    rows.append(nav_row(f, back=ShopCb(action=ShopAction.viewed)))
    return Screen(text, markup(rows))


def clear_viewed_screen(f: Fmt) -> Screen:
    return Screen(f._("Clear Recently viewed? The list starts again with the next product you open."),
                  markup([[button(f._("🧹 Yes, clear"), ShopCb(action=ShopAction.viewed_clear_ok)),
                           button(f._("No"), ShopCb(action=ShopAction.viewed))]]))


# -- stores -----------------------------------------------------------------------------------
def _offer_label(offer: Offer, f: Fmt) -> str:
    t = offer.terms
    if t.value_kind.value == "percent":
        value = f._("{percent}% off").format(percent=t.percent)
    else:
        value = f._("{amount} off").format(amount=f.money(t.amount_minor or 0, t.currency))
    if t.min_order_minor:
        value += " " + f._("from {amount}").format(amount=f.money(t.min_order_minor, t.currency))
    return f._("🎟 Get coupon: {value}").format(value=value)


def store_screen(page: StorePage, f: Fmt) -> Screen:
    s = page.store
    lines = [f"<b>🏬 {hd.quote(s.name)}</b>"]
    if s.rating_x10:
        lines.append(f._("Store rating: {rating}").format(rating=rating_text(s, f)))
    if page.following:
        lines.append(f._("♥ You follow this store."))
        if page.new_products:
            lines.append(f.ngettext("{n} new product since your last visit", "{n} new products since your last visit",
                                    page.new_products).format(n=page.new_products))
    lines.append(f.ngettext("{n} product", "{n} products", page.products.total).format(n=page.products.total))
    first = page.products.page * 8 + 1
    if page.products.rows:
        lines += [""] + [_line(first + n, p, f) for n, p in enumerate(page.products.rows)]
    rows = [[button(_offer_label(o, f), ShopCb(action=ShopAction.coupon, id=o.id, store=s.id))] for o in page.offers[:3]]
    rows += _open_buttons(page.products.rows, Src.store, page.products.page, first, f)
    rows.append(pager_row(page.products.page, page.products.pages,
                       lambda p: ShopCb(action=ShopAction.store, id=s.id, page=p)))
    rows.append([button(f._("💔 Unfollow"), ShopCb(action=ShopAction.unfollow, id=s.id)) if page.following
                 else button(f._("♥ Follow"), ShopCb(action=ShopAction.follow, id=s.id)),
                 button(f._("✉️ Message seller"), RelayCb(action=RelayAction.store, id=s.id))])
    rows.append(nav_row(f, back=ShopCb(action=ShopAction.stores if page.following else ShopAction.hub)))
    return Screen("\n".join(lines), markup(rows))


def followed_screen(stores: Sequence[FollowedStore], f: Fmt) -> Screen:
    lines = [f._("<b>🏬 Favourite stores</b>")]
    if not stores:
        lines.append(f._("You don't follow any stores yet. Open a store from a product and tap “♥ Follow”."))
    rows = []
    for item in stores[:30]:
        news = []
        if item.new_products:
            news.append(f.ngettext("{n} new product", "{n} new products", item.new_products).format(n=item.new_products))
        if item.new_offers:
            news.append(f.ngettext("{n} new coupon", "{n} new coupons", item.new_offers).format(n=item.new_offers))
        label = item.store.store + (" · " + ", ".join(news) if news else "")
        rows.append([button(clip(label, 60), ShopCb(action=ShopAction.store, id=item.store.store_id))])
    rows.append(nav_row(f, back=ShopCb(action=ShopAction.hub)))
    return Screen("\n".join(lines), markup(rows))


# -- the cart ---------------------------------------------------------------------------------
def _options_text(line: CartLine, f: Fmt) -> str:
    return ", ".join(f"{option_name(k, f)}: {hd.quote(option_value(v, f))}" for k, v in line.options.items())


def cart_screen(cart: Cart, f: Fmt) -> Screen:
    lines = [f._("<b>🛒 Cart</b>")]
    rows: list[list[InlineKeyboardButton]] = []
    if not cart.stores:
        lines.append(f._("Your cart is empty. Add products from their cards."))
    n = 0
    for group in cart.stores:
        lines += ["", f"<b>🏬 {hd.quote(group.store)}</b>"]
        for line in group.lines:
            n += 1
            p = line.product
            text = f"{n}. {hd.quote(clip(p.title_in(f.locale), TITLE_IN_LIST))} × {line.quantity}"
            if line.options:
                text += f" ({_options_text(line, f)})"
            text += " — " + (f.money(line.total_minor, p.currency) if p.active else f._("no longer sold"))
            lines.append(text)
            rows.append([button(f"{n}. {clip(p.title_in(f.locale), 30)} × {line.quantity}",
                                ShopCb(action=ShopAction.line, id=line.id))])
        totals = " + ".join(f.money(minor, currency) for currency, minor in group.currency_totals)
        if totals:
            lines.append(f._("Total: {amount}").format(amount=f"<b>{totals}</b>"))
        mixed = len(group.currency_totals) > 1  # one order is in one currency: a check-out for each
        for currency, minor in group.currency_totals:
            label = (f._("✅ Check out · {store} · {amount}").format(store=clip(group.store, 24),
                                                                      amount=f.money(minor, currency))
                     if mixed else f._("✅ Check out · {store}").format(store=clip(group.store, 30)))
            rows.append([button(label, CartCheckoutCb(store=group.store_id, cur=currency))])
    rows.append(nav_row(f, back=ShopCb(action=ShopAction.hub)))
    return Screen("\n".join(lines), markup(rows))


def cart_line_screen(line: CartLine, f: Fmt) -> Screen:
    p = line.product
    lines = [f"<b>{hd.quote(p.title_in(f.locale))}</b>", f._("Store: {store}").format(store=hd.quote(p.store))]
    if line.options:
        lines.append(_options_text(line, f))
    lines.append(f._("Quantity: {n}").format(n=line.quantity))
    if p.active:
        lines.append(f._("{price} each · {total}").format(price=f.money(p.price_minor, p.currency),
                                                          total=f"<b>{f.money(line.total_minor, p.currency)}</b>"))
        if p.price_minor < line.price_then_minor:
            lines.append(f._("📉 Cheaper than when you added it ({price}).").format(
                price=f.money(line.price_then_minor, p.currency)))
    else:
        lines.append(not_sold(f))
    rows = [[button("➖", ShopCb(action=ShopAction.minus, id=line.id)), button(str(line.quantity),
                                                                            ShopCb(action=ShopAction.line, id=line.id)),
             button("➕", ShopCb(action=ShopAction.plus, id=line.id))],
            [button(f._("✕ Remove from cart"), ShopCb(action=ShopAction.remove, id=line.id))],
            [button(f._("Open the product"), ProductCb(action=ProductAction.open, id=p.id, src=Src.cart))],
            nav_row(f, back=ShopCb(action=ShopAction.cart))]
    return Screen("\n".join(lines), markup(rows))


# -- the price-drop push ----------------------------------------------------------------------
def price_drop_push(p: dict[str, Any], f: Fmt) -> Screen:
    title = str(p.get("title_ru") or p.get("title")) if f.locale.startswith("ru") else str(p.get("title"))
    currency = str(p.get("currency", "USD"))
    return Screen(f._("📉 <b>{title}</b> is cheaper: {new} instead of {old}").format(
        title=hd.quote(title), new=f.money(int(p.get("new_minor", 0)), currency),
        old=f.money(int(p.get("old_minor", 0)), currency)))


def _open_product(p: dict[str, Any], f: Fmt) -> InlineKeyboardButton:
    return button(f._("Open the product"), ProductCb(action=ProductAction.open, id=int(p.get("product_id", 0))))


register_push(PRICE_DROP_KIND, price_drop_push, button=_open_product)
