"""How the package's objects show themselves: ``repr`` and the notebook's HTML from a list of facts."""

from __future__ import annotations

import html

__all__ = ["FactsDisplay"]


class FactsDisplay:
    """Mixin: ``repr`` and the notebook's HTML of an object that lists its facts (``_facts()``: (name, text)
    pairs), under its class name; ``_html_extra()`` may add HTML below the table."""

    __slots__ = ()

    def _facts(self) -> list[tuple[str, str]]:
        raise NotImplementedError

    def _html_extra(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(\n" + "\n".join(f"  {k}: {v}" for k, v in self._facts()) + "\n)"

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:left'>"
                       f"{html.escape(v)}</td></tr>" for k, v in self._facts())
        return f"<table><caption>{type(self).__name__}</caption>{rows}</table>{self._html_extra()}"
