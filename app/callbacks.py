"""Callbacks of the pages and the page shell, declared where they live and registered on each app.

Pages declare callbacks at module level with ``@callback(...)`` (from here, not from ``dash``),
so each stays a plain function a test can call directly. :func:`app.main.create_app` registers
every declared callback on the app it builds through Dash's public ``app.callback``, so two
apps in one process (tests, several apps behind one server) each get their own, without
touching Dash's global callback list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from dash import Dash

F = TypeVar("F", bound=Callable[..., Any])


class CallbackRegistry:
    """Collects ``(args, kwargs, function)`` of each ``@callback`` for :meth:`register`."""

    def __init__(self) -> None:
        self._declared: dict[str, tuple[tuple[Any, ...], dict[str, Any], Callable[..., Any]]] = {}
        self._clientside: dict[str, tuple[str, tuple[Any, ...], dict[str, Any]]] = {}

    def __call__(self, *args: Any, **kwargs: Any) -> Callable[[F], F]:
        def declare(func: F) -> F:
            # Keyed by the function's qualified name: a module imported twice declares once.
            self._declared[f"{func.__module__}.{func.__qualname__}"] = (args, kwargs, func)
            return func

        return declare

    def clientside(self, name: str, script: str, *args: Any, **kwargs: Any) -> None:
        """Declare a browser-side callback (``app.clientside_callback(script, ...)``), for what
        only the browser can do, such as putting the keyboard focus back (``name``: unique)."""
        self._clientside[name] = (script, args, kwargs)

    def register(self, app: Dash) -> None:
        """Give ``app`` every declared callback (``app.callback(*args, **kwargs)(func)``)."""
        for args, kwargs, func in self._declared.values():
            app.callback(*args, **kwargs)(func)
        for script, args, kwargs in self._clientside.values():
            app.clientside_callback(script, *args, **kwargs)


callback = CallbackRegistry()
