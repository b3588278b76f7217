"""Session schedules and reliable delivery: planning, the outbox tick, and the therapist's,
crisis and retention runs. Sends go through the channel port (core.channel) only; see
docs/architecture.md."""
