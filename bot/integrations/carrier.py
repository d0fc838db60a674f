"""Parcel tracking. `Carrier` is what the orders service needs from a carrier's tracking API; the
demo carrier produces a realistic, deterministic journey without any network.

Event codes are ours (the view translates them); `description` keeps the carrier's own words for
codes we do not know.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

# The codes a carrier event is mapped to, in the order a parcel usually meets them.
EVENT_CODES: tuple[str, ...] = (
    "accepted",
    "left_origin_facility",
    "export_customs",
    "departed_origin_country",
    "in_transit",
    "arrived_destination_country",
    "import_customs",
    "sorting_center",
    "out_for_delivery",
    "delivered",
)
DELIVERED = "delivered"


@dataclass(frozen=True, slots=True)
class Shipment:
    track_number: str
    carrier: str
    shipped_at: datetime
    destination_city: str = ""
    destination_country: str = ""


@dataclass(frozen=True, slots=True)
class CarrierEvent:
    at: datetime
    code: str
    location: str = ""
    description: str = ""


class Carrier(Protocol):
    async def events(self, shipment: Shipment, now: datetime) -> list[CarrierEvent]:
        """Every event the carrier knows for this parcel up to `now`, oldest first."""
        ...


# (code, hours after shipment, where) — "{city}" is the destination city
_JOURNEY: tuple[tuple[str, int, str], ...] = (
    ("accepted", 0, "Shenzhen, CN"),
    ("left_origin_facility", 14, "Shenzhen sorting center, CN"),
    ("export_customs", 40, "Shenzhen, CN"),
    ("departed_origin_country", 62, "Guangzhou airport, CN"),
    ("arrived_destination_country", 130, "{hub}"),
    ("import_customs", 160, "{hub}"),
    ("sorting_center", 215, "{city}"),
    ("out_for_delivery", 262, "{city}"),
    ("delivered", 280, "{city}"),
)
_HUBS = {"RU": "Moscow, RU", "US": "New York, US", "GB": "London, GB", "DE": "Leipzig, DE"}

CARRIERS = {"cainiao": "Cainiao", "ems": "EMS", "russian_post": "Russian Post", "dhl": "DHL"}


class DemoCarrier:
    """A parcel's journey from Shenzhen, spread over about 12 days with a jitter that depends only
    on the track number, so the same parcel always tells the same story."""

    async def events(self, shipment: Shipment, now: datetime) -> list[CarrierEvent]:
        digest = hashlib.sha256(shipment.track_number.encode()).digest()
        country = (shipment.destination_country or "").upper()
        hub = _HUBS.get(country, f"International hub, {country}" if country else "International hub")
        city = shipment.destination_city or hub
        events = []
        jitter = 0
        for i, (code, hours, where) in enumerate(_JOURNEY):
            if hours:
                jitter += digest[i] % 7  # 0…6 more hours at each step: the order never changes
            at = shipment.shipped_at + timedelta(hours=hours + jitter)
            if at > now:
                break
            location = where.format(city=city, hub=hub)
            events.append(CarrierEvent(at=at.replace(microsecond=0), code=code, location=location))
        return events


def carrier_name(code: str | None) -> str:
    if not code:
        return ""
    return CARRIERS.get(code, code)
