"""The catalog: a product card and its actions (`ProductCb`), and the shopping lists — search,
wishlist, cart, recently viewed, stores (`ShopCb`). Ids are ints; a product card's chosen options
ride along as indexes ("0.1": the first option's first value, the second's second), and `src`
says which list the card was opened from, so Back returns there."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

from bot.keyboards.common import Id, Page


class Src(str, Enum):
    """Where a product card was opened from (its Back)."""

    link = "l"  # a deep link or a push: Back goes to the shopping hub
    search = "s"
    wishlist = "w"
    cart = "c"
    viewed = "v"
    store = "t"
    similar = "m"


class ProductAction(str, Enum):
    open = "o"
    option = "p"  # choose an option value (`opt` holds the new choice)
    wish = "w"
    unwish = "u"
    cart = "c"  # add to cart with `opt`
    move = "mv"  # from the wishlist into the cart
    forget = "f"  # remove from Recently viewed
    similar = "s"
    store = "t"
    buy = "b"  # Buy now: checkout with `opt`


class ProductCb(CallbackData, prefix="pr"):
    action: ProductAction
    id: Id
    opt: str = ""  # chosen options as indexes, "0.1"
    src: Src = Src.link
    page: Page = 0  # the page of the list it came from


class ShopAction(str, Enum):
    hub = "h"
    search = "s"  # ask for words
    results = "r"  # a page of the last search (the words are in FSM data)
    wishlist = "w"
    cart = "c"
    line = "l"  # one cart line
    plus = "+"
    minus = "-"
    remove = "x"
    viewed = "v"
    viewed_discounted = "vd"
    viewed_category = "vc"  # `id`: the category's index in the user's list
    viewed_categories = "vk"
    viewed_clear = "vx"
    viewed_clear_ok = "vy"
    stores = "f"  # favourite stores
    store = "t"
    follow = "fo"
    unfollow = "uf"
    coupon = "cp"  # collect a store's coupon: `id` is the offer, `store` the store
    checkout = "co"  # check out a store's part of the cart: `id` is the store (buttons sent before CartCheckoutCb)


class ShopCb(CallbackData, prefix="sh"):
    action: ShopAction
    id: Id = 0
    page: Page = 0
    store: Id = 0


class CartCheckoutCb(CallbackData, prefix="cc"):
    """Check out a store's products in the cart priced in one currency (an order is in one)."""

    store: Id
    cur: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


class CheckoutAction(str, Enum):
    quantity = "q"  # value: the quantity
    address = "a"  # value: an address of the book
    new_address = "na"  # add one through the address form, and come back
    coupon = "c"  # value: a coupon, switched on or off
    no_coupons = "nc"
    coupons_done = "cd"
    certificates = "g"  # value: 1 to pay with gift certificates, 0 not to
    card = "k"  # value: a saved card; 0: a new card used just this once (a full wallet)
    new_card = "nk"  # add one through the card flow, and come back
    edit = "e"  # value: the field (CheckoutField)
    place = "p"


class CheckoutField(int, Enum):
    quantity = 1
    address = 2
    coupons = 3
    card = 4


class CheckoutCb(CallbackData, prefix="co"):
    action: CheckoutAction
    value: Id = 0
