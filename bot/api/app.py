"""The shop API's aiohttp application: `build_api(services, …)` → `web.Application`.

Middlewares, outermost first: errors (every failure becomes the JSON error body of `errors.py`),
authentication (`Authorization: Bearer <key>`, looked up by its SHA-256; the OpenAPI document needs
none), the per-key rate limit (a token bucket per shop: 429 with Retry-After). Bodies are limited
to 1 MB (`client_max_size`; 413). Routes are declared once in `routes.py`, and the OpenAPI document
is generated from that table and the pydantic models it names (`openapi.py`)."""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from pydantic import ValidationError

from bot.api import openapi
from bot.api.errors import ApiError, from_domain, from_validation
from bot.api.routes import ROUTES, Route, handler_for
from bot.db.shops import ShopRow
from bot.services.errors import DomainError
from bot.services.ratelimit import TokenBuckets

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # 1 MB
PREFIX = "/api/v1"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SERVICES = web.AppKey("services", object)
CONFIG = web.AppKey("config", object)
LIMITER = web.AppKey("limiter", TokenBuckets)
SHOP = web.RequestKey("shop", ShopRow)


@dataclass(frozen=True)
class ApiConfig:
    bot_username: str | None = None  # for the customers' deep links
    rate: float = 20.0  # requests a second per key, on average
    burst: int = 40  # requests at once per key


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as error:
        return error.response()
    except ValidationError as error:
        return from_validation(error).response()
    except DomainError as error:
        return from_domain(error).response()
    except web.HTTPRequestEntityTooLarge:
        return ApiError(413, "body_too_large", f"A request body is at most {MAX_BODY} bytes.").response()
    except web.HTTPNotFound:
        return ApiError(404, "not_found", "There is no such endpoint.").response()
    except web.HTTPMethodNotAllowed as error:
        return ApiError(405, "method_not_allowed", f"Allowed: {', '.join(sorted(error.allowed_methods))}.",
                        headers={"Allow": ",".join(sorted(error.allowed_methods))}).response()
    except web.HTTPException as error:
        return ApiError(error.status, "http_error", error.reason).response()
    except Exception:
        log.exception("shop API: %s %s failed", request.method, request.rel_url.path)
        return ApiError(500, "internal_error", "Something went wrong on our side.").response()


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.rel_url.path == openapi.PATH or not request.rel_url.path.startswith(PREFIX + "/"):
        return await handler(request)
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_BODY, actual_size=request.content_length)
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    shop = await request.app[SERVICES].shops.authenticate(key.strip()) if scheme.lower() == "bearer" else None  # type: ignore[attr-defined]
    if shop is None:
        raise ApiError(401, "unauthorized", "A valid key is needed: Authorization: Bearer <key>.",
                       headers={"WWW-Authenticate": 'Bearer realm="kabinet"'})
    request[SHOP] = shop
    limiter = request.app[LIMITER]
    now = request.app[SERVICES].clock.now()  # type: ignore[attr-defined]
    if not limiter.allow(shop.id, now):
        wait = max(1, math.ceil(limiter.retry_after(shop.id, now)))
        raise ApiError(429, "rate_limited", f"Too many requests: try again in {wait} s.",
                       headers={"Retry-After": str(wait)})
    return await handler(request)


def build_api(services: object, config: ApiConfig | None = None) -> web.Application:
    """The application over the bot's services (`bot.app.Services`)."""
    config = config or ApiConfig()
    app = web.Application(middlewares=[errors_middleware, auth_middleware], client_max_size=MAX_BODY)
    app[SERVICES] = services
    app[CONFIG] = config
    app[LIMITER] = TokenBuckets(config.rate, config.burst)
    document = openapi.document(ROUTES, PREFIX)
    app.router.add_get(openapi.PATH, openapi.handler(document))
    for route in ROUTES:
        app.router.add_route(route.method, PREFIX + route.path, handler_for(route, SERVICES, CONFIG, SHOP))
    return app


__all__ = ["CONFIG", "LIMITER", "MAX_BODY", "PREFIX", "SERVICES", "SHOP", "ApiConfig", "Route", "build_api"]
