"""Dashboard cards: apps contribute cards through `card_register`, each computed for the user."""

from __future__ import annotations

from collections.abc import Callable

CARDS: list[tuple[int, str | None, Callable]] = []


def card_register(*, order: int, permission: str | None, build: Callable) -> None:
    """`build(user)` returns {"label": ..., "value": ..., "url": ...} or None."""
    CARDS.append((order, permission, build))


def dashboard_cards(user) -> list[dict]:
    cards = []
    for _order, permission, build in sorted(CARDS, key=lambda c: c[0]):
        if permission and not user.has_perm(permission):
            continue
        card = build(user)
        if card:
            cards.append(card)
    return cards
