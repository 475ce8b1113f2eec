"""etcd's simple tokens: 16 random letters, ``.``, and the index of the
authentication; valid for ``ttl`` seconds after their last use."""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["SimpleTokens"]

_LETTERS = string.ascii_letters


@dataclass
class _Entry:
    user: str
    deadline: float


class SimpleTokens:
    """Token -> user, with expiry on the injected clock."""

    def __init__(self, clock: Callable[[], float], ttl: float = 300.0) -> None:
        self._clock = clock
        self.ttl = ttl
        self._tokens: dict[str, _Entry] = {}

    def assign(self, user: str, index: int) -> str:
        token = "".join(secrets.choice(_LETTERS) for _ in range(16)) + f".{index}"
        self._tokens[token] = _Entry(user, self._clock() + self.ttl)
        return token

    def user_of(self, token: str) -> str | None:
        """The token's user, refreshing its TTL; None if unknown or expired."""
        entry = self._tokens.get(token)
        now = self._clock()
        if entry is None:
            return None
        if entry.deadline < now:
            del self._tokens[token]
            return None
        entry.deadline = now + self.ttl
        return entry.user

    def invalidate_user(self, user: str) -> None:
        for token in [t for t, e in self._tokens.items() if e.user == user]:
            del self._tokens[token]

    def clear(self) -> None:
        self._tokens.clear()
