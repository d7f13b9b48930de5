"""Local stand-ins for the Telegram Bot API and Twilio, for tests and the playground.

Plain Starlette apps speaking the wire protocols (they import neither telegram nor twilio), served
by uvicorn inside the caller's event loop:

    async with TelegramStandIn() as tg, TwilioStandIn() as tw:
        bot = telegram.Bot(tg.token, base_url=tg.base_url, base_file_url=tg.base_file_url)
"""

from bot.standins.server import Call, CallLog, StandInServer
from bot.standins.telegram_api import SEND_METHODS, TelegramCall, TelegramStandIn
from bot.standins.twilio_api import StatusPost, TwilioCall, TwilioStandIn, twilio_signature

__all__ = [
    "SEND_METHODS",
    "Call",
    "CallLog",
    "StandInServer",
    "StatusPost",
    "TelegramCall",
    "TelegramStandIn",
    "TwilioCall",
    "TwilioStandIn",
    "twilio_signature",
]
