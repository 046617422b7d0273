"""`bowerbird feedback show|export|forget`: what the local feedback store holds.

The store (`feedback.sqlite` in the server's data dir: the user data dir, or `--data-dir D`
where the server's `dataDir` option names another) keeps the completions shown to each developer, their accepts
and rejects, and the ranking weights fitted to them. It never leaves the machine.

- `show`: the developers (counts of shown completions, accepts, rejects; models with weights),
  or with `--developer` one developer's counts, weights and last 20 events.
- `export --developer ID`: everything held about a developer, as JSON (stdout, or `--out`).
- `forget --developer ID`: removes it all, and says how much was removed.

`show` and `export` never create a store: with none, `show` lists nobody and `export` is a
usage error; `forget` without a store removes nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from bowerbird.commands.common import UsageError, add_json_option, print_json

LAST_EVENTS = 20  # events `show --developer` lists
TEXT_WIDTH = 40  # characters of a candidate's text in `show`'s table


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("feedback", help="show, export or forget what the local feedback store holds",
                            description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    show = actions.add_parser("show", help="the developers, or one developer's counts, weights and last events")
    show.add_argument("--developer", metavar="ID", help="one developer (default: the table of all of them)")
    add_data_dir_option(show)
    add_json_option(show)
    show.set_defaults(run=run_show)

    export = actions.add_parser("export", help="everything held about a developer, as JSON")
    export.add_argument("--developer", metavar="ID", required=True)
    export.add_argument("--out", type=Path, default=None, help="write the JSON to this file (default: stdout)")
    add_data_dir_option(export)
    export.set_defaults(run=run_export)

    forget = actions.add_parser("forget", help="remove everything held about a developer")
    forget.add_argument("--developer", metavar="ID", required=True)
    add_data_dir_option(forget)
    add_json_option(forget)
    forget.set_defaults(run=run_forget)


def add_data_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, default=None, metavar="D",
                        help="the folder holding feedback.sqlite (default: the server's, the user data dir)")


def store_path(args: argparse.Namespace) -> Path:
    from bowerbird.paths import default_data_dir
    from bowerbird.server.feedback import STORE_NAME

    return ((args.data_dir or default_data_dir()).expanduser() / STORE_NAME).resolve()


def developer_id(args: argparse.Namespace) -> str | None:
    if args.developer is not None and not args.developer.strip():
        raise UsageError("--developer must not be empty")
    return args.developer


def open_store(path: Path):
    """The store at `path`, which exists; UsageError when it is not a usable SQLite file."""
    import sqlite3

    from bowerbird.server.feedback import FeedbackStore

    try:
        return FeedbackStore(path)
    except sqlite3.Error as error:
        raise UsageError(f"{path}: not a usable feedback store ({error})") from None


def developer_summary(export: dict) -> dict:
    """`show --developer`'s document from an `export`: counts, weights (without their vectors)
    and the last events, oldest first. An event is a choice, or a completion shown with none
    (kind "shown"); its text is the chosen candidate's, else the first one shown."""
    events = []
    for shown in export["shown"]:
        candidates = shown["candidates"]
        choices = shown["choices"] or [{"candidate": None, "kind": "shown", "time": shown["time"]}]
        for choice in choices:
            index = choice["candidate"]
            chosen = index if index is not None and 0 <= index < len(candidates) else 0
            events.append({"time": choice["time"], "path": shown["path"], "line": shown["line"], "col": shown["col"],
                           "kind": choice["kind"], "candidate": index,
                           "text": candidates[chosen].get("text", "") if candidates else ""})
    events.sort(key=lambda event: event["time"])
    kinds = [event["kind"] for event in events]
    return {
        "developer": export["developer"],
        "created": export["created"],
        "shown": len(export["shown"]),
        "accepted": kinds.count("accepted"),
        "rejected": kinds.count("rejected"),
        "weights": [{"model": w["model"], "size": len(w["vector"]), "events": w["events"], "updated": w["updated"]}
                    for w in export["weights"]],
        "events": events[-LAST_EVENTS:],
    }


def empty_export(developer: str) -> dict:
    return {"developer": developer, "created": None, "shown": [], "weights": []}


def run_show(args: argparse.Namespace) -> int:
    developer = developer_id(args)
    path = store_path(args)
    exists = path.is_file()
    store = open_store(path) if exists else None
    try:
        if developer is None:
            rows = store.developers() if store else []
            document: dict = {"store": str(path), "developers": rows}
        else:
            summary = developer_summary(store.export(developer) if store else empty_export(developer))
            document = {"store": str(path), "developer": summary}
    finally:
        if store:
            store.close()
    if args.json:
        print_json(document)
    elif not exists:
        print(f"no feedback store at {path}: nothing recorded" + (f" about {developer}" if developer else ""))
    elif developer is None:
        print_developers(path, document["developers"])
    else:
        print_developer(path, document["developer"])
    return 0


def print_developers(path: Path, rows: list[dict]) -> None:
    print(f"feedback store {path}")
    if not rows:
        print("no developers recorded")
        return
    width = max(len("developer"), *(len(row["developer"]) for row in rows))
    print(f"{'developer':<{width}}  {'shown':>7}  {'accepted':>8}  {'rejected':>8}  weights")
    for row in rows:
        print(f"{row['developer']:<{width}}  {row['shown']:>7}  {row['accepted']:>8}  {row['rejected']:>8}  "
              f"{', '.join(row['weights']) or '-'}")


def print_developer(path: Path, summary: dict) -> None:
    print(f"feedback store {path}")
    if summary["created"] is None and not summary["shown"] and not summary["weights"]:
        print(f"developer {summary['developer']}: nothing recorded")
        return
    print(f"developer {summary['developer']}: {summary['shown']} shown, {summary['accepted']} accepted, "
          f"{summary['rejected']} rejected (since {when(summary['created'])})")
    for weights in summary["weights"]:
        print(f"weights {weights['model']}: {weights['size']} values, fitted on {weights['events']} events, "
              f"updated {when(weights['updated'])}")
    if not summary["weights"]:
        print("weights: none")
    if summary["events"]:
        print(f"last {len(summary['events'])} events:")
        for event in summary["events"]:
            print(f"  {when(event['time'])}  {event['path']}:{event['line'] + 1}  {event['kind']:<8}  "
                  f"{shorten(event['text'])}")


def when(seconds: float | None) -> str:
    return "-" if seconds is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds))


def shorten(text: str) -> str:
    flat = text.replace("\n", "\\n")
    return flat if len(flat) <= TEXT_WIDTH else flat[:TEXT_WIDTH - 1] + "…"


def run_export(args: argparse.Namespace) -> int:
    developer = developer_id(args)
    path = store_path(args)
    if not path.is_file():
        raise UsageError(f"no feedback store at {path}: nothing recorded (is --data-dir the server's dataDir?)")
    store = open_store(path)
    try:
        document = store.export(developer)
    finally:
        store.close()
    if args.out is None:
        print_json(document)
    else:
        try:
            args.out.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        except OSError as error:
            raise UsageError(f"cannot write {args.out}: {error}") from None
        print(f"wrote {len(document['shown'])} shown completions and {len(document['weights'])} weights of "
              f"{developer} to {args.out}", file=sys.stderr)
    return 0


def run_forget(args: argparse.Namespace) -> int:
    developer = developer_id(args)
    path = store_path(args)
    counts = {"shown": 0, "choices": 0, "weights": 0}
    if path.is_file():
        store = open_store(path)
        try:
            counts = store.forget_counts(developer)
        finally:
            store.close()
    if args.json:
        print_json({"developer": developer, "shown_removed": counts["shown"], "choices_removed": counts["choices"],
                    "weights_removed": counts["weights"]})
    else:
        where = str(path) if path.is_file() else f"{path} (no store there)"
        print(f"forgot developer {developer}: removed {counts['shown']} shown completions, {counts['choices']} "
              f"choices and {counts['weights']} weights rows from {where}")
    return 0
