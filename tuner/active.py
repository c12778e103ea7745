"""What a ``with`` block makes the active one of its kind, for the evaluator to find.

A checkpoint (`tuner.checkpoint`) and a cluster (`tuner.cluster`) are entered around a search
and looked up where candidates are evaluated, without being passed down every call. Each kind
has its own context variable; leaving the block restores the previous one and closes it.
"""

from __future__ import annotations

import contextvars
from typing import Any, ClassVar, Self

__all__ = ["Active"]


class Active:
    """Base of a resource that ``with`` makes current (`current`) and closes on leaving."""

    _current: ClassVar[contextvars.ContextVar[Any]]
    _token: contextvars.Token | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._current = contextvars.ContextVar(f"aptune_{cls.__name__.lower()}", default=None)

    @classmethod
    def current(cls) -> Self | None:
        """The one entered with ``with``, None outside one."""
        return cls._current.get()

    def close(self) -> None:
        """Release what the resource holds (subclasses)."""

    def __enter__(self) -> Self:
        self._token = self._current.set(self)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            self._current.reset(self._token)
            self._token = None
        self.close()
