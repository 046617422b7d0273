"""A read view of one repository's index, with the caches proposal building needs."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

from bowerbird.analysis.extract import parse_source
from bowerbird.analysis.facts import ParsedFile
from bowerbird.analysis.modules import ModuleMap
from bowerbird.analysis.proposals.contexts import JOINERS, Items
from bowerbird.analysis.store import IndexStore
from bowerbird.analysis.tokens import RegexTokenCounter, TokenCounter


class _Lru(OrderedDict):
    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def get_or_make(self, key: Hashable, make: Callable[[], Any]) -> Any:
        if key in self:
            self.move_to_end(key)
            return self[key]
        value = self[key] = make()
        if len(self) > self.size:
            self.popitem(last=False)
        return value


class RepoView:
    """Cached reads over an `IndexStore`; call `invalidate()` after the index changes.

    Items are cached with their token counts under `counter`, so a file that serves many
    holes (a sibling, a popular import) is decoded and counted once. Open documents are
    parsed once per text, as an editor's buffer is between edits.
    """

    def __init__(self, store: IndexStore, counter: TokenCounter | None = None, cache_size: int = 8192):
        self.store = store
        self.root: Path = store.root
        self.counter = counter or RegexTokenCounter()
        self._items = _Lru(cache_size)
        self._documents: _Lru = _Lru(16)  # path -> (text, ParsedFile)
        self._rankings = _Lru(256)  # (source, key) -> ranked paths
        self._imports: dict[str, list[tuple[str, str | None]]] = {}
        self._modules: ModuleMap | None = None

    def invalidate(self) -> None:
        """Forget what came from the index (documents stay: they come from their text)."""
        self._items.clear()
        self._rankings.clear()
        self._imports.clear()
        self._modules = None

    def items(self, path: str, context_type: str) -> Items:
        return self._items.get_or_make(
            (path, context_type),
            lambda: Items.counted(self.store.context_items(path, context_type), self.counter, JOINERS[context_type]),
        )

    def parse_document(self, path: str, language: str, text: str) -> ParsedFile:
        """The parse of a document's text, reused while the text is unchanged."""
        cached = self._documents.get(path)
        if cached is not None and cached[0] == text:
            self._documents.move_to_end(path)
            return cached[1]
        parsed = parse_source(language, text.encode("utf-8", "replace"))
        self._documents.get_or_make(path, lambda: None)
        self._documents[path] = (text, parsed)
        return parsed

    def forget_document(self, path: str) -> None:
        """Drop a document's cached parse (the editor closed it)."""
        self._documents.pop(path, None)

    def ranking(self, key: Hashable, make: Callable[[], list[str]]) -> list[str]:
        """A file ranking that depends only on the index and on `key` (cached)."""
        return self._rankings.get_or_make(key, make)

    def import_targets(self, paths: list[str]) -> dict[str, list[tuple[str, str | None]]]:
        """(target module, resolved file) of each import of each of `paths` (cached)."""
        missing = [p for p in paths if p not in self._imports]
        if missing:
            self._imports.update(self.store.import_targets(missing))
        return {p: self._imports[p] for p in paths}

    @property
    def modules(self) -> ModuleMap:
        if self._modules is None:
            names = self.store.module_names()
            self._modules = ModuleMap(names, self.store.files().keys())
        return self._modules
