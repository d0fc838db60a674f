"""The rules. Plain data in, plain data out; nothing here imports aiogram."""
