"""`python main.py review …`: the seller's side of reviews, for operators (later the seller relay)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.cli.common import ServiceCommand, command_group

if TYPE_CHECKING:
    from bot.app import Services


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    cmds = command_group(sub, "review", "operator commands on reviews: the seller's reply")
    reply = cmds.add_parser("reply", help="the seller answers a review (the buyer gets a push)")
    reply.add_argument("review_id", type=int, metavar="REVIEW_ID")
    reply.add_argument("text", help="the reply, up to 2000 characters")
    reply.set_defaults(func=ServiceCommand(reply_to_review))


async def reply_to_review(args: argparse.Namespace, services: Services) -> str:
    review = await services.reviews.seller_reply(args.review_id, args.text)
    return f"review {review.id} ({review.title}, order {review.number}): replied"
