"""The HTTP API for shops (`/api/v1`): started with the bot when API_LISTEN is set and a shop has a
key (bot/runner.py). `app.py` builds the aiohttp application, `routes.py` declares the endpoints
(thin calls into the services), `models.py` the bodies, `openapi.py` the document made from them,
`errors.py` the error shape."""

from bot.api.app import ApiConfig, build_api

__all__ = ["ApiConfig", "build_api"]
