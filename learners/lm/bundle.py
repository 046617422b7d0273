"""A training-data bundle: the corpus's training files and prepared RLPG examples in one
compressed archive, so that `bowerbird train lm --bundle FILE` can train on another machine
(a GPU host with a different Python, or none of this project's index dependencies) on
exactly the data this machine would use.

Layout of the `.tar.xz`: `manifest.json` (what is inside, how it was made), `rlpg.jsonl`
(one JSON string per line: a prompt as the server composes it plus the rest of the line) and
`corpus/<package>/<path>` for every training file.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bowerbird.learners.lm.corpus import CorpusFile

FORMAT = 1


class BundleError(ValueError):
    """The file is not a training bundle this version can read."""


@dataclass
class Bundle:
    texts: list[tuple[str, str]] = field(default_factory=list)  # (package, file text)
    rlpg: list[str] = field(default_factory=list)  # RLPG examples, ready to tokenize
    manifest: dict = field(default_factory=dict)


def write_bundle(out: Path, files: Iterable[CorpusFile], rlpg: list[str], manifest: dict) -> dict:
    """Write the bundle; returns the manifest as written (with counts)."""
    files = list(files)
    manifest = {"format": FORMAT, **manifest, "files": len(files),
                "bytes": sum(f.path.stat().st_size for f in files), "rlpg_examples": len(rlpg),
                "packages": sorted({f.package for f in files})}
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with tarfile.open(partial, "w:xz") as archive:
        _add_bytes(archive, "manifest.json", json.dumps(manifest, indent=1).encode())
        _add_bytes(archive, "rlpg.jsonl", "".join(json.dumps(text) + "\n" for text in rlpg).encode())
        for file in files:
            relative = file.path.relative_to(file.root).as_posix()
            archive.add(file.path, arcname=f"corpus/{file.package}/{relative}", recursive=False)
    partial.replace(out)
    return manifest


def read_bundle(path: Path) -> Bundle:
    """Read a bundle into memory (a few hundred MB of text at most)."""
    bundle = Bundle()
    try:
        with tarfile.open(path, "r:*") as archive:
            for member in archive:
                if not member.isfile():
                    continue
                data = archive.extractfile(member).read()
                if member.name == "manifest.json":
                    bundle.manifest = json.loads(data)
                elif member.name == "rlpg.jsonl":
                    bundle.rlpg = [json.loads(line) for line in data.decode().splitlines() if line]
                elif member.name.startswith("corpus/"):
                    package = member.name.split("/")[1]
                    bundle.texts.append((package, data.decode("utf-8", errors="replace")))
    except (tarfile.TarError, OSError, EOFError, json.JSONDecodeError) as error:
        raise BundleError(f"{path}: not a readable training bundle ({error})") from error
    if bundle.manifest.get("format") != FORMAT:
        raise BundleError(f"{path}: not a training bundle of format {FORMAT} (manifest: {bundle.manifest or 'missing'})")
    return bundle


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))
