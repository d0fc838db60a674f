"""How failures look to a shop: one JSON shape, `{"error": {"code", "message", "fields"}}`.

- a body that does not validate → 422 `validation_error`, a field per problem (dotted path + reason);
- a domain error from the services: not found → 404, bad input → 422, any other refusal (a status
  change the order's state does not allow, a name taken) → 409; the code is the error's class name
  in snake case (`forbidden_transition`, `not_linked`), the message its English text;
- no or a wrong key → 401, too many requests → 429 with Retry-After, a body over 1 MB → 413."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from bot.api.models import Error, ErrorDetail, FieldError
from bot.services.errors import DomainError, InvalidInput, NotFound


class ApiError(Exception):
    """An answer other than success, raised anywhere in a request."""

    def __init__(self, status: int, code: str, message: str, fields: list[FieldError] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or []
        self.headers = headers or {}

    def response(self) -> web.Response:
        body = Error(error=ErrorDetail(code=self.code, message=self.message, fields=self.fields))
        return web.json_response(text=body.model_dump_json(), status=self.status, headers=self.headers)


def not_found(what: str = "Not found.") -> ApiError:
    return ApiError(404, "not_found", what)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def from_domain(error: DomainError) -> ApiError:
    code = _snake(type(error).__name__)
    if isinstance(error, NotFound):
        return ApiError(404, "not_found", error.english)
    if isinstance(error, InvalidInput):
        return ApiError(422, code if code != "invalid_input" else "invalid_input", error.english)
    return ApiError(409, code if code != "domain_error" else "conflict", error.english)


_TAGS = frozenset({"paid", "shipped", "delivered", "cancelled", "refunded"})  # models.StatusIn's bodies


def _loc(loc: tuple[Any, ...]) -> str:
    # a status change's errors start with the chosen body's tag (`shipped`): not a part of the body's path
    parts = loc[1:] if loc and loc[0] in _TAGS else loc
    return ".".join(str(p) for p in parts) or "body"


def from_validation(error: ValidationError, where: str = "") -> ApiError:
    fields = [FieldError(field=(where + "." if where else "") + _loc(e["loc"]), reason=e["msg"])
              for e in error.errors(include_url=False)]
    return ApiError(422, "validation_error", "The request is not valid.", fields)
