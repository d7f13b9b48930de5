"""A local playground: the real desk with stand-ins for Telegram and Twilio, driven from a browser."""
