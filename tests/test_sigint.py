"""Ctrl-C at any moment of a fast stream leaves a trace that reads, saves, shows and goes on.

Real SIGINTs, at random moments, into 200 streams (``Collector.stream``, ``sv.capture``,
``sv.watch``), in a process of its own (``sigint_child.py``) so that no stray signal reaches
pytest. Each interrupted trace must read back whole, save and load, make a DataFrame and a
dashboard snapshot, hold only chunks the model really streamed, in order, and record the next
stream into the same trace exactly.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CHILD = Path(__file__).with_name("sigint_child.py")


@pytest.mark.parametrize(
    ("mode", "rounds", "seed"), [("stream", 70, 1), ("capture", 70, 2), ("watch", 60, 3)]
)
def test_real_sigints_at_random_moments_leave_every_trace_whole(mode, rounds, seed):
    done = subprocess.run(
        [sys.executable, str(CHILD), mode, str(rounds), str(seed)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["interrupted"] > rounds // 2  # the signals did land inside the streams
    problems = {key: value for key, value in report.items() if key not in ("rounds", "interrupted")}
    assert problems == dict.fromkeys(problems, 0), done.stderr[-3000:]
