"""Returns & disputes: a buyer opens a dispute on a shipped order (or a completed one within the
dispute window); the seller answers (accept / reject / offer); the buyer accepts the answer or
escalates; the platform decides; the dispute closes refunded (in full or part) or rejected.

    open ──seller accepts──────────────────────────────→ closed (refund as asked)
    open ──seller rejects / offers──→ answered ──buyer accepts──→ closed
                                      answered ──buyer escalates──→ escalated ──platform──→ closed
    open ──seller accepts a return──→ returning ──the store has the item back──→ closed (refunded)
                                      returning ──not back as sent (the store)──→ escalated
    (the platform may decide at any point before closed)

A return (the buyer asked to send the item back): the store accepts, the buyer sends the item back
by `return_by` and types its track number, and the store confirms it came back. A store that does
not confirm within `return_receive_days` of the sending loses it: the sweeper refunds then. A buyer
who does not send it back by `return_by` loses the return: it closes without a refund. Buyers from
loyalty level 3 get their refund as soon as they send the item back (the fast-refund privilege).
A store that says the parcel did not come back as sent (nothing came by that track, or something
else did) hands the return to the platform, which decides.

The order is `in_dispute` while the dispute is open and `closed` after. The store answers by the
decision day; one that does not loses it: the sweeper decides the dispute for the buyer then
(`close_overdue`). Buyers from loyalty level 4 get priority: a shorter decision day, so a store that
ignores them has their money back to them sooner.

    rules.py    the states, the errors and the pure rules (what may be asked, typed, and when)
    data.py     what the service returns (the card, the page, what opening one needs)
    service.py  DisputeService: the buyer, the store, the platform and the sweeper
"""

from __future__ import annotations

from bot.services.disputes.data import *  # noqa: F403
from bot.services.disputes.rules import *  # noqa: F403
from bot.services.disputes.service import *  # noqa: F403
