"""Variable-misuse diagnostics (rule BB001): pushed with textDocument/publishDiagnostics, pulled
with textDocument/diagnostic, and fixed with a textDocument/codeAction quick fix.

Each open Python document is analysed once its edits pause (``diagnostics.debounceMs``), on a
snapshot of its text, in the checker's own thread (`server/checker.py`): the event loop never
waits for the model, completions go first, and only the functions whose text changed run
through the model again. A result whose text is no longer the document's is dropped (and an
analysis gives up between functions once its text is stale), so an old version is never
published after a newer one. One analysis per text: the push path, a pull request and a code
action share it.

Clients that pull (they announce ``textDocument.diagnostic``) are not pushed to as well, which
would show every diagnostic twice; they are asked to pull again
(``workspace/diagnostic/refresh``, when they support it) when results change without an edit:
the model loaded, the options changed.

The model (the shipped one unless ``diagnostics.model`` names another) loads in the background
after ``initialized`` (``$/progress``); without one (an install that lost the shipped folder)
the diagnostics stay off and the server says so once in a log message.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from dataclasses import dataclass, field

from lsprotocol import types
from pygls.uris import to_fs_path

from bowerbird.server import gc_policy
from bowerbird.server.app import BowerbirdServer
from bowerbird.server.checker import NoModel, Stale
from bowerbird.server.diagnostics import fix_of, lines_of, quick_fix, text_at, to_diagnostics
from bowerbird.server.options import DiagnosticsOptions
from bowerbird.server.progress import with_progress

logger = logging.getLogger(__name__)

PYTHON_SUFFIXES = (".py", ".pyi")
PULL_RETRIES = 5  # a pull request re-reads a document that changed meanwhile at most this often


@dataclass(frozen=True)
class Analysis:
    """The findings of one text of a document (all of them, whatever their probability)."""

    text: str
    version: int | None
    findings: tuple  # detect.Finding
    model: object  # the model that made them


@dataclass
class DocumentState:
    latest: Analysis | None = None  # the latest finished analysis
    running: asyncio.Future | None = None  # the analysis in the checker's thread
    running_text: str | None = None  # ... and its text
    timer: asyncio.Task | None = None  # the pending debounced refresh
    published_version: int | None = None  # the version of what was pushed last
    published: list = field(default_factory=list)  # what was pushed last


def wanted(ls: BowerbirdServer, uri: str) -> bool:
    document = ls.workspace.text_documents.get(uri)
    if document is None:
        return False
    return document.language_id == "python" or uri.lower().endswith(PYTHON_SUFFIXES)


def pulls(ls: BowerbirdServer) -> bool:
    """Whether the client pulls diagnostics (then nothing is pushed to it)."""
    text_document = ls.client_capabilities.text_document
    return bool(text_document and text_document.diagnostic is not None)


def _encoding(ls: BowerbirdServer) -> str:
    return ls.workspace.position_encoding or types.PositionEncodingKind.Utf16


# --- the model ---------------------------------------------------------------------------------


def start_loading(ls: BowerbirdServer) -> None:
    """Load the configured model in the background (after ``initialized``), unless it is loaded."""
    options = ls.options.diagnostics
    if options.enabled and ls.checker.needs_load(options):
        ls.checker.request(options)
        ls.checker_loading = ls.spawn(_load(ls, options))


async def _load(ls: BowerbirdServer, options: DiagnosticsOptions) -> None:
    error = await with_progress(ls, "Loading misuse model", lambda report: ls.checker.load(options),
                                executor=ls.checker.executor)  # fmt: skip
    for state in ls.misuse.values():
        state.latest = None  # findings of another model
    if error:
        if ls.checker.shipped:  # not the user's doing: a log line, not a pop-up
            ls.window_log_message(types.LogMessageParams(type=types.MessageType.Info, message=f"Bowerbird: {error}"))
        else:
            ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=f"Bowerbird: {error}"))
        _clear_all(ls)
        return
    gc_policy.apply("misuse model loaded")
    _refresh_all(ls)


async def _model_ready(ls: BowerbirdServer) -> bool:
    loading = ls.checker_loading
    if loading is not None and not loading.done():
        await asyncio.shield(loading)
    return ls.checker.model is not None


# --- analysing -----------------------------------------------------------------------------------


async def analyse(ls: BowerbirdServer, uri: str) -> Analysis | None:
    """The analysis of the document's text now: the latest one when the text is the same, the
    one running for it, or a new one. None when diagnostics are off, there is no model or no
    such document, or the text does not parse (the latest analysis is kept then). Raises `Stale`
    when the document changed meanwhile."""
    if not ls.options.diagnostics.enabled or not wanted(ls, uri) or not await _model_ready(ls):
        return None
    document = ls.workspace.text_documents.get(uri)
    if document is None:
        return None
    state = ls.misuse.setdefault(uri, DocumentState())
    text, version, model = document.source, document.version, ls.checker.model
    latest = state.latest
    if latest is not None and latest.text == text and latest.model is model:
        return latest
    if state.running is None or state.running_text != text:
        path = to_fs_path(uri) or uri

        def between() -> None:  # in the checker's thread, between functions
            if document.version != version and document.source != text:
                raise Stale(uri)
            if ls.completing.count:
                ls.completing.wait_idle()

        future = asyncio.wrap_future(ls.checker.executor.submit(ls.checker.analyse, text, path, between))
        state.running, state.running_text = future, text
        future.add_done_callback(lambda f, state=state: _finished(state, f))
    running = state.running
    try:
        result = await asyncio.shield(running)
    except NoModel:
        return None
    except Stale:
        raise
    except Exception as error:  # GraphError (the text does not parse, e.g. mid-edit), RecursionError
        logger.debug("%s: not analysed: %s", uri, error)
        return None
    analysis = Analysis(text, version, result.findings, model)
    if ls.checker.model is model and ls.misuse.get(uri) is state:  # analyses finish in the order they start
        state.latest = analysis
    return analysis


def _finished(state: DocumentState, future: asyncio.Future) -> None:
    if state.running is future:
        state.running = state.running_text = None
    if not future.cancelled():
        future.exception()  # retrieved here, so an unawaited failure is not logged as "never retrieved"


def diagnostics_of(ls: BowerbirdServer, analysis: Analysis) -> list[types.Diagnostic]:
    options = ls.options.diagnostics
    return to_diagnostics(analysis.findings, analysis.text, ls.checker.threshold(options), _encoding(ls))


# --- pushing -------------------------------------------------------------------------------------


def schedule(ls: BowerbirdServer, uri: str) -> None:
    """(Re)start the document's debounced refresh (open, change, save)."""
    if not ls.options.diagnostics.enabled or not wanted(ls, uri):
        return
    state = ls.misuse.setdefault(uri, DocumentState())
    if state.timer is not None and not state.timer.done():
        state.timer.cancel()  # an analysis it started keeps running for whoever shares it
    state.timer = ls.spawn(_debounced(ls, uri, ls.options.diagnostics.debounce_ms / 1000))


async def _debounced(ls: BowerbirdServer, uri: str, delay_s: float) -> None:
    if delay_s > 0:
        await asyncio.sleep(delay_s)
    await refresh(ls, uri)


async def refresh(ls: BowerbirdServer, uri: str) -> None:
    """Analyse the document's text now and push the result (to clients that do not pull)."""
    try:
        analysis = await analyse(ls, uri)
    except Stale:
        return  # a newer version has its own refresh
    if analysis is not None:
        publish(ls, uri, analysis)


def publish(ls: BowerbirdServer, uri: str, analysis: Analysis) -> None:
    """Push an analysis's diagnostics, unless the document has moved on since its text."""
    document = ls.workspace.text_documents.get(uri)
    state = ls.misuse.get(uri)
    if pulls(ls) or document is None or state is None or document.source != analysis.text:
        return
    version = document.version
    if state.published_version is not None and version is not None and version < state.published_version:
        return
    _push(ls, uri, state, diagnostics_of(ls, analysis), version)


def _push(ls: BowerbirdServer, uri: str, state: DocumentState, items: list, version: int | None) -> None:
    if items == state.published and version == state.published_version:
        return
    state.published, state.published_version = items, version
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=items, version=version))


def _clear_all(ls: BowerbirdServer) -> None:
    """Withdraw every diagnostic: pushed ones are replaced by none, pulling clients pull again."""
    for uri, state in ls.misuse.items():
        if state.timer is not None and not state.timer.done():
            state.timer.cancel()
        if state.published:
            _push(ls, uri, state, [], state.published_version)
    _ask_to_pull(ls)


def _refresh_all(ls: BowerbirdServer) -> None:
    """Analyse every open Python document again now (after a model load, an option change)."""
    for uri in list(ls.workspace.text_documents):
        if wanted(ls, uri):
            state = ls.misuse.setdefault(uri, DocumentState())
            if state.timer is not None and not state.timer.done():
                state.timer.cancel()
            state.timer = ls.spawn(_debounced(ls, uri, 0))
    _ask_to_pull(ls)


def _ask_to_pull(ls: BowerbirdServer) -> None:
    workspace = ls.client_capabilities.workspace
    if pulls(ls) and workspace and workspace.diagnostics and workspace.diagnostics.refresh_support:
        ls.spawn(_request_refresh(ls))


async def _request_refresh(ls: BowerbirdServer) -> None:
    try:
        await ls.workspace_diagnostic_refresh_async(None)
    except Exception as error:  # the client may refuse: it pulls on its next edit anyway
        logger.debug("workspace/diagnostic/refresh: %s", error)


def forget(ls: BowerbirdServer, uri: str) -> None:
    """The document closed: withdraw its diagnostics and forget it."""
    state = ls.misuse.pop(uri, None)
    if state is None:
        return
    if state.timer is not None and not state.timer.done():
        state.timer.cancel()
    if state.published:
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


def reconfigure(ls: BowerbirdServer, before: DiagnosticsOptions) -> None:
    """The options changed (``workspace/didChangeConfiguration``): follow them at once."""
    after = ls.options.diagnostics
    if not after.enabled:
        if before.enabled:
            _clear_all(ls)
        return
    if ls.checker.needs_load(after):
        start_loading(ls)  # re-analyses everything once loaded
    elif not before.enabled or before.threshold != after.threshold:
        _refresh_all(ls)


# --- handlers ------------------------------------------------------------------------------------


async def _pulled(ls: BowerbirdServer, uri: str) -> Analysis | None:
    """A pull request's analysis: the document's current text once its edits pause."""
    for _ in range(PULL_RETRIES):
        document = ls.workspace.text_documents.get(uri)
        if document is None:
            return None
        state = ls.misuse.get(uri)
        latest = state.latest if state is not None else None
        if latest is None or latest.text != document.source:
            version = document.version
            await asyncio.sleep(ls.options.diagnostics.debounce_ms / 1000)
            if document.version != version:
                continue
        try:
            analysis = await analyse(ls, uri)
        except Stale:
            continue
        if analysis is None and state is not None:
            return state.latest  # the text does not parse now: the last good result
        return analysis
    state = ls.misuse.get(uri)
    return state.latest if state is not None else None


def _result_id(items: list[types.Diagnostic]) -> str:
    from lsprotocol.converters import get_converter

    data = json.dumps(get_converter().unstructure(items), sort_keys=True, ensure_ascii=False)
    return hashlib.blake2b(data.encode("utf-8"), digest_size=12).hexdigest()


def register(server: BowerbirdServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DIAGNOSTIC,
                    types.DiagnosticOptions(identifier="bowerbird", inter_file_dependencies=False,
                                            workspace_diagnostics=False))  # fmt: skip
    async def pull(ls: BowerbirdServer, params: types.DocumentDiagnosticParams):
        analysis = await _pulled(ls, params.text_document.uri) if ls.options.diagnostics.enabled else None
        items = diagnostics_of(ls, analysis) if analysis is not None and ls.options.diagnostics.enabled else []
        result_id = _result_id(items)
        if params.previous_result_id == result_id:
            return types.RelatedUnchangedDocumentDiagnosticReport(result_id=result_id)
        return types.RelatedFullDocumentDiagnosticReport(items=items, result_id=result_id)

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))  # fmt: skip
    def code_action(ls: BowerbirdServer, params: types.CodeActionParams):
        """The quick fix of each of our diagnostics in the request's context whose name is still
        where the diagnostic says."""
        only = params.context.only
        if only and not any(types.CodeActionKind.QuickFix.value.startswith(kind) for kind in only):
            return []
        uri = params.text_document.uri
        document = ls.workspace.text_documents.get(uri)
        if document is None:
            return []
        state = ls.misuse.get(uri)
        lines, encoding = lines_of(document.source), _encoding(ls)
        edit_capabilities = ls.client_capabilities.workspace and ls.client_capabilities.workspace.workspace_edit
        document_changes = bool(edit_capabilities and edit_capabilities.document_changes)
        actions = []
        for diagnostic in params.context.diagnostics:
            if fix_of(diagnostic) is None and state is not None and state.latest is not None:
                # a client that dropped `data`: ours at the same range
                ours = diagnostics_of(ls, state.latest)
                diagnostic = next((d for d in ours if d.range == diagnostic.range and diagnostic.source == d.source
                                   and diagnostic.code == d.code), diagnostic)  # fmt: skip
            fix = fix_of(diagnostic)
            if fix is None or text_at(lines, diagnostic.range, encoding) != fix[0]:
                continue
            action = quick_fix(uri, document.version, diagnostic, document_changes)
            if action is not None:
                actions.append(action)
        return actions
