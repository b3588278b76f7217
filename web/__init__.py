"""The web console: one Starlette app served by uvicorn in the bot's own event loop.

Adding a page module (e.g. web/routes_schedule.py):

- `ROUTES: list[BaseRoute]`, each endpoint wrapped by `web.auth.requires(Role...)`; an
  endpoint without it is served as a refusal (deny by default; web.app.guarded_routes).
- `NAV: list[web.nav.NavItem]` (optional): menu entries shown to the roles they name.
- append the module to `web.routes.ROUTE_MODULES`, and add a row per (method, path) to
  WEB_MATRIX in tests/test_access_matrix.py (the test fails for a route it does not know).
- render with `web.render.page(request, "x.html", **context)` (templates extend
  base.html) or `fragment(...)` for HTMX; the context has staff, csrf, lang, t(key),
  zone, local(datetime) and nav. Forms carry `<input type="hidden" name="csrf"
  value="{{ csrf }}">`; HTMX requests send the token from <body hx-headers>. A 400 or 422
  fragment is swapped in (the reason shows where the action was); other errors are not.
- words: `"web.<key>"` entries (quoted keys) in core/data/messages.toml, nl and en;
  `t("key")` and `t("web.key")` both find them.
- services: `request.app.state.services`; the rest (engine, bot username, console
  settings, PTB app): `request.app.state.web` (web.context.WebContext).
"""
