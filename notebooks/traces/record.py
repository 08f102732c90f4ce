"""Record the traces that ship with the notebooks (for workshop replay, offline).

Run from the repository root: ``.venv/bin/python notebooks/traces/record.py``. Each trace is one
of the guides' examples on the demo models with their default, realistic timing.
"""

from __future__ import annotations

from pathlib import Path

from langchain_core.output_parsers import JsonOutputParser, StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

import streamviz as sv
from streamviz.demo import DemoChatModel
from streamviz.demo.graphs import build_model_graph

HERE = Path(__file__).resolve().parent
COUNTRIES = (
    "output a list of the countries france, spain and japan and their populations in JSON "
    'format. Use a dict with an outer key of "countries" which contains a list of countries. '
    "Each country should have the key `name` and `population`"
)


def _extract_country_names(inputs):
    if not isinstance(inputs, dict) or not isinstance(inputs.get("countries"), list):
        return ""
    return [country.get("name") for country in inputs["countries"] if isinstance(country, dict)]


def record() -> list[Path]:
    """Run each example once with a collector and save its trace next to this script."""
    prompt = ChatPromptTemplate.from_template("tell me a joke about {topic}")
    examples = {
        "parrot": (prompt | DemoChatModel() | StrOutputParser(), {"topic": "parrot"}, {}),
        "countries_function": (
            DemoChatModel(token_delay=0.01) | JsonOutputParser() | _extract_country_names,
            COUNTRIES,
            {},
        ),
        "graph_messages": (
            build_model_graph(),
            {"topic": "ice cream and cats"},
            {"stream_mode": ["updates", "messages", "custom"]},
        ),
    }
    written = []
    for name, (runnable, value, options) in examples.items():
        trace = sv.watch(runnable, value, name=name, display=False, **options)
        path = HERE / f"{name}.jsonl"
        trace.save(path)
        written.append(path)
    return written


if __name__ == "__main__":
    for path in record():
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
