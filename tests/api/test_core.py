"""The shop API's frame: the OpenAPI document, keys, errors, the body limit, the rate limit and
idempotency."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bot.api import ApiConfig, build_api
from bot.api.routes import ROUTES
from tests.api.conftest import Shop, make_shop, order_body, store
from tests.conftest import App


async def test_the_openapi_document_names_every_route_and_resolves_every_reference(client: TestClient) -> None:
    response = await client.get("/api/v1/openapi.json")  # no key needed
    assert response.status == 200
    doc = await response.json()
    assert doc["openapi"].startswith("3.1")
    schemas = doc["components"]["schemas"]
    for route in ROUTES:
        operation = doc["paths"]["/api/v1" + route.path][route.method.lower()]
        assert operation["summary"] and str(route.status) in operation["responses"]
        assert {"401", "404", "422", "429"} <= set(operation["responses"])
        assert [p["name"] for p in operation["parameters"] if p["in"] == "path"] == re.findall(r"{(\w+)}", route.path)
        if route.method == "POST":
            assert any(p["name"] == "Idempotency-Key" and p["required"] for p in operation["parameters"])
        if route.body is not None:
            ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            assert ref == f"#/components/schemas/{route.body.__name__}"
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            refs.extend(v for k, v in node.items() if k == "$ref")
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(doc)
    assert refs and all(r.removeprefix("#/components/schemas/") in schemas for r in refs)
    # the same models that validate: a status change is one of five bodies told apart by `status`
    change = schemas["StatusChange"]
    assert change["discriminator"]["propertyName"] == "status" and len(change["oneOf"]) == 5
    assert "quantity" in schemas["ItemIn"]["required"] and schemas["ItemIn"]["properties"]["quantity"]["minimum"] == 1
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


async def test_a_request_without_a_valid_key_is_401(nova: Shop) -> None:
    for key in ("", "kbs_wrong", "not-even-a-key"):
        status, data = await nova.get("/orders/1", key=key)
        assert status == 401 and data["error"]["code"] == "unauthorized"
    response = await nova.client.get("/api/v1/orders/1", headers={"Authorization": f"Basic {nova.key}"})
    assert response.status == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    status, _ = await nova.get("/orders/1")  # the key itself works: the order just isn't there
    assert status == 404


async def test_errors_are_json_with_the_field_and_the_reason(app: App, nova: Shop) -> None:
    store_id = await store(nova)
    body = order_body(store_id)
    body["items"][0]["quantity"] = 0
    body["currency"] = "dollars"
    status, data = await nova.post("/customers/c-1/orders", body)
    assert status == 422 and data["error"]["code"] == "validation_error"
    fields = {f["field"]: f["reason"] for f in data["error"]["fields"]}
    assert set(fields) == {"items.0.quantity", "currency"}
    assert "greater than or equal to 1" in fields["items.0.quantity"]
    # an unknown field is refused, not ignored; so is a body that is not JSON
    _, data = await nova.post("/stores", {"name": "X", "nmae": "typo"}, status=422)
    assert data["error"]["fields"] == [{"field": "nmae", "reason": "Extra inputs are not permitted"}]
    _, data = await nova.post("/stores", raw=b"{not json", status=422)
    assert data["error"]["fields"][0]["field"] == "body"
    # a status change names the field inside the chosen body
    _, data = await nova.post("/orders/X1/status", {"status": "shipped", "track_number": "?"}, status=422)
    assert [f["field"] for f in data["error"]["fields"]] == ["track_number"]
    _, data = await nova.post("/orders/X1/status", {"status": "lost"}, status=422)
    assert data["error"]["code"] == "validation_error"
    # unknown ids, endpoints and methods
    _, data = await nova.get("/orders/NOPE", status=404)
    assert data["error"]["code"] == "not_found"
    _, data = await nova.get("/nothing-here", status=404)
    assert data["error"]["code"] == "not_found"
    status, data = await nova.get("/stores")
    assert status == 405 and data["error"]["code"] == "method_not_allowed"
    # a domain refusal: 409 with the error's name
    _, data = await nova.post("/stores", {"name": "Nova Electronics"}, status=200)
    other = await make_shop(app, nova.client, "Second shop")
    _, data = await other.post("/stores", {"name": "Nova Electronics"}, status=409)
    assert data["error"] == {"code": "store_taken", "message": "This store belongs to another shop.", "fields": []}


async def test_a_body_over_one_megabyte_is_413(nova: Shop) -> None:
    big = b'{"name": "' + b"x" * (1024 * 1024) + b'"}'
    status, data = await nova.post("/stores", raw=big)
    assert status == 413 and data["error"]["code"] == "body_too_large"
    # without a Content-Length (chunked), the limit holds as the body is read
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(20):
            yield b"x" * 65536

    response = await nova.client.post("/api/v1/stores", data=chunks(), headers={
        "Authorization": f"Bearer {nova.key}", "Idempotency-Key": "chunked"})
    assert response.status == 413 and (await response.json())["error"]["code"] == "body_too_large"


async def test_the_rate_limit_is_per_key_and_says_when_to_come_back(app: App) -> None:
    server = TestServer(build_api(app.services, ApiConfig(rate=0.5, burst=3)))
    async with TestClient(server) as client:
        a = await make_shop(app, client, "A")
        b = await make_shop(app, client, "B")
        for _ in range(3):
            assert (await a.get("/orders/X"))[0] == 404
        response = await client.get("/api/v1/orders/X", headers={"Authorization": f"Bearer {a.key}"})
        assert response.status == 429 and response.headers["Retry-After"] == "2"
        assert (await response.json())["error"]["code"] == "rate_limited"
        assert (await b.get("/orders/X"))[0] == 404  # another key has its own bucket
        app.clock.advance(seconds=2)
        assert (await a.get("/orders/X"))[0] == 404


async def test_the_same_idempotency_key_twice_gives_the_same_answer_and_one_order(app: App, nova: Shop) -> None:
    store_id = await store(nova)
    first = await nova.client.post("/api/v1/customers/c-9/orders", json=order_body(store_id),
                                   headers={"Authorization": f"Bearer {nova.key}", "Idempotency-Key": "order-1"})
    again = await nova.client.post("/api/v1/customers/c-9/orders", json=order_body(store_id),
                                   headers={"Authorization": f"Bearer {nova.key}", "Idempotency-Key": "order-1"})
    assert first.status == again.status == 201
    assert await first.json() == await again.json() and again.headers["Idempotent-Replayed"] == "true"
    # a retry that rebuilt the body (other spacing, other key order) is the same request
    rebuilt = json.dumps(dict(reversed(list(order_body(store_id).items()))), indent=2).encode()
    _, replayed = await nova.post("/customers/c-9/orders", raw=rebuilt, idem="order-1", status=201)
    assert replayed == await first.json()
    _, listed = await nova.get("/customers/c-9/orders", status=200)
    assert len(listed["orders"]) == 1
    # the same key with another body: refused, nothing done
    _, data = await nova.post("/customers/c-9/orders", order_body(store_id, shipping_minor=0), idem="order-1",
                              status=422)
    assert data["error"]["code"] == "idempotency_key_reused"
    assert len((await nova.get("/customers/c-9/orders"))[1]["orders"]) == 1
    # another key is another order; a POST without a key is refused
    await nova.post("/customers/c-9/orders", order_body(store_id), idem="order-2", status=201)
    _, data = await nova.post("/customers/c-9/orders", order_body(store_id), idem="", status=422)
    assert data["error"]["fields"][0]["field"] == "Idempotency-Key"
    assert len((await nova.get("/customers/c-9/orders"))[1]["orders"]) == 2
    # keys are per shop: another shop's same key is its own
    other = await make_shop(app, nova.client, "Other")
    _, data = await other.post("/stores", {"name": "Other store"}, idem="order-1", status=201)
    assert data["name"] == "Other store"
    # a failed request keeps nothing under its key: fixed, the same key goes through
    await nova.post("/customers/c-9/orders", order_body(999), idem="order-3", status=404)
    await nova.post("/customers/c-9/orders", order_body(store_id), idem="order-3", status=201)
    # kept a day, then forgotten by the sweeper
    app.clock.advance(hours=25)
    assert await app.services.shops.prune_answers(app.clock.now()) == 5


async def test_a_kept_answer_is_replayed_before_the_body_is_checked_and_odd_json_is_a_422(
        app: App, nova: Shop) -> None:
    """A retry of a request the rules of its day took (an order without the address required since)
    gets its kept answer, not a 422 that would make the shop think it was never placed; a string no
    encoder takes (a lone surrogate) is the body's 422, not a 500."""
    import hashlib

    store_id = await store(nova)
    old = order_body(store_id)
    del old["address"]
    path = "/api/v1/customers/c-9/orders"
    canonical = json.dumps(old, sort_keys=True, separators=(",", ":")).encode()
    fingerprint = hashlib.sha256(b"POST %s\n%s" % (path.encode(), canonical)).hexdigest()
    async with app.services.db.write():
        await app.services.shops.keep_answer(nova.id, "order-old", fingerprint, 201, '{"number":"OLD-1"}')
    status, replayed = await nova.post("/customers/c-9/orders", old, idem="order-old")
    assert (status, replayed) == (201, {"number": "OLD-1"})
    _, data = await nova.post("/customers/c-9/orders", old, idem="order-new", status=422)  # a new one: checked
    assert [f["field"] for f in data["error"]["fields"]] == ["address"]
    _, data = await nova.post("/stores", raw=b'{"name": "\\ud800"}', status=422)
    assert data["error"]["code"] == "validation_error"
