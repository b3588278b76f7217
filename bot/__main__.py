import sys

from bot.logsafe import guard_process

guard_process()

from bot.cli import main  # noqa: E402 - after the guard, so nothing printed escapes it

sys.exit(main())
