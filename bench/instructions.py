"""Instructions capture adds per event, counted by valgrind (``python bench/instructions.py``).

CPU time on a shared 2-vCPU machine moves by ±20 % from run to run, more than the differences
this measures. Instructions do not: valgrind's callgrind counts every instruction a process runs
(slowly: ~50x), the same on a busy machine as on a quiet one. Each variant runs in a process of
its own, all at one size; a variant's count minus the no-op run's is what capture added (imports
and warm-up are the same on both sides). The no-op run at a second size gives its own
instructions per event, the denominator of the ratios:

- ``noop``: the agent streamed with the no-op handler (bench/scale.py's baseline);
- ``python``: ``sv.watch`` with the Python per-token paths (``STREAMVIZ_PURE_PYTHON=1``);
- ``c``: ``sv.watch`` with the C speedups (streamviz/_speedups.c);
- ``floor``: ``sv.watch`` with the token callback and the ``messages`` part recorder doing
  nothing: what capture costs besides its two rows per token.

Prints the no-op run's instructions per event, and each variant's extra instructions per event
and ratio. Needs valgrind (``apt-get install valgrind``). ``--sizes N M``: the size every variant
runs at and the no-op run's second size (default 10000 30000 events, ~20 min).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
VARIANTS = ("noop", "python", "c", "floor")


def child(variant: str, size: int) -> None:
    """Run the agent once to warm up and once more, as ``variant`` (in this process)."""
    sys.path.insert(0, str(HERE))
    import scale

    from streamviz import _log
    from streamviz.sources import callbacks, graph

    if variant == "c" and _log.speedups is None:
        raise SystemExit("the C speedups are not built")
    if variant in ("python", "floor"):
        for module in (_log, callbacks, graph):
            module.speedups = None
    if variant == "floor":

        def token(self, token=None, *, chunk=None, run_id=None, **kwargs):
            pass

        def put(self, item):
            pass

        callbacks.Collector.on_llm_new_token = token
        graph.GraphParts.put = put
    workload = scale.Graph(size)
    run = workload.noop if variant == "noop" else workload.capture
    for _ in range(2):
        run()
        scale.forget_last_trace()


def count(variant: str, size: int, folder: Path) -> int:
    out = folder / f"{variant}-{size}.out"
    command = [
        "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
        sys.executable, __file__, "--child", variant, str(size),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise RuntimeError(done.stderr[-2000:])
    return int(found.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=(10000, 30000))
    parser.add_argument("--variant", choices=VARIANTS, nargs="*", default=list(VARIANTS))
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], int(args.child[1]))
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is needed: apt-get install valgrind", file=sys.stderr)
        return 2
    sys.path.insert(0, str(HERE))
    import scale

    size, other = args.sizes
    events = {n: scale.Graph(n).calls * scale.GRAPH_EVENTS_PER_CALL for n in (size, other)}
    variants = ["noop", *(v for v in args.variant if v != "noop")]
    with tempfile.TemporaryDirectory() as folder:
        counts = {variant: count(variant, size, Path(folder)) for variant in variants}
        noop_other = count("noop", other, Path(folder))
    # two runs of each size (warm-up, then the run)
    noop = (noop_other - counts["noop"]) / (2 * (events[other] - events[size]))
    print(f"noop    {noop:9,.0f} instructions per event")
    for variant in variants[1:]:
        extra = (counts[variant] - counts["noop"]) / (2 * events[size])
        print(f"{variant:7s} {extra:+9,.0f} per event, ratio {(noop + extra) / noop:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
