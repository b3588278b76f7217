"""Session schedules and reliable delivery (see issue 3).

Until then, check-ins are started by `python -m bot send-checkin`, and the bot's
periodic job (bot.wiring) resends prompts whose send was never confirmed.
"""
