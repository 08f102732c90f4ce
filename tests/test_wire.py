"""The binary wire form of the widget's event columns decodes back to the JSON form, exactly."""

from __future__ import annotations

import base64
import json

from examples import parrot_chain
from ipywidgets.widgets.widget import _remove_buffers

import streamviz as sv
from streamviz.export import front_end_state
from streamviz.widgets import Dashboard
from streamviz.widgets._encode import TraceEncoder
from streamviz.widgets._wire import (
    BUFFER_PATHS,
    decode_message,
    decode_state,
    json_events,
    saved_buffers,
    saved_state,
    snapshot_to_wire,
    wire_message,
)

# Texts a UTF-16 offset gets wrong if it counts bytes or code points: accents, an emoji (two
# UTF-16 units), a byte order mark at the very start (a decoder may take it for one), nothing.
AWKWARD = ["\ufeffBOM first", "", "héllo", "🦜 parrot", "日本語", "plain", "a\u2028b", "\x00"]


def _trace_with(texts: list[str]) -> sv.Trace:
    events = [
        {"event": "on_chain_start", "run_id": "r", "name": "chain", "parent_ids": [],
         "tags": [], "metadata": {}, "data": {"input": "go"}, "t": 0.0},
        *({"event": "on_chat_model_stream", "run_id": "r", "name": "chain", "parent_ids": [],
           "tags": [], "metadata": {}, "data": {"chunk": text}, "t": 0.001 * (k + 1)}
          for k, text in enumerate(texts)),
        {"event": "on_chain_end", "run_id": "r", "name": "chain", "parent_ids": [],
         "tags": [], "metadata": {}, "data": {"output": "done"}, "t": 1.0},
    ]  # fmt: skip
    return sv.Trace.from_events(events, name="wire")


def _sent(state: dict) -> dict:
    """What the comm carries of `state` (ipywidgets takes the bytes out as buffers), decoded."""
    plain, paths, buffers = _remove_buffers(state)
    return decode_state(json.loads(json.dumps(plain)), buffers, paths)


def test_a_real_runs_snapshot_travels_as_buffers_and_decodes_to_the_json_form():
    trace = sv.Trace("parrot")
    with sv.capture(trace):
        parrot_chain().invoke({"topic": "parrots"})
    widget = Dashboard(trace)
    try:
        state = widget.get_state()
        events = state["snapshot"]["events"]
        # The bulk columns are bytes (buffers on the wire), not lists of numbers and strings.
        assert all(isinstance(events[name], bytes) for name in ("us", "kind", "run"))
        assert set(events["text"]) == {"utf8", "end"}
        assert _sent(state)["snapshot"] == widget.snapshot
        assert widget.snapshot["count"] == len(trace.events) > 10
    finally:
        widget.close()


def test_texts_of_every_width_come_back_whole():
    snapshot = TraceEncoder(_trace_with(AWKWARD * 50)).snapshot()
    assert snapshot["events"]["text"][1 : 1 + len(AWKWARD)] == AWKWARD
    wire = snapshot_to_wire(snapshot)
    assert isinstance(wire["events"]["text"]["utf8"], bytes)
    assert _sent({"snapshot": wire})["snapshot"] == snapshot


def test_a_text_utf8_cannot_carry_stays_json_and_the_rest_is_still_binary():
    snapshot = TraceEncoder(_trace_with(["fine", "lone \ud800 surrogate"])).snapshot()
    # The encoder shows a lone surrogate as U+FFFD (streamviz._redact.display_text); a snapshot
    # made otherwise (by hand, by an older encoder) may still hold one.
    assert "lone \ufffd surrogate" in snapshot["events"]["text"]
    snapshot["events"]["text"] = [
        text.replace("\ufffd", "\ud800") for text in snapshot["events"]["text"]
    ]
    wire = snapshot_to_wire(snapshot)
    assert wire["events"]["text"] == snapshot["events"]["text"]  # the JSON list, as it was
    assert isinstance(wire["events"]["us"], bytes)
    assert _sent({"snapshot": wire})["snapshot"] == snapshot


def test_a_delta_message_names_where_its_buffers_go_and_decodes_to_the_delta():
    trace = sv.Trace("growing")
    encoder = TraceEncoder(trace)
    encoder.snapshot()
    with sv.capture(trace):
        parrot_chain().invoke({"topic": "deltas"})
    delta = encoder.delta()
    assert delta is not None and delta["to"] > delta["from"]
    content, buffers = wire_message(delta)
    assert len(buffers) == 5  # us, kind, run, the text blob and its offsets
    assert [path[0] for path in content[BUFFER_PATHS]] == ["events"] * 5
    assert "us" not in content["events"] and content["events"]["extra"] == delta["events"]["extra"]
    carried = json.loads(json.dumps(content))  # the content must be plain JSON
    assert decode_message(carried, buffers) == delta


def test_the_snapshot_trait_python_reads_stays_the_json_form():
    trace = _trace_with(["a", "b"])
    widget = Dashboard(trace)
    try:
        assert widget.snapshot["events"]["text"] == ["go", "a", "b", "done"]
        assert widget.snapshot["events"]["us"] == [0, 1000, 2000, 1000000]
    finally:
        widget.close()


def test_an_offline_page_embeds_the_buffers_as_base64_that_decode_to_the_snapshot():
    trace = _trace_with(AWKWARD)
    widget = Dashboard(trace)
    try:
        events = front_end_state(widget.get_state())["snapshot"]["events"]
        assert set(events["us"]) == {"$base64"} and set(events["text"]["utf8"]) == {"$base64"}
        back = {
            name: base64.b64decode(value["$base64"]) if "$base64" in value else value
            for name, value in events.items()
            if name != "text"
        }
        back["text"] = {part: base64.b64decode(v["$base64"]) for part, v in events["text"].items()}
        assert json_events(back) == widget.snapshot["events"]
    finally:
        widget.close()


def test_a_saved_notebooks_widget_state_gives_back_the_snapshot():
    widget = Dashboard(_trace_with(AWKWARD))
    try:
        state, paths, buffers = _remove_buffers(widget.get_state())
        saved = {  # as JupyterLab and nbclient save it in the notebook's metadata
            "state": json.loads(json.dumps(state)),
            "buffers": [
                {"path": path, "encoding": "base64", "data": base64.b64encode(data).decode()}
                for path, data in zip(paths, buffers, strict=True)
            ],
        }
        assert saved_state(saved)["snapshot"] == widget.snapshot
        assert saved_buffers(saved)["snapshot"]["events"]["us"] == state_bytes(widget, "us")
    finally:
        widget.close()


def state_bytes(widget, column: str) -> bytes:
    return widget.get_state()["snapshot"]["events"][column]
