"""bench/scale.py (``make bench``) runs through every step on small traces and checks each one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STEPS = [
    "capture",
    "full read",
    "save jsonl",
    "save parquet",
    "events_df",
    "events_df lean",
    "filter",
    "widget snapshot",
    "write_html",
    "load jsonl",
    "load parquet",
]


def test_scale_benchmark_measures_every_step(tmp_path):
    out = tmp_path / "scale.json"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    command = [sys.executable, "bench/scale.py", "--sizes", "620", "--rounds", "1", "--quiet"]
    done = subprocess.run(
        [*command, "--json", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    results = {r["workload"]: r for r in json.loads(out.read_text())["results"]}
    # chain: 206 tokens and a closing usage chunk, 3 stream events each, start and end of 4 runs.
    assert results["chain"]["events"] == 3 * 207 + 8
    assert results["chain"]["runs"] == 4
    # graph: 2 model calls (node, model and routing function each) in one graph run.
    assert results["graph"]["runs"] == 1 + 2 * 3
    assert results["graph"]["events"] == 2 + 2 * 309
    for result in results.values():
        assert [step["step"] for step in result["steps"]] == STEPS
        for step in result["steps"]:
            assert step["us_per_event"] >= 0
        sizes = {s["step"]: s["bytes_per_event"] for s in result["steps"]}
        assert all(sizes[step] > 0 for step in STEPS if step != "filter")
    assert "| chain | 629 | 4 | load parquet |" in done.stdout


def test_scale_benchmark_can_measure_the_capture_row_alone(tmp_path):
    out = tmp_path / "scale.json"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    command = [sys.executable, "bench/scale.py", "--sizes", "620", "--rounds", "1", "--quiet"]
    command += ["--workloads", "graph", "--steps", "capture", "--json", str(out)]
    command += ["--token-step", "5"]  # the two calls stream 105 and 115 tokens
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr
    [result] = json.loads(out.read_text())["results"]
    assert result["events"] == 2 + (2 * 106 + 7) + (2 * 116 + 7)
    assert [step["step"] for step in result["steps"]] == ["capture"]
    assert result["steps"][0]["ratio"] > 0


def test_scale_benchmark_can_measure_the_file_rows_alone(tmp_path):
    out = tmp_path / "scale.json"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    command = [sys.executable, "bench/scale.py", "--sizes", "620", "--rounds", "1", "--quiet"]
    command += ["--workloads", "graph", "--steps", "files", "--json", str(out)]
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr
    [result] = json.loads(out.read_text())["results"]
    steps = [step["step"] for step in result["steps"]]
    assert steps == ["save jsonl", "save parquet", "load jsonl", "load parquet"]
    assert all(step["us_per_event"] > 0 for step in result["steps"])
