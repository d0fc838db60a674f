"""Kabinet: a marketplace buyer's personal account as a Telegram bot."""
