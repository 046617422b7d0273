"""`bowerbird check PATH... [--format text|json|sarif] [--threshold P] [--report findings|functions] [--model DIR]`:
variables that look misused, as a linter for CI.

Each PATH is a Python file, or a folder whose `.py` files are all checked (the indexer's walk:
`.gitignore` / `.bowerbirdignore`, default-excluded folders and virtual environments skipped).
Every function of a file (methods and nested functions too) goes through the variable-misuse
model (`learners/misuse/detect.py`), which points at its most likely wrong read and suggests
the variable it would put there; the probability is the model's bug probability 1 - p(no bug).

Reported: the functions whose probability is at least the threshold (`--report findings`, the
default), or every analysed function with its most likely location whatever the probability
(`--report functions`; a function without a variable read to check has no location and is left
out, and counted). Functions over the model's size cap (512 tokens, 256 graph AST nodes) are
skipped and counted; a file that cannot be read, decoded or parsed is skipped with a warning.

Positions are the file's, 1-based: `line` / `col` at the name's first character, `end_line` /
`end_col` just after it (exclusive), columns in characters (Unicode code points).

Formats:
  text   `path:line:col: NAME may be the wrong variable here — did you mean SUGGESTION? (p=0.97)
         [function]`, one per line; a summary line on stderr
  json   a list of {"path", "function", "line", "col", "end_line", "end_col", "name",
         "suggestion", "probability"} (probability rounded to 4 places)
  sarif  SARIF 2.1.0: rule BB001 (variable-misuse); each result's location (a path under the
         current folder is relative to `%SRCROOT%` = the current folder, any other a file URI)
         and a fix replacing the name by the suggestion; columns in Unicode code points

--threshold defaults to the model's calibrated threshold (`threshold` in its config.json), else
0.5. --model defaults to the shipped checkpoint (learners/checkpoints/misuse). The model runs on
the CPU, on --threads threads (1 by default).

Exit codes: 1 when findings are reported (`--report findings`), 0 when none (and always with
`--report functions`), 2 on usage errors (a missing path, a threshold outside [0, 1], no model).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from bowerbird.commands.common import UsageError, print_json
from bowerbird.learners.misuse.defaults import (
    DEFAULT_THRESHOLD,
    RULE_ID,
    RULE_NAME,
    calibrated_threshold,
    default_model_folder,
    shown,
)

logger = logging.getLogger(__name__)

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("check", help="flag variables that look misused (a linter for CI)",
                            description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="Python files or folders")
    parser.add_argument("--format", choices=("text", "json", "sarif"), default="text")
    parser.add_argument("--threshold", type=float, default=None, metavar="P",
                        help="report functions whose bug probability is at least P, in [0, 1] "
                             "(default: the model's calibrated threshold, else 0.5)")  # fmt: skip
    parser.add_argument("--report", choices=("findings", "functions"), default="findings",
                        help="findings at the threshold, or every analysed function's most likely location")
    parser.add_argument("--model", type=Path, default=None, metavar="DIR",
                        help="a `train misuse --data DATA --out DIR` folder (default: the shipped model)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (default 1: a file's small graphs run fastest on one, "
                             "and many threads crawl on a busy machine)")  # fmt: skip
    parser.set_defaults(run=run)


@dataclass(frozen=True)
class Target:
    """A file to check."""

    path: str  # as reported: the PATH argument, joined with the walk's relative path for a folder
    abspath: str


@dataclass
class Totals:
    files: int = 0  # files checked
    skipped: list[tuple[Target, str]] = field(default_factory=list)  # files skipped and why
    functions: int = 0
    analysed: int = 0
    without_reads: int = 0
    too_large: int = 0
    unusable: int = 0


def targets(paths: list[Path]) -> list[Target]:
    """The files of the PATH arguments, in order, each once; UsageError for a missing path."""
    from bowerbird.analysis.walk import walk

    out: list[Target] = []
    seen: set[str] = set()
    for path in paths:
        if path.is_dir():
            found = [Target((path / f.path).as_posix(), f.abspath) for f in walk(path).files if f.path.endswith(".py")]
        elif path.is_file():
            found = [Target(path.as_posix(), str(path))]
        elif path.exists():
            raise UsageError(f"{path}: not a file or a folder")
        else:
            raise UsageError(f"{path}: no such file or folder")
        for target in found:
            key = os.path.realpath(target.abspath)
            if key not in seen:
                seen.add(key)
                out.append(target)
    return out


def _check_threshold(value: float, what: str) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.0 <= value <= 1.0:
        raise UsageError(f"{what} must be a number in [0, 1], got {value!r}")
    return float(value)


def load(folder: Path | None):
    """(model, vocabulary, config) of --model, or of the shipped model; UsageError when missing."""
    from bowerbird.learners.misuse.checkpoint import CONFIG, VOCABULARY, WEIGHTS, load_model

    chosen = folder if folder is not None else default_model_folder()
    if not all((chosen / name).is_file() for name in (CONFIG, VOCABULARY, WEIGHTS)):
        how = ("train one with `bowerbird train misuse --make-data --out DATA`, then "
               "`bowerbird train misuse --data DATA --out MODEL`, and pass --model MODEL")  # fmt: skip
        if folder is None:
            raise UsageError(f"the shipped misuse model is missing ({chosen}; reinstall bowerbird), or {how}")
        raise UsageError(f"--model {folder}: not a misuse model (needs {CONFIG}, {VOCABULARY} and {WEIGHTS}); {how}")
    try:
        return load_model(chosen)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as error:
        raise UsageError(f"--model {chosen}: cannot load the model ({error})") from None


def model_threshold(config: dict) -> float:
    """The calibrated threshold of a model's config (a number, or `eval misuse`'s threshold
    object), else `DEFAULT_THRESHOLD`."""
    threshold, problem = calibrated_threshold(config)
    if problem:
        print(f"bowerbird check: warning: {problem}; using {DEFAULT_THRESHOLD}", file=sys.stderr)
    return threshold


def run(args: argparse.Namespace) -> int:
    if args.threshold is not None:
        _check_threshold(args.threshold, "--threshold")
    if args.threads < 1:
        raise UsageError("--threads must be at least 1")
    files = targets(args.paths)
    model, vocabulary, config = load(args.model)
    threshold = args.threshold if args.threshold is not None else model_threshold(config)

    import torch

    from bowerbird.analysis.graphs.schema import GraphError
    from bowerbird.learners.misuse.detect import detect_source
    from bowerbird.learners.misuse.synthesis import decode_source

    torch.set_num_threads(args.threads)
    totals = Totals()
    reported = []
    for target in files:
        try:
            text = decode_source(Path(target.abspath).read_bytes())
            result = detect_source(model, vocabulary, text, target.path)
        except OSError as error:
            _skip(totals, target, f"cannot be read: {error.strerror or error}")
            continue
        except (UnicodeDecodeError, SyntaxError, LookupError) as error:  # LookupError: unknown coding
            _skip(totals, target, f"cannot be decoded: {error}")
            continue
        except (GraphError, RecursionError) as error:
            _skip(totals, target, f"does not parse: {getattr(error, 'message', None) or error}")
            continue
        totals.files += 1
        for key in ("functions", "analysed", "without_reads", "too_large", "unusable"):
            setattr(totals, key, getattr(totals, key) + getattr(result, key))
        reported.extend(result.findings if args.report == "functions" else result.above(threshold))
    reported.sort(key=lambda f: (f.path, f.line, f.col))

    if args.format == "json":
        print_json([f.to_json() for f in reported])
    elif args.format == "sarif":
        print_json(sarif_log(reported, threshold, args.report, totals))
    else:
        for f in reported:
            print(text_line(f))
        print(summary(reported, threshold, args.report, totals), file=sys.stderr)
    return 1 if args.report == "findings" and reported else 0


def _skip(totals: Totals, target: Target, reason: str) -> None:
    totals.skipped.append((target, reason))
    print(f"bowerbird check: warning: {target.path}: skipped, {reason}", file=sys.stderr)


def text_line(f) -> str:
    return (f"{f.path}:{f.line}:{f.col}: {f.name} may be the wrong variable here — did you mean "
            f"{f.suggestion}? (p={shown(f.probability)}) [{f.function}]")  # fmt: skip


def summary(reported: list, threshold: float, report: str, totals: Totals) -> str:
    def n(count: int, word: str) -> str:
        return f"{count} {word}{'' if count == 1 else 's'}"

    head = (f"{n(len(reported), 'finding')} at threshold {threshold:g}" if report == "findings"
            else f"{n(len(reported), 'function')} reported")  # fmt: skip
    parts = [f"{n(totals.files, 'file')} checked"]
    if totals.skipped:
        parts.append(f"{len(totals.skipped)} skipped (unreadable or not Python)")
    parts.append(f"{n(totals.analysed, 'function')} analysed")
    if totals.without_reads:
        parts.append(f"{totals.without_reads} without a variable read to check")
    if totals.too_large:
        parts.append(f"{totals.too_large} over the model's size cap (skipped)")
    if totals.unusable:
        parts.append(f"{totals.unusable} unusable (skipped)")
    return f"bowerbird check: {head}; " + ", ".join(parts)


# --- SARIF 2.1.0 ---------------------------------------------------------------------------------


def artifact_location(abspath: str, cwd: str) -> dict:
    """A path under ``cwd``: relative, percent-encoded, against ``%SRCROOT%``; else a file URI."""
    absolute = Path(os.path.abspath(abspath))
    try:
        relative = absolute.relative_to(cwd)
    except ValueError:
        return {"uri": absolute.as_uri()}
    return {"uri": quote(relative.as_posix()), "uriBaseId": SRCROOT}


def _folder_uri(folder: str) -> str:
    uri = Path(folder).as_uri()
    return uri if uri.endswith("/") else uri + "/"


def sarif_log(reported: list, threshold: float, report: str, totals: Totals, cwd: str | None = None) -> dict:
    """The SARIF 2.1.0 log of `bowerbird check` (one run, one rule)."""
    from bowerbird import __version__

    cwd = os.path.abspath(cwd or os.getcwd())
    rule = {
        "id": RULE_ID,
        "name": RULE_NAME,
        "shortDescription": {"text": "A variable read that looks like the wrong variable."},
        "fullDescription": {"text": (
            "A learned variable-misuse model (a graph neural network over the function's program "
            "graph, with GREAT-style localisation and repair pointers) estimates the probability "
            "that one read of a variable in a function should have read another of the function's "
            "variables; the result points at the most likely read and suggests the variable the "
            "model would put there.")},
        "help": {"text": "Check whether the suggested variable was meant there; the fix replaces the name."},
        "defaultConfiguration": {"level": "warning"},
        "properties": {"tags": ["correctness", "machine-learning"]},
    }  # fmt: skip
    results = []
    for f in reported:
        where = artifact_location(f.path, cwd)  # f.path: a PATH argument joined with the walk's path
        region = {"startLine": f.line, "startColumn": f.col, "endLine": f.end_line, "endColumn": f.end_col}
        results.append({
            "ruleId": RULE_ID,
            "ruleIndex": 0,
            "level": "warning" if f.probability >= threshold else "note",
            "message": {"text": f"'{f.name}' may be the wrong variable here — did you mean "
                                f"'{f.suggestion}'? (p={shown(f.probability)})"},
            "locations": [{
                "physicalLocation": {"artifactLocation": where, "region": region},
                "logicalLocations": [{"fullyQualifiedName": f.function, "kind": "function"}],
            }],
            "fixes": [{
                "description": {"text": f"Replace '{f.name}' with '{f.suggestion}'"},
                "artifactChanges": [{
                    "artifactLocation": where,
                    "replacements": [{"deletedRegion": dict(region), "insertedContent": {"text": f.suggestion}}],
                }],
            }],
            "properties": {"probability": round(f.probability, 4), "suggestion": f.suggestion,
                           "function": f.function},
        })  # fmt: skip
    notifications = [
        {"level": "warning", "message": {"text": f"{target.path}: skipped, {reason}"},
         "locations": [{"physicalLocation": {"artifactLocation": artifact_location(target.abspath, cwd)}}]}
        for target, reason in totals.skipped
    ]  # fmt: skip
    run = {
        "tool": {"driver": {"name": "bowerbird", "version": __version__, "rules": [rule]}},
        "originalUriBaseIds": {SRCROOT: {"uri": _folder_uri(cwd)}},
        "columnKind": "unicodeCodePoints",
        "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notifications}],
        "results": results,
        "properties": {"threshold": threshold, "report": report, "files": totals.files,
                       "skipped_files": len(totals.skipped), "functions": totals.functions,
                       "analysed": totals.analysed, "without_reads": totals.without_reads,
                       "too_large": totals.too_large, "unusable": totals.unusable},
    }  # fmt: skip
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
