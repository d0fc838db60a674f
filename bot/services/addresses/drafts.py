"""Drafts and whole addresses: an address as entered (`AddressDraft`), one field checked in the
context of the others, a whole draft checked in the order of the form."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

from bot.services.addresses.checks import (
    check_region,
    clean_apartment,
    clean_city,
    clean_postal,
    clean_recipient,
    clean_street,
    parse_phone,
)
from bot.services.addresses.fields import COUNTRY_UNKNOWN, AddressInputError, Field, PostalAddress
from bot.services.addresses.geography import is_country, steps_for

__all__ = [
    "AddressDraft", "check_field", "is_acceptable", "validate_draft",
]


@dataclass(frozen=True, slots=True)
class AddressDraft(PostalAddress):
    """An address as entered, before or after it is checked. JSON-friendly for FSM data."""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, object] | None) -> AddressDraft:
        data = data or {}
        return cls(**{f.name: str(data.get(f.name) or "") for f in fields(cls)})

    def get(self, field: Field) -> str:
        return str(getattr(self, field.value))

    def with_value(self, field: Field, value: str) -> AddressDraft:
        return replace(self, **{field.value: value})


def check_field(field: Field, draft: AddressDraft, value: str | None = None) -> str:
    """The value of one field (the draft's own unless given), checked for the draft's country."""
    raw = draft.get(field) if value is None else value
    if field is Field.country:
        code = raw.strip().upper()
        if not is_country(code):
            raise AddressInputError(Field.country, COUNTRY_UNKNOWN)
        return code
    if not is_country(draft.country):
        raise AddressInputError(Field.country, COUNTRY_UNKNOWN)
    if field is Field.recipient:
        return clean_recipient(raw)
    if field is Field.phone:
        return parse_phone(raw, draft.country)
    if field is Field.region:
        return check_region(draft.country, raw)
    if field is Field.city:
        return clean_city(draft.country, raw)
    if field is Field.street:
        return clean_street(raw)
    if field is Field.apartment:
        return clean_apartment(raw)
    return clean_postal(draft.country, draft.region, raw)


def is_acceptable(field: Field, draft: AddressDraft) -> bool:
    """Whether the draft's value for this field is set and right for its country (so "Keep" can
    be offered)."""
    if not draft.get(field):
        return False
    try:
        check_field(field, draft)
    except AddressInputError:
        return False
    return True


def validate_draft(draft: AddressDraft) -> AddressDraft:
    """The whole address checked field by field, in the order of the form; fields the country
    does not use are emptied. Raises the first AddressInputError."""
    country = check_field(Field.country, draft)
    checked = AddressDraft(country=country)
    steps = steps_for(country)
    for field in Field:
        if field is Field.country or field not in steps:
            continue
        # later fields see earlier checked ones (the postal code sees the region)
        probe = replace(checked, **{field.value: draft.get(field)})
        checked = probe.with_value(field, check_field(field, probe))
    return checked
