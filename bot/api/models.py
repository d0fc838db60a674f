"""The API's request and response bodies: pydantic models that validate what comes in and describe
what goes out; the OpenAPI document (`openapi.py`) is generated from these same classes.

Money is integer minor units with an ISO 4217 code (cents for USD, kopecks for RUB), as everywhere
in Kabinet; times are ISO 8601 with a zone."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, RootModel, StringConstraints

from bot.integrations.carrier import CARRIERS, EVENT_CODES

Currency = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{3}$", to_upper=True)]
Minor = Annotated[int, Field(ge=0, le=10**15, description="an amount in minor units (cents, kopecks)")]
Positive = Annotated[int, Field(gt=0, le=10**15, description="an amount in minor units, more than zero")]
OrderNumber = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{1,24}$", to_upper=True)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=255)]
# a moment the shop gives: with its time zone (2026-11-25T10:00:00+03:00), never a bare local time
Moment = Annotated[AwareDatetime, Field(examples=["2026-11-25T10:00:00+00:00"])]
Carrier = Literal[tuple(CARRIERS)]  # type: ignore[valid-type]


class Body(BaseModel):
    """A request body: unknown fields are refused (a typo must not be ignored silently)."""

    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    pass


# -- errors -------------------------------------------------------------------------------------------
class FieldError(Out):
    field: str = Field(description="where: a dotted path into the body (items.0.quantity), or a header")
    reason: str


class ErrorDetail(Out):
    code: str = Field(description="unauthorized, not_found, validation_error, conflict, "
                                  "idempotency_key_reused, body_too_large, rate_limited, …")
    message: str
    fields: list[FieldError] = Field(default_factory=list)


class Error(Out):
    error: ErrorDetail


# -- stores and products ------------------------------------------------------------------------------
class StoreIn(Body):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]


class StoreOut(Out):
    id: int
    name: str
    created: bool = Field(description="true when this call made the store")


class ProductIn(Body):
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)] = Field(
        description="the product's key within the store: the same title updates it")
    price_minor: Positive
    currency: Currency
    title_ru: Text = ""
    category: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] = ""
    options: dict[Annotated[str, StringConstraints(min_length=1, max_length=32)],
                  list[Annotated[str, StringConstraints(min_length=1, max_length=64)]]] = Field(
        default_factory=dict, max_length=5, description='e.g. {"colour": ["black", "white"]}')
    active: bool = True


class ProductOut(Out):
    id: int
    store_id: int
    title: str
    price_minor: int
    currency: str


# -- customers ----------------------------------------------------------------------------------------
class LinkOut(Out):
    customer: str
    url: str | None = Field(description="https://t.me/<bot>?start=l_<token>: hand it to the customer "
                                        "(null when the bot's username is not known)")
    start_parameter: str
    expires_at: datetime


Needed = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]


class AddressIn(Body):
    """Where the parcel goes: the recipient, street, city and country at least (the store ships to it)."""

    recipient: Needed
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] = ""
    street: Needed
    apartment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] = ""
    city: Needed
    region: Text = ""
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=16)] = ""
    country: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$", to_upper=True)] = Field(
        description="ISO 3166-1 alpha-2, e.g. US")


class ItemIn(Body):
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
    quantity: Annotated[int, Field(ge=1, le=10_000)]
    unit_price_minor: Minor
    product_id: Annotated[int, Field(ge=1, le=2**53)] | None = Field(
        default=None, description="the catalog's product (one of the order's store), when it is one")
    options: dict[Annotated[str, StringConstraints(min_length=1, max_length=32)],
                  Annotated[str, StringConstraints(min_length=1, max_length=64)]] = Field(
        default_factory=dict, max_length=5, description='the chosen options, e.g. {"Colour": "black"}')


class OrderIn(Body):
    store_id: int
    currency: Currency
    items: list[ItemIn] = Field(min_length=1, max_length=100)
    shipping_minor: Minor = 0
    usd_rate: Decimal | None = Field(default=None, gt=0, description="USD per one unit of the currency, at "
                                                                        "most 10 (1 for USD; when left out: 1 "
                                                                        "for USD, else the bot's USD_RATES; "
                                                                        "none: no points)")
    number: OrderNumber | None = Field(default=None, description="the order number the buyer sees "
                                                                 "(default: made up)")
    address: AddressIn


class ItemOut(Out):
    position: int
    title: str
    quantity: int
    unit_price_minor: int
    product_id: int | None
    options: dict[str, str]


class RefundOut(Out):
    id: int
    amount_minor: int
    currency: str
    reason: str = Field(description="cancel, dispute, seller (yours, outside a dispute)")
    pay_out: Literal["shop", "gateway", "certificates"] = Field(
        description="shop: the order was paid outside the payment gateway — you pay it back and confirm with "
                    "POST /refunds/{id}/done; gateway: the gateway pays it back to the card; certificates: back "
                    "to the buyer's gift certificates, at once")
    state: str = Field(description="pending, completed")
    created_at: datetime
    completed_at: datetime | None = None


class OrderOut(Out):
    number: str
    store_id: int
    customer: str | None = Field(description="your id for the customer (null: placed in the bot)")
    status: str = Field(description="waiting_for_customer, awaiting_payment, awaiting_shipment, shipped, "
                                    "completed, in_dispute, closed, cancelled")
    currency: str
    items_minor: int
    shipping_minor: int
    discount_minor: int
    total_minor: int
    certificate_minor: int = Field(default=0, description="what the customer's gift certificates paid of the "
                                                          "total; a card paid the rest")
    track_number: str | None = None
    carrier: str | None = None
    created_at: datetime
    paid_at: datetime | None = None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None
    paid_on_link: bool = Field(default=False, description="waiting for the customer and marked paid: "
                                                          "it is placed paid when they open their link")
    items: list[ItemOut]
    refunded_minor: int = Field(default=0, description="refunded of the order so far, paid out or not")
    refunds: list[RefundOut] = Field(default_factory=list)


class OrderList(Out):
    orders: list[OrderOut]
    next_before: str | None = Field(default=None, description="more orders are older than these: pass this "
                                                              "as ?before= for the next page")


# -- status changes (one body per status: `status` tells which) ----------------------------------------
class CardIn(Body):
    brand: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=24)] = "Visa"
    last4: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")]
    exp_month: Annotated[int, Field(ge=1, le=12)] | None = None
    exp_year: Annotated[int, Field(ge=2000, le=2100)] | None = None


class Paid(Body):
    status: Literal["paid"]
    card: CardIn


class Shipped(Body):
    status: Literal["shipped"]
    track_number: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9-]{5,40}$")]
    carrier: Carrier = "cainiao"


class Delivered(Body):
    status: Literal["delivered"]
    location: Text = ""


class Cancelled(Body):
    status: Literal["cancelled"]
    reason: Literal["out_of_stock", "seller_asked", "wrong_details", "other"] = "out_of_stock"


class Refunded(Body):
    status: Literal["refunded"]
    amount_minor: Positive | None = Field(default=None, description="default: all that is left to refund")


StatusIn = Annotated[Paid | Shipped | Delivered | Cancelled | Refunded, Field(discriminator="status")]


class StatusChange(RootModel[StatusIn]):
    """The new status and what it needs: a track number to ship, a card to be paid, …"""


class TrackingIn(Body):
    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)] = Field(
        description=", ".join(EVENT_CODES) + " (the buyer reads them in their language), or the carrier's own "
                    "(the buyer reads its description)")
    at: Moment | None = Field(default=None, description="with a zone; default: now")
    location: Text = ""
    description: Text = ""


class TrackingOut(Out):
    number: str
    added: bool = Field(description="false when this event was already known")


# -- disputes and reviews -----------------------------------------------------------------------------
class DisputeAnswerIn(Body):
    answer: Literal["accept", "reject", "offer"]
    offer_minor: Positive | None = Field(default=None, description="with offer: the partial refund")
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] = ""


class ProblemIn(Body):
    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=1000)] = Field(
        description="what came back, or did not (the buyer reads it too)")


class DisputeOut(Out):
    id: int
    number: str
    state: str = Field(description="open, answered, escalated, returning (a return on its way back), closed")
    resolution: str | None
    amount_minor: int = Field(description="what the buyer asked for")
    return_by: datetime | None = Field(default=None, description="a return: the buyer sends the item back by")
    return_track: str | None = Field(default=None, description="a return sent back: the parcel's track number")
    returned_at: datetime | None = Field(default=None, description="a return: when the buyer sent it back")
    reason: str = Field(default="", description="not_received, not_as_described, damaged, wrong_item, other")
    outcome: str = Field(default="", description="what the buyer asks for: full_refund, partial_refund, "
                                                 "return_refund")
    description: str = Field(default="", description="the buyer's words")
    photos: int = Field(default=0, description="how many photos the buyer sent as evidence (in the bot)")
    seller_answer: str | None = Field(default=None, description="accept, reject or offer")
    offer_minor: int | None = None
    seller_note: str | None = Field(default=None, description="the reason given for a rejection, or a return's "
                                                              "address")
    refund_minor: int | None = Field(default=None, description="closed: what the dispute refunded")
    opened_at: datetime | None = None
    decide_by: datetime | None = Field(default=None, description="the store answers by then, or the platform "
                                                                 "decides for the buyer")


class ReplyIn(Body):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class ReviewOut(Out):
    id: int
    number: str
    rating: int = Field(description="the stars now (an additional review may have changed them)")
    reply: str | None
    title: str = Field(default="", description="the order item reviewed")
    text: str = ""
    photos: int = 0
    created_at: datetime | None = None
    first_rating: int | None = Field(default=None, description="the stars of the first review, when an "
                                                               "additional one changed them")
    additional_text: str | None = Field(default=None, description="the additional review (within 150 days)")
    additional_at: datetime | None = None
    reply_at: datetime | None = None


# -- coupons and certificates -------------------------------------------------------------------------
class CouponIn(Body):
    store_id: int = Field(description="a store coupon: only in this store (one of yours)")
    currency: Currency
    amount_minor: Positive | None = Field(default=None, description="a fixed amount off (or percent)")
    percent: Annotated[int, Field(ge=1, le=100)] | None = None
    cap_minor: Positive | None = Field(default=None, description="the most a percent coupon takes off")
    min_order_minor: Minor = 0
    valid_from: Moment | None = Field(default=None, description="with a zone; default: now")
    valid_to: Moment = Field(description="with a zone; exclusive")
    title: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = None


class CouponOut(Out):
    id: int
    customer: str


class CertificateIn(Body):
    amount_minor: Positive
    currency: Currency
    valid_to: Moment = Field(description="with a zone")
    title: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = None


class CertificateOut(Out):
    id: int
    customer: str
    amount_minor: int
    currency: str
