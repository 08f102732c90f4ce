"""tests/data/widget_snapshot.json: a snapshot of real traces that the JS tests render.

The fixture is made by the Python encoder from real runs (prompt | model | parser, the countries
JSON chain with a plain function, a failing step); this test fails when the encoder's output no
longer has the fixture's shape, so the front-end tests cannot drift from what Python sends.
Regenerate with ``.venv/bin/python tests/test_widget_fixture.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

from examples import EXAMPLES  # run as a script, this file's folder is on sys.path too

import streamviz as sv
from streamviz.widgets._encode import TraceEncoder

FIXTURE = Path(__file__).parent / "data" / "widget_snapshot.json"


def make_snapshot() -> dict:
    collector = sv.Collector(name="guide examples")

    async def run(example: str) -> None:
        runnable, value = EXAMPLES[example]()
        async for _ in collector.astream(runnable, value):
            pass

    for example in ("prompt|model|parser", "model|json|function", "error mid-stream"):
        with contextlib.suppress(ValueError):
            asyncio.run(run(example))
    return TraceEncoder(collector.trace).snapshot()


def shape(value):
    """The structure of a JSON value: keys and element types, not the values."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in sorted(value.items()) if key != "extra"}
    if isinstance(value, list):
        return [sorted({type(item).__name__ for item in value})]
    return type(value).__name__


def test_fixture_has_the_shape_the_encoder_sends():
    fixture = json.loads(FIXTURE.read_text())
    fresh = make_snapshot()
    assert shape(fixture) == shape(fresh)
    assert {row["type"] for row in fixture["runs"]} >= {"chain", "chat_model", "parser", "prompt"}
    assert any(row["held"] for row in fixture["runs"])
    assert any(row["status"] == "error" for row in fixture["runs"])


if __name__ == "__main__":
    FIXTURE.write_text(json.dumps(make_snapshot(), ensure_ascii=False) + "\n")
    print(f"wrote {FIXTURE}")
