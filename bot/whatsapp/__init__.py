"""WhatsApp through Twilio: citizens only (WhatsApp's business API has no groups)."""

from bot.whatsapp.channel import MESSENGER, WhatsAppChannel

__all__ = ["MESSENGER", "WhatsAppChannel"]
