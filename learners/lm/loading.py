"""Load the backend the options name; a clear error when it cannot be had."""

from __future__ import annotations

from pathlib import Path

from bowerbird.learners import shipped_checkpoint
from bowerbird.learners.lm.backend import Backend

EMBEDDED_NAME = "code-lm"


class BackendUnavailable(RuntimeError):
    """The configured backend or model cannot be used; the message says what to do."""


def embedded_folder() -> Path:
    """Where the shipped default model lives in the package."""
    return shipped_checkpoint(EMBEDDED_NAME)


def embedded_checkpoint() -> Path | None:
    """The shipped default model's folder, if this installation has one."""
    folder = embedded_folder()
    return folder if (folder / "config.json").is_file() else None


def load_backend(backend: str, model: str | None = None, url: str | None = None, device: str | None = None,
                 fim: bool | None = None, dtype: str | None = None) -> Backend:
    """`fim`: None follows the checkpoint (local models), False prompts left to right.
    `dtype`: the local model's weights (device.DTYPES; None: auto)."""
    if backend == "embedded":
        folder = embedded_checkpoint()
        if folder is None:
            raise BackendUnavailable(
                "the embedded default model is not part of this installation yet; configure "
                "backend 'transformers' with a model path or Hugging Face id"
            )
        model = str(folder)
        backend = "transformers"
    if backend == "transformers":
        if not model:
            raise BackendUnavailable("backend 'transformers' needs a model (a local path or a Hugging Face id)")
        from bowerbird.learners.lm.hf import TransformersBackend

        try:
            return TransformersBackend(model, device, fim=fim, dtype=dtype)
        except (OSError, ValueError) as error:
            raise BackendUnavailable(f"cannot load model {model!r}: {error}") from error
    if backend == "openai":
        if not url:
            raise BackendUnavailable("backend 'openai' needs the server's url (e.g. http://127.0.0.1:8000)")
        import os

        import httpx

        from bowerbird.learners.lm.openai import OpenAIBackend

        try:
            remote = OpenAIBackend(url, model, api_key=os.environ.get("BOWERBIRD_API_KEY"))
            if fim is False:
                remote.fim = None
            return remote
        except (httpx.HTTPError, ValueError) as error:
            raise BackendUnavailable(f"cannot reach the completion server at {url}: {error}") from error
    raise BackendUnavailable(f"unknown backend {backend!r}")
