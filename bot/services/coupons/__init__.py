"""Coupons, special coupons and gift certificates: the wallet, codes, store coupons, and the rule
that picks what applies to an order.

Kinds. A *store* (seller's) coupon works only in its store; a *platform* coupon in every store; a
*special* coupon is a platform coupon with extra conditions (a category in the order, new buyers
only, one per user — its campaign); a *gift certificate* is a balance in money that pays part of an
order. Every amount is integer minor units with its ISO 4217 currency; a coupon or certificate
applies only to orders in its own currency.

What applies (`best_plan`, `price`). At most one store coupon (of the order's store) and then one
platform coupon per order. The store coupon's minimum is checked on the order amount, the platform
coupon's on the amount left after the store coupon. A fixed amount takes off at most what is left
(never below zero); a percent rounds down in minor units and stops at its cap. Gift certificates
then pay what remains, soonest expiry first. A coupon is valid while valid_from <= now < valid_to.
A category condition means "the order contains an item of this category"; the discount applies to
the order amount.

Order coupling (called by checkout in its own unit of work, hence the `conn` argument): `use`
marks coupons used by an order (conditionally: a coupon is used once), `give_back` returns them
when an unpaid order is cancelled, `spend` / `refund` move certificate money as ledger rows.

Reminders: each coupon writes outbox rows (kind "coupon_expiry") 3 days and 1 day before it
expires; using it drops those still pending, giving it back plans them again.

    errors.py    what can go wrong (each error with its msgid); Why a coupon does not apply
    pricing.py   the pricing engine (pure): why_not, discount, best_plan, price
    terms.py     codes, amounts and terms as typed or given: read and checked
    results.py   what the service returns (wallet tabs and pages, certificate card, grants)
    base.py      the service's wiring and expiry reminders
    wallet.py    the buyer's side          checkout.py  checkout's calls (conn: its unit of work)
    issuing.py   the operator's calls      service.py   CouponService, made of those sides
"""

from __future__ import annotations

from bot.db.coupons import Certificate as Certificate
from bot.db.coupons import Coupon as Coupon
from bot.db.coupons import Scope as Scope
from bot.db.coupons import Terms as Terms
from bot.db.coupons import ValueKind as ValueKind
from bot.services.coupons.base import *  # noqa: F403
from bot.services.coupons.checkout import *  # noqa: F403
from bot.services.coupons.errors import *  # noqa: F403
from bot.services.coupons.issuing import *  # noqa: F403
from bot.services.coupons.pricing import *  # noqa: F403
from bot.services.coupons.results import *  # noqa: F403
from bot.services.coupons.service import *  # noqa: F403
from bot.services.coupons.terms import *  # noqa: F403
from bot.services.coupons.wallet import *  # noqa: F403
