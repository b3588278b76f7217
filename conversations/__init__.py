"""The conversations with youths: use cases (Telegram-free) and the thin PTB handlers."""
