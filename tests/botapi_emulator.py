"""A small Bot API server on loopback for trying the bot from outside, over real HTTP, the way
Telegram serves it: the bot process is pointed at it with TELEGRAM_API_BASE. The test plays the
user: it queues updates and waits (on a condition, not a timer) for what the bot sends.

Once the bot calls setWebhook, updates are posted to it instead, with its secret token, at
`webhook_base` + the path of the URL it set (the test plays the TLS proxy in front of the bot:
the URL is public https, the bot listens on plain HTTP on the loopback); getUpdates then answers
409 as Telegram does."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

BOT = {"id": 777000222, "is_bot": True, "first_name": "Kabinet", "username": "kabinet_test_bot"}

# what the bot sends or changes in a chat: the methods Telegram rate-limits and that fail like sends
SENDING = frozenset({"sendmessage", "editmessagetext", "editmessagereplymarkup", "answercallbackquery",
                     "deletemessage", "sendphoto", "sendmediagroup", "copymessage"})


@dataclass
class Faults:
    """Telegram having a bad day: of the sending calls, `p429` are refused with 429 and
    `p5xx` with 502 (seeded, so a run can be replayed). `before` is called before every sending
    call is answered (the test kills the bot process from there)."""

    p429: float = 0.0
    p5xx: float = 0.0
    seed: int = 0
    retry_after: int = 1
    before: Callable[[str, dict[str, Any]], None] | None = None

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.injected = {"429": 0, "5xx": 0}


class BotApiEmulator:
    def __init__(self, token: str) -> None:
        self.token = token
        self.updates: list[dict[str, Any]] = []
        self.update_ids = itertools.count(1)
        self.message_ids: dict[int, itertools.count[int]] = defaultdict(lambda: itertools.count(1))
        self.messages: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.call_times: list[float] = []  # when each call arrived (time.monotonic()), as `calls`
        # (chat, message id) of every message the bot sent or edited successfully, in order: what a
        # person's chat shows last
        self.touched: list[tuple[int, int]] = []
        self.changed = asyncio.Condition()
        self.runner: web.AppRunner | None = None
        self.base = ""
        self.faults = Faults()
        self.webhook: dict[str, Any] | None = None  # setWebhook's parameters
        self.webhook_base: str | None = None  # where its URL's path is served (set by the test)
        self.webhook_answers: list[int] = []  # the bot's HTTP status for each update posted

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}"
        return self.base

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    # -- the user's side ----------------------------------------------------------------
    def _chat(self, user: dict[str, Any]) -> dict[str, Any]:
        return {"id": user["id"], "type": "private", "first_name": user["first_name"]}

    async def user_sends(self, user: dict[str, Any], text: str) -> None:
        message = {"message_id": next(self.message_ids[user["id"]]), "date": int(time.time()),
                   "chat": self._chat(user), "from": user, "text": text}
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        self.messages[user["id"]][message["message_id"]] = message
        await self._push({"message": message})

    async def user_presses(self, user: dict[str, Any], label: str) -> None:
        for message in reversed(list(self.messages[user["id"]].values())):
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for b in row:
                    if b["text"] == label:
                        await self._push({"callback_query": {
                            "id": str(next(self.update_ids)), "from": user, "chat_instance": "1",
                            "message": message, "data": b["callback_data"]}})
                        return
        raise AssertionError(f"no button {label!r}")

    async def _push(self, body: dict[str, Any]) -> None:
        if self.webhook is not None and self.webhook_base is not None:
            await self._post({"update_id": next(self.update_ids), **body})
            return
        async with self.changed:
            self.updates.append({"update_id": next(self.update_ids), **body})
            self.changed.notify_all()

    async def _post(self, update: dict[str, Any], secret: str | None = None) -> int:
        """Telegram calling the webhook: the update, with the secret token it was given."""
        from urllib.parse import urlsplit

        import aiohttp

        assert self.webhook is not None and self.webhook_base is not None
        token = self.webhook.get("secret_token", "") if secret is None else secret
        async with aiohttp.ClientSession() as http:
            async with http.post(self.webhook_base + urlsplit(self.webhook["url"]).path, json=update,
                                 headers={"X-Telegram-Bot-Api-Secret-Token": token}) as response:
                self.webhook_answers.append(response.status)
                return response.status

    async def wait_for(self, predicate: Any, timeout: float = 30) -> Any:
        """Wait until predicate(self) is truthy (re-checked whenever the bot calls the API)."""
        async def until() -> Any:
            async with self.changed:
                while not (result := predicate(self)):
                    await self.changed.wait()
                return result
        return await asyncio.wait_for(until(), timeout)

    async def poke(self) -> None:
        """Re-check the waiters' predicates now: something outside the API changed (the bot's
        process exited), which no call of the bot's would tell them."""
        async with self.changed:
            self.changed.notify_all()

    def bot_texts(self, chat_id: int) -> list[str]:
        return [m.get("text", "") for m in self.messages[chat_id].values() if m.get("from", {}).get("is_bot")]

    # -- the bot's side -----------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"].lower()
        form = dict(await request.post())
        params = {k: _decode(v) for k, v in form.items()}
        async with self.changed:
            self.calls.append((method, params))
            self.call_times.append(time.monotonic())
            if method in SENDING:
                if self.faults.before is not None:
                    self.faults.before(method, params)
                failure = self._fault()
                if failure is not None:
                    self.changed.notify_all()
                    return failure
            result = await self._answer(method, params)
            self.changed.notify_all()
        if isinstance(result, web.Response):
            return result
        return web.json_response({"ok": True, "result": result})

    def _fault(self) -> web.Response | None:
        roll = self.faults.rng.random()
        if roll < self.faults.p429:
            self.faults.injected["429"] += 1
            retry = self.faults.retry_after
            return web.json_response({"ok": False, "error_code": 429, "parameters": {"retry_after": retry},
                                      "description": f"Too Many Requests: retry after {retry}"}, status=429)
        if roll < self.faults.p429 + self.faults.p5xx:
            self.faults.injected["5xx"] += 1
            return web.json_response({"ok": False, "error_code": 502, "description": "Bad Gateway"}, status=502)
        return None

    async def _answer(self, method: str, p: dict[str, Any]) -> Any:
        if method == "getme":
            return BOT
        if method == "setwebhook":
            self.webhook = p
            return True
        if method == "getupdates" and self.webhook is not None:
            return web.json_response({"ok": False, "error_code": 409, "description":
                                      "Conflict: can't use getUpdates method while webhook is active"}, status=409)
        if method == "getupdates":
            offset = int(p.get("offset") or 0)
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
            if not self.updates:
                timeout = float(p.get("timeout") or 0)
                try:
                    await asyncio.wait_for(self.changed.wait(), timeout=min(timeout, 1.0))
                except TimeoutError:
                    pass
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
            return self.updates[:100]
        if method == "sendmessage":
            chat_id = int(p["chat_id"])
            message = {"message_id": next(self.message_ids[chat_id]), "date": int(time.time()),
                       "chat": {"id": chat_id, "type": "private"}, "from": BOT, "text": p["text"]}
            if isinstance(p.get("reply_markup"), dict) and "inline_keyboard" in p["reply_markup"]:
                message["reply_markup"] = p["reply_markup"]
            self.messages[chat_id][message["message_id"]] = message
            self.touched.append((chat_id, message["message_id"]))
            return message
        if method == "editmessagetext":
            chat_id, message_id = int(p["chat_id"]), int(p["message_id"])
            message = self.messages[chat_id].get(message_id)
            if message is None:
                return web.json_response({"ok": False, "error_code": 400,
                                          "description": "Bad Request: message to edit not found"}, status=400)
            if message.get("text") == p["text"] and message.get("reply_markup") == p.get("reply_markup"):
                return web.json_response({"ok": False, "error_code": 400, "description":
                                          "Bad Request: message is not modified"}, status=400)
            message = {**message, "text": p["text"], "edit_date": int(time.time())}
            if isinstance(p.get("reply_markup"), dict):
                message["reply_markup"] = p["reply_markup"]
            else:
                message.pop("reply_markup", None)
            self.messages[chat_id][message_id] = message
            self.touched.append((chat_id, message_id))
            return message
        if method == "deletemessage":
            self.messages[int(p["chat_id"])].pop(int(p["message_id"]), None)
            return True
        return True  # answerCallbackQuery, setMyCommands, deleteWebhook …


def _decode(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
