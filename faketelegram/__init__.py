"""A fake Telegram Bot API on loopback, for tests and the offline demo.

`FakeTelegram` serves the Bot API methods the bot uses over real HTTP, records what the
bot sent, and lets code act as users (`FakeTelegram.user(...)`): send text, commands,
stickers, photos and voice, and tap inline buttons. Faults can be injected per method.
"""

from faketelegram.server import FakeTelegram, FakeUser, Fault, SentMessage

__all__ = ["FakeTelegram", "FakeUser", "Fault", "SentMessage"]
