"""The schedule settings as the core's rules: what the planner and new series use."""

from __future__ import annotations

from datetime import timedelta

from bot.config import Settings
from core.schedule import Timing
from scheduler.planner import DeliveryRules


def delivery_rules(settings: Settings) -> DeliveryRules:
    sched = settings.schedule
    return DeliveryRules(sched.timezone, sched.quiet_start, sched.quiet_end,
                         timedelta(days=sched.horizon_days))


def default_timing(settings: Settings) -> Timing:
    """Check-in timing for a new series unless the coordinator says otherwise."""
    return Timing(timedelta(minutes=settings.schedule.send_after_minutes),
                  timedelta(hours=settings.schedule.remind_after_hours),
                  timedelta(hours=settings.checkin.expiry_hours))
