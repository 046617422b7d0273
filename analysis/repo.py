"""A read view of one repository's index, with the caches proposal building needs."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

from bowerbird.analysis.facts import FileFacts
from bowerbird.analysis.modules import ModuleMap
from bowerbird.analysis.store import IndexStore


class RepoView:
    """Cached reads over an `IndexStore`; call `invalidate()` after the index changes."""

    def __init__(self, store: IndexStore, facts_cache_size: int = 256):
        self.store = store
        self.root: Path = store.root
        self._facts: OrderedDict[str, FileFacts | None] = OrderedDict()
        self._facts_cache_size = facts_cache_size
        self._modules: ModuleMap | None = None

    def invalidate(self) -> None:
        self._facts.clear()
        self._modules = None

    def facts(self, path: str) -> FileFacts | None:
        if path in self._facts:
            self._facts.move_to_end(path)
            return self._facts[path]
        facts = self.store.facts(path)
        self._facts[path] = facts
        if len(self._facts) > self._facts_cache_size:
            self._facts.popitem(last=False)
        return facts

    @property
    def modules(self) -> ModuleMap:
        if self._modules is None:
            names = self.store.module_names()
            self._modules = ModuleMap(names, self.store.files().keys())
        return self._modules
