"""Navigation entries: each route module may declare `NAV: list[NavItem]`; base.html
shows the ones the signed-in staff member's roles allow, in `order`."""

from __future__ import annotations

from dataclasses import dataclass

from web.staff import Role


@dataclass(frozen=True)
class NavItem:
    path: str
    label_key: str                 # a `web.` key in core/data/messages.toml
    roles: frozenset[Role]
    order: int = 50
