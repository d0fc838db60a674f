"""The payment gateway: its Protocol and types (`gateway.py`) and the sandbox used by default
(`sandbox.py`). Import from here; a real provider's adapter would sit beside the sandbox."""

# a facade over the two modules, as asyncio's __init__ is over its own
from bot.integrations.payments import gateway, sandbox
from bot.integrations.payments.gateway import *  # noqa: F403
from bot.integrations.payments.sandbox import *  # noqa: F403

__all__ = [*gateway.__all__, *sandbox.__all__]
