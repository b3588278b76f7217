"""The web console: one Starlette app served by uvicorn in the bot's own event loop."""
