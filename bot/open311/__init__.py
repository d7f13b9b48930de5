"""Open311 GeoReport v2 (issue 16): the API under /open311/v2/ and the channel of the requests it files."""

from bot.open311.channel import CHANNEL, MESSENGER, Open311Channel

__all__ = ["CHANNEL", "MESSENGER", "Open311Channel"]
