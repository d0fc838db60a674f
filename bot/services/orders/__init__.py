"""Orders: the state machine and what a buyer, a shop and the clock may do with an order.

    awaiting_payment → awaiting_shipment → shipped → completed
    awaiting_payment, awaiting_shipment → cancelled        (a paid order is refunded)
    shipped → in_dispute;  completed → in_dispute          (within the dispute window)
    in_dispute → closed                                     (refunded in full or part, or rejected)

Every transition is a conditional update (`… WHERE status = :expected`) inside one unit of work with
its history row and its push, so a double tap or a race with the sweeper changes state once; the
loser is told what happened ("already cancelled") rather than shown an error.

Nothing here imports aiogram or formats text: errors carry msgids, results are plain data.

    states.py   statuses, tabs, allowed transitions and why not, errors, policy, `transition`
    data.py     what the service returns (pages, the order card, previews, tracking, snapshots)
    base.py     what every side shares (wiring, lookups through the buyer, cancelling, the carrier)
    buyer.py    the buyer's actions            shop.py     the shop's side
    sweeper.py  due transitions (the sweeper)  service.py  OrderService, made of those sides
"""

from __future__ import annotations

from bot.services.orders.base import *  # noqa: F403
from bot.services.orders.buyer import *  # noqa: F403
from bot.services.orders.data import *  # noqa: F403
from bot.services.orders.service import *  # noqa: F403
from bot.services.orders.shop import *  # noqa: F403
from bot.services.orders.states import *  # noqa: F403
from bot.services.orders.sweeper import *  # noqa: F403
