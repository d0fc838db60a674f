"""The OpenAPI 3.1 document, generated from the route table (`routes.ROUTES`) and the same pydantic
models that validate the requests; served at /api/v1/openapi.json without a key."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from bot.api.models import Error

if TYPE_CHECKING:
    from bot.api.routes import Route

PATH = "/api/v1/openapi.json"
REF = "#/components/schemas/{model}"

_ERRORS = {
    "401": "No key, or not a valid one",
    "404": "No such object among yours (another shop's is not found either)",
    "409": "The object's state does not allow it (code: what refused it)",
    "413": "The body is over 1 MB",
    "422": "The body (or a header) is not valid: `fields` says where and why",
    "429": "Too many requests for this key: see Retry-After",
}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def document(routes: Sequence[Route], prefix: str) -> dict[str, Any]:
    models: list[type[BaseModel]] = [Error]
    for route in routes:
        models.append(route.answer)
        if route.body is not None:
            models.append(route.body)
    seen = list(dict.fromkeys(models))
    _, schemas = models_json_schema(
        [(model, "validation" if any(model is r.body for r in routes) else "serialization") for model in seen],
        ref_template=REF)
    components = schemas.get("$defs", {})
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        params = re.findall(r"{(\w+)}", route.path)
        operation: dict[str, Any] = {
            "operationId": route.run.__name__,
            "summary": route.summary,
            "tags": [route.tag],
            "parameters": [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in params]
            + [{"name": name, "in": "query", "required": False, "schema": {"type": "string"}, "description": what}
               for name, what in route.query],
            "responses": {
                str(route.status): {"description": "Done",
                                    "content": {"application/json": {"schema": _ref(route.answer)}}},
                **{code: {"description": text, "content": {"application/json": {"schema": _ref(Error)}}}
                   for code, text in _ERRORS.items()},
            },
        }
        if route.status == 201:  # an upsert answers 200 when the object was there already
            operation["responses"]["200"] = operation["responses"]["201"] | {"description": "Already there"}
        if route.method == "POST":
            operation["parameters"].append({
                "name": "Idempotency-Key", "in": "header", "required": True, "schema": {"type": "string",
                                                                                       "maxLength": 255},
                "description": "unique per change: the same key again gets the same answer and changes nothing"})
        if route.body is not None:
            operation["requestBody"] = {"required": True,
                                        "content": {"application/json": {"schema": _ref(route.body)}}}
        paths.setdefault(prefix + route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Kabinet shop API", "version": "1.0.0",
                 "description": "Stores, products, customers, orders, disputes, reviews and coupons of a shop."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


def handler(doc: dict[str, Any]) -> Callable[[web.Request], Awaitable[web.Response]]:
    text = json.dumps(doc, ensure_ascii=False)

    async def openapi_json(request: web.Request) -> web.Response:
        return web.Response(text=text, content_type="application/json")

    return openapi_json
