"""Telegram: the staff's messenger (agency and humas groups) and one of the citizens'."""

from bot.telegram.channel import MESSENGER, TelegramChannel

__all__ = ["MESSENGER", "TelegramChannel"]
