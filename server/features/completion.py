"""textDocument/inlineCompletion (LSP 3.18) and textDocument/completion: thin handlers over
`server.pipeline`, with debounce, cancellation and stale-version drops."""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types
from pygls.uris import to_fs_path

from bowerbird.server import gc_policy
from bowerbird.server.app import BowerbirdServer
from bowerbird.server.progress import with_progress

logger = logging.getLogger(__name__)

RECENT_SHOWN = 256  # completions whose accept or dismissal can still adapt the ranking


@dataclass(frozen=True)
class Shown:
    completion_id: str
    texts: list[str]
    line: int  # in code points
    col: int
    line_prefix: str


async def load_model(ls: BowerbirdServer) -> None:
    """Load the configured model in the background; say once why there is none."""
    options = ls.options.completion
    if not options.enabled or not ls.models.needs_load(options):
        return
    error = await with_progress(ls, "Loading model", lambda report: ls.models.load(options))
    gc_policy.apply("model loaded")  # freeze the model and tokenizer (and reclaim a replaced one)
    if error:
        ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=f"Bowerbird: {error}"))


async def complete(ls: BowerbirdServer, uri: str, position: types.Position) -> Shown | None:
    """Run the pipeline for a cursor; None when there is nothing to show (disabled, no model,
    unknown document, position outside it, superseded by an edit, cancelled)."""
    from bowerbird.analysis.holes import HoleError
    from bowerbird.analysis.languages import language_for_path
    from bowerbird.server.feedback import Shown as ShownEvent

    options = ls.options.completion
    document = ls.workspace.text_documents.get(uri)
    if not options.enabled or document is None or ls.workspaces is None:
        return None
    version = document.version
    await asyncio.sleep(options.debounce_ms / 1000)
    if document.version != version or ls.models.backend is None:
        return None
    path = to_fs_path(uri)
    root = ls.workspaces.root_of(Path(path)) if path else None
    if root is None or language_for_path(path) is None:
        return None
    lines = document.lines
    if position.line >= len(lines):
        return None
    server_position = document.position_from_client_units(position)
    line, col = server_position.line, server_position.character
    text = document.source
    relative = Path(path).resolve().relative_to(root.path).as_posix()
    pipeline = ls.pipeline_for(root)
    cancel = threading.Event()

    def run():
        with root.lock:
            return pipeline.complete(relative, text, line, col, cancel, index_ready=root.last_report is not None)

    try:
        with ls.completing:  # diagnostics yield the CPU meanwhile
            completion = await asyncio.get_running_loop().run_in_executor(None, run)
    except asyncio.CancelledError:
        cancel.set()
        raise
    except HoleError:
        return None
    except Exception as error:  # the backend is down, slow or broken: answer empty, say so once
        if not ls.backend_failing:
            ls.backend_failing = True
            logger.warning("completion failed: %s", error)
            ls.window_log_message(types.LogMessageParams(
                type=types.MessageType.Warning, message=f"Bowerbird: completion failed ({error}); retrying on the next request"))
        return None
    if ls.backend_failing:
        ls.backend_failing = False
        ls.window_log_message(types.LogMessageParams(type=types.MessageType.Info, message="Bowerbird: completions work again"))
    if not completion.cached:
        ls.timings.append(completion.timings_ms)
    if document.version != version or not completion.candidates:
        return None
    line_text = text.split("\n")[line]
    event = ShownEvent(
        developer=ls.developer(), root=str(root.path), path=relative, line=line,
        col=col, prefix=text[: max(0, _offset(text, line, col))], suffix=line_text[col:], proposal=completion.proposal["id"],
        model=ls.models.backend.model, candidates=[{"text": c.text, "score": c.score} for c in completion.candidates],
    )
    completion_id = ls.feedback_store().record_shown(event)
    texts = [c.text for c in completion.candidates]
    ls.recent_shown[completion_id] = (line_text[:col], texts, pipeline.ranker)
    while len(ls.recent_shown) > RECENT_SHOWN:
        ls.recent_shown.popitem(last=False)
    return Shown(completion_id, texts, line, col, line_text[:col])


def learn_choice(ls: BowerbirdServer, completion_id: str, candidate: int | None) -> None:
    """Adapt the ranking to an accept (``candidate``) or a dismissal (None) of a recent completion."""
    shown = ls.recent_shown.pop(completion_id, None)
    learn = getattr(shown[2], "learn", None) if shown is not None else None
    if learn is None:
        return
    try:
        learn(shown[0], shown[1], candidate)
    except Exception as error:  # the choice is recorded; a failed update only costs the adaptation
        logger.warning("could not adapt the ranking: %s", error)


def _offset(text: str, line: int, col: int) -> int:
    lines = text.split("\n")
    return sum(len(l) + 1 for l in lines[:line]) + col


def register(server: BowerbirdServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(ls: BowerbirdServer, params: types.InlineCompletionParams):
        shown = await complete(ls, params.text_document.uri, params.position)
        if shown is None:
            return None
        cursor = types.Range(start=params.position, end=params.position)
        return types.InlineCompletionList(items=[
            types.InlineCompletionItem(
                insert_text=text, range=cursor,
                command=types.Command(title="Accept", command="bowerbird.acceptCompletion", arguments=[shown.completion_id, index]),
            )
            for index, text in enumerate(shown.texts)
        ])

    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[".", "(", " "]))
    async def completion(ls: BowerbirdServer, params: types.CompletionParams):
        """For clients without inline completion: items whose edit completes the line from the
        start of the word being typed (so the client's filtering keeps them)."""
        shown = await complete(ls, params.text_document.uri, params.position)
        if shown is None:
            return types.CompletionList(is_incomplete=True, items=[])
        word = len(shown.line_prefix) - len(shown.line_prefix.rstrip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"))
        typed = shown.line_prefix[len(shown.line_prefix) - word :] if word else ""
        start = types.Position(line=params.position.line, character=params.position.character - len(typed.encode("utf-16-le")) // 2)
        items = []
        for index, text in enumerate(shown.texts):
            first = text.split("\n", 1)[0]
            items.append(types.CompletionItem(
                label=(typed + first).strip() or text.strip(),
                kind=types.CompletionItemKind.Text,
                detail="Bowerbird",
                sort_text=f"{index:04d}",
                filter_text=typed + first,
                text_edit=types.TextEdit(range=types.Range(start=start, end=params.position), new_text=typed + text),
                command=types.Command(title="Accept", command="bowerbird.acceptCompletion", arguments=[shown.completion_id, index]),
            ))
        return types.CompletionList(is_incomplete=True, items=items)

    @server.command("bowerbird.acceptCompletion")
    def accept(ls: BowerbirdServer, completion_id: str, candidate: int = 0, *rest) -> bool:
        """The client inserted candidate `candidate` of completion `completion_id`."""
        recorded = ls.feedback_store().record_choice(str(completion_id), int(candidate), "accepted")
        if recorded:
            learn_choice(ls, str(completion_id), int(candidate))
        return recorded

    @server.command("bowerbird.rejectCompletion")
    def reject(ls: BowerbirdServer, completion_id: str, *rest) -> bool:
        """The client dismissed completion `completion_id` (all its candidates)."""
        recorded = ls.feedback_store().record_choice(str(completion_id), None, "rejected")
        if recorded:
            learn_choice(ls, str(completion_id), None)
        return recorded

    @server.command("bowerbird.forget")
    def forget(ls: BowerbirdServer, *rest) -> dict:
        """Delete everything recorded about this developer (`developerId`, else the OS user):
        their shown completions, accepts and rejects, and ranking weights. Answers
        ``{"developer", "removed"}`` (the shown completions removed)."""
        developer = ls.developer()
        removed = ls.feedback_store().forget(developer)
        ls.reset_ranker()  # its weights in memory are the developer's too
        logger.info("forgot %d completions of developer %s", removed, developer)
        return {"developer": developer, "removed": removed}
