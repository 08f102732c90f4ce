"""Which chat model the notebooks use: the offline demo model, or a real one the user names."""

from __future__ import annotations

import os
from typing import Any

from streamviz.demo._models import DemoChatModel

__all__ = ["MODEL_VARIABLE", "chat_model"]

MODEL_VARIABLE = "STREAMVIZ_CHAT_MODEL"
"""Environment variable naming a real model for ``init_chat_model``, e.g. ``openai:gpt-4o-mini``."""


def chat_model(**demo_options: Any) -> Any:
    """The chat model of the notebooks: offline by default, a real one on request.

    With the environment variable ``STREAMVIZ_CHAT_MODEL`` set (for instance to
    ``openai:gpt-4o-mini`` or ``anthropic:claude-3-5-haiku-latest``) this returns
    ``langchain.chat_models.init_chat_model(<that value>)``, so the same notebook runs against the
    provider (it needs the ``langchain`` package, the provider's integration package and its API
    key in the environment). Otherwise it returns ``DemoChatModel(**demo_options)``: offline,
    scripted, with realistic timing.

    Raises
    ------
    RuntimeError
        If a real model is named but ``langchain`` is not installed.
    """
    name = os.environ.get(MODEL_VARIABLE, "").strip()
    if not name:
        return DemoChatModel(**demo_options)
    try:
        from langchain.chat_models import init_chat_model
    except ImportError as error:
        raise RuntimeError(
            f"{MODEL_VARIABLE}={name!r} asks for a real model, which needs the `langchain` package "
            "and the provider's package (for example `pip install langchain langchain-openai`); "
            f"unset {MODEL_VARIABLE} to use the offline demo model."
        ) from error
    return init_chat_model(name)
