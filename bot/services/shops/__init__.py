"""Shops: the clients of the HTTP API (`bot/api/`). `accounts.py` — a shop, its key and the stores it
owns, and the answers kept for idempotency keys; `customers.py` — a shop's customers, the one-time
link that ties one to a Telegram user, and the orders placed for them (waiting until linked)."""

from bot.services.shops.accounts import (
    KEY_PREFIX,
    ShopExists,
    ShopService,
    StoreTaken,
    key_hash,
)
from bot.services.shops.customers import (
    LINK_PREFIX,
    ORDER_WAITS,
    AlreadyLinked,
    CustomerNotLinked,
    CustomerService,
    Linked,
    LinkExpired,
    LinkUnknown,
    LinkUsed,
    NewOrder,
    NumberTaken,
    ShopOrder,
)

__all__ = [
    "KEY_PREFIX",
    "LINK_PREFIX",
    "ORDER_WAITS",
    "AlreadyLinked",
    "CustomerNotLinked",
    "CustomerService",
    "LinkExpired",
    "LinkUnknown",
    "LinkUsed",
    "Linked",
    "NewOrder",
    "NumberTaken",
    "ShopExists",
    "ShopOrder",
    "ShopService",
    "StoreTaken",
    "key_hash",
]
