"""/ops: the operators' screen, for the Telegram ids in ADMIN_IDS only. For anyone else the
command and its buttons do not exist: they fall through to the fallback like any unknown input."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.types import User as TgUser

from bot.handlers.answers import refusals
from bot.handlers.common import reply, show
from bot.handlers.routing import Handlers
from bot.keyboards.ops import OpsAction, OpsCb
from bot.services.errors import DomainError
from bot.services.ops import OpsService
from bot.views import ops as views
from bot.views.common import Fmt

router = Handlers("ops")


def is_operator(event: TelegramObject, event_from_user: TgUser | None = None,
                admin_ids: frozenset[int] = frozenset()) -> bool:
    return event_from_user is not None and event_from_user.id in admin_ids


router.message.filter(is_operator)
router.callback_query.filter(is_operator)


async def ops_refused(query: CallbackQuery, error: DomainError, ops: OpsService, f: Fmt) -> None:
    """Refused (a refund completed meanwhile, or sent again by another operator): the screen as it
    is now, with why."""
    await show(query, views.ops_screen(await ops.summary(), f, note=f.error(error)))


refusals(router.callback_query, ops_refused)


@router.message(Command("ops"))
async def cmd_ops(message: Message, ops: OpsService, f: Fmt) -> None:
    await reply(message, views.ops_screen(await ops.summary(), f))


@router.callback_query(OpsCb.filter(F.action == OpsAction.refresh))
async def refresh(query: CallbackQuery, ops: OpsService, f: Fmt) -> None:
    await show(query, views.ops_screen(await ops.summary(), f))


@router.callback_query(OpsCb.filter(F.action == OpsAction.refund))
async def refund_again(query: CallbackQuery, callback_data: OpsCb, ops: OpsService, f: Fmt) -> None:
    await ops.retry_refund(callback_data.id)
    await show(query, views.ops_screen(await ops.summary(), f, note=views.refund_sent_again(callback_data.id, f)))


@router.callback_query(OpsCb.filter(F.action == OpsAction.pushes))
async def pushes_again(query: CallbackQuery, ops: OpsService, f: Fmt) -> None:
    count = await ops.retry_failed_pushes()
    await show(query, views.ops_screen(await ops.summary(), f, note=views.pushes_sent_again(count, f)))


@router.callback_query(OpsCb.filter(F.action == OpsAction.webhooks))
async def webhooks_again(query: CallbackQuery, ops: OpsService, f: Fmt) -> None:
    count = await ops.retry_failed_webhooks()
    await show(query, views.ops_screen(await ops.summary(), f, note=views.webhooks_sent_again(count, f)))
