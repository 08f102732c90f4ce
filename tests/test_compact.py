"""Column storage of stream chunks gives back what was captured: equal values, same types."""

from __future__ import annotations

import gc

from langchain_core.messages import AIMessageChunk
from langchain_core.messages.base import TextAccessor

import streamviz as sv
from streamviz._log import ChunkBlock


def compact_rows(trace):
    """The trace's events kept in the store's chunk columns, as blocks."""
    return [item for item in trace.store.blocks() if type(item) is ChunkBlock]


def stored(*chunks):
    trace = sv.Trace()
    base = {"name": "step", "run_id": "r", "parent_ids": [], "tags": [], "metadata": {}}
    run = trace.store.append({**base, "event": "on_chain_start", "data": {}})
    write = trace.store.stream_writer(run, {**base, "event": "on_chain_stream"})
    for chunk in chunks:
        write(chunk)
    (block,) = compact_rows(trace)
    assert block.count == run.chunk_count == len(chunks)
    return block, [trace.events[1 + row]["data"]["chunk"] for row in range(len(chunks))]


def test_plain_message_chunks_come_back_equal_with_the_same_fields_set():
    plain = AIMessageChunk(content="Hel", id="lc_run--1")
    last = AIMessageChunk(content="", id="lc_run--1", chunk_position="last")
    _, (a, b) = stored(plain, last)
    assert type(a) is AIMessageChunk and a == plain and a is not plain
    assert a.__pydantic_fields_set__ == plain.__pydantic_fields_set__
    assert a.model_dump() == plain.model_dump() and b == last and b.chunk_position == "last"


def test_rich_message_chunks_are_kept_as_they_are():
    rich = [
        AIMessageChunk(
            content="x", usage_metadata={"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}
        ),
        AIMessageChunk(
            content="", tool_call_chunks=[{"name": "f", "args": "{", "id": "1", "index": 0}]
        ),
        AIMessageChunk(content=[{"type": "text", "text": "hi"}]),
        AIMessageChunk(content="x", response_metadata={"model_provider": "demo"}),
        AIMessageChunk(content="x", name="bot"),
    ]
    _, back = stored(*rich)
    assert all(a is b for a, b in zip(back, rich, strict=True))


def test_parser_text_keeps_its_type_and_other_values_their_identity():
    text = TextAccessor("tok")
    payload = {"countries": []}
    _, (a, b, c) = stored(text, payload, None)
    assert type(a) is TextAccessor and a == "tok"
    assert b is payload and c is None


def test_a_re_yielded_object_points_at_its_first_row():
    payload = {"countries": [{"name": "France"}]}
    _, (a, b) = stored(payload, payload)
    assert a is payload and b is payload
    message = AIMessageChunk(content="tok", id="m")
    _, (m1, m2) = stored(message, message)
    assert m1 == m2 == message


def test_long_streams_leave_nothing_for_the_garbage_collector_to_walk():
    collector = sv.Collector()
    chain = sv.demo.DemoChatModel.for_benchmark(2000)
    list(collector.stream(chain, "go"))
    blocks = compact_rows(collector.trace)
    assert sum(block.count for block in blocks) == 2001  # every token (and the final empty one)
    gc.collect()
    tracked = [value for value in collector.trace.store.kept_objects() if gc.is_tracked(value)]
    # only the model's last chunk, which carries usage metadata, is kept as the object itself
    assert len(tracked) == 1 and tracked[0].usage_metadata is not None
    first = collector.trace.events[1]
    assert first["event"] == "on_chat_model_stream" and first["data"]["chunk"].content


def test_interleaved_runs_keep_their_own_message_ids_and_sets_of_fields():
    trace = sv.Trace()
    base = {"parent_ids": [], "tags": [], "metadata": {}}
    writers = []
    for name in ("one", "two"):
        fields = {**base, "name": name, "run_id": name}
        run = trace.store.append({**fields, "event": "on_chat_model_start", "data": {}})
        writers.append(trace.store.stream_writer(run, {**fields, "event": "on_chat_model_stream"}))
    written = []
    for i in range(3):
        for writer, name in zip(writers, ("one", "two"), strict=True):
            # the middle chunks set one more field (name=None): another set of fields set
            more = {"name": None} if i == 1 else {}
            chunk = AIMessageChunk(content=f"{name}{i}", id=f"id-{name}", **more)
            writer(chunk)
            written.append(chunk)
    odd = AIMessageChunk(content="other id", id="id-three")  # not the run's id: kept whole
    writers[0](odd)
    (block,) = compact_rows(trace)
    back = [block.chunk(offset) for offset in range(block.count)]
    assert back == [*written, odd] and back[-1] is odd
    assert len({frozenset(c.__pydantic_fields_set__) for c in written}) == 2
    for a, b in zip(back, written, strict=False):
        assert a is not b and a.__pydantic_fields_set__ == b.__pydantic_fields_set__
    texts = block.texts()
    assert texts == [c.content for c in written] + [None]
