"""Command line: ``python -m streamviz demo`` runs the guide's parrot-joke chain offline."""

from __future__ import annotations

import argparse
import asyncio
import sys

__all__ = ["main"]


def _demo(args: argparse.Namespace) -> int:
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate

    import streamviz as sv
    from streamviz.demo import DemoChatModel

    timing = {"time_to_first_token": 0.0, "token_delay": 0.0} if args.fast else {}
    prompt = ChatPromptTemplate.from_template("tell me a joke about {topic}")
    chain = prompt | DemoChatModel(**timing) | StrOutputParser()
    collector = sv.Collector(name="parrot joke")

    print("prompt | DemoChatModel | StrOutputParser, streamed with astream:\n")

    async def stream() -> None:
        async for chunk in collector.astream(chain, {"topic": "parrot"}):
            print(chunk, end="|", flush=True)

    asyncio.run(stream())
    trace = collector.trace
    print("\n\nRun tree (status, duration, time to first chunk, chunks):\n")
    print(trace.format_tree())
    model_run = next(run for run in trace.runs.values() if run.run_type == "chat_model")
    print(
        f"\n{len(trace.events)} events captured; the model's first token came after "
        f"{model_run.time_to_first_chunk * 1000:.0f} ms, the last after "
        f"{(model_run.last_chunk - model_run.start) * 1000:.0f} ms."
    )
    if args.save:
        trace.save(args.save)
        print(f"Trace saved to {args.save}; load it with streamviz.Trace.load({args.save!r}).")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``streamviz`` command."""
    parser = argparse.ArgumentParser(prog="streamviz", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="stream the parrot-joke chain on the offline demo model"
    )
    demo.add_argument("--fast", action="store_true", help="no simulated model latency")
    demo.add_argument("--save", metavar="PATH", help="also save the trace as JSONL")
    args = parser.parse_args(argv)
    return _demo(args)


if __name__ == "__main__":
    sys.exit(main())
