"""A read view of one repository's index, with the caches proposal building needs."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from bowerbird.analysis.modules import ModuleMap
from bowerbird.analysis.store import IndexStore
from bowerbird.analysis.tokens import RegexTokenCounter, TokenCounter


@dataclass(frozen=True)
class Items:
    """One context type's items of one file, with each item's token count."""

    texts: list[str]
    tokens: list[int] | None  # None: count while taking (items used once, like the current file's)


class RepoView:
    """Cached reads over an `IndexStore`; call `invalidate()` after the index changes.

    Items are cached with their token counts under `counter`, so a file that serves many
    holes (a sibling, a popular import) is decoded and counted once.
    """

    def __init__(self, store: IndexStore, counter: TokenCounter | None = None, cache_size: int = 8192):
        self.store = store
        self.root: Path = store.root
        self.counter = counter or RegexTokenCounter()
        self._items: OrderedDict[tuple[str, str], Items] = OrderedDict()
        self._cache_size = cache_size
        self._modules: ModuleMap | None = None
        self._imports: dict[str, list[tuple[str, str | None]]] = {}

    def invalidate(self) -> None:
        self._items.clear()
        self._imports.clear()
        self._modules = None

    def import_targets(self, paths: list[str]) -> dict[str, list[tuple[str, str | None]]]:
        """(target module, resolved file) of each import of each of `paths` (cached)."""
        missing = [p for p in paths if p not in self._imports]
        if missing:
            self._imports.update(self.store.import_targets(missing))
        return {p: self._imports[p] for p in paths}

    def items(self, path: str, context_type: str) -> Items:
        key = (path, context_type)
        cached = self._items.get(key)
        if cached is not None:
            self._items.move_to_end(key)
            return cached
        texts = self.store.context_items(path, context_type)
        cached = Items(texts, [self.counter.count(t) for t in texts])
        self._items[key] = cached
        if len(self._items) > self._cache_size:
            self._items.popitem(last=False)
        return cached

    @property
    def modules(self) -> ModuleMap:
        if self._modules is None:
            names = self.store.module_names()
            self._modules = ModuleMap(names, self.store.files().keys())
        return self._modules
