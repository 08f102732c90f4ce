"""Hatch build hook: the widget front-end (js/) and the optional C speedups, built at build time.

The bundle is never committed. Building a wheel, an sdist or an editable install runs
``npm ci`` (when js/node_modules is missing or stale) and ``npm run build`` in js/, so node and
npm are needed to build from source; installing a built wheel needs neither.

``streamviz/_speedups.c`` (the per-token hot paths of capture) is compiled next to it with the C
compiler Python was built with, when there is one; without it streamviz runs the same code in
Python (a warning says so). A wheel that carries it is tagged for its platform.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

BUNDLE = ("streamviz/static/widget.js", "streamviz/static/widget.css")


def _stale(root: Path) -> bool:
    js = root / "js"
    outputs = [root / name for name in BUNDLE]
    if not all(path.is_file() for path in outputs):
        return True
    built = min(path.stat().st_mtime for path in outputs)
    sources = [
        js / "package-lock.json",
        js / "build.mjs",
        root / "streamviz" / "widgets" / "contract.json",  # the JS imports it
        *(js / "src").rglob("*"),
    ]
    return any(path.is_file() and path.stat().st_mtime > built for path in sources)


def build_front_end(root: Path) -> None:
    """Install the JS build tools if needed and bundle the front-end."""
    js = root / "js"
    npm = shutil.which("npm")
    if npm is None:
        if all((root / name).is_file() for name in BUNDLE):
            return  # e.g. building a wheel from an sdist that carries the bundle
        raise RuntimeError(
            "streamviz: building the widget front-end needs node and npm (https://nodejs.org); "
            "install them, e.g. `apt-get install nodejs npm`, and build again."
        )
    marker = js / "node_modules" / ".package-lock.json"
    lock = js / "package-lock.json"
    if not marker.is_file() or marker.stat().st_mtime < lock.stat().st_mtime:
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=js, check=True)
    subprocess.run([npm, "run", "build", "--silent"], cwd=js, check=True)


SPEEDUPS_SOURCE = "streamviz/_speedups.c"


def build_speedups(root: Path) -> str | None:
    """Compile the C speedups in place; their path (relative to ``root``), or None if no compiler.

    Rebuilt only when the source is newer than the module. A failed build is not an error:
    streamviz runs the same paths in Python, only slower (set ``STREAMVIZ_REQUIRE_SPEEDUPS=1`` to
    make it one, as the project's CI does).
    """
    source = root / SPEEDUPS_SOURCE
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    target = source.with_name("_speedups" + suffix)
    relative = target.relative_to(root).as_posix()
    if target.is_file() and target.stat().st_mtime >= source.stat().st_mtime:
        return relative
    compiler = shlex.split(sysconfig.get_config_var("CC") or "cc")
    command = [
        *compiler, "-shared", "-fPIC", "-O2", "-Wall",
        f"-I{sysconfig.get_paths()['include']}", str(source), "-o", str(target),
    ]  # fmt: skip
    try:
        subprocess.run(command, check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as error:
        output = getattr(error, "stderr", "") or str(error)
        if os.environ.get("STREAMVIZ_REQUIRE_SPEEDUPS") == "1":
            raise RuntimeError(f"streamviz: the C speedups did not build:\n{output}") from error
        print(
            f"streamviz: the C speedups were not built ({output.strip()[:500]}); streamviz "
            "will run its per-token paths in Python.",
            file=sys.stderr,
        )
        return None
    return relative


class FrontEndBuildHook(BuildHookInterface):
    """Runs the front-end build before hatchling collects the package files."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        """Build the bundle when js/ is newer than it, and ship it in the built package."""
        root = Path(self.root)
        wanted = os.environ.get("STREAMVIZ_SKIP_JS_BUILD") != "1"
        if wanted and (root / "js" / "src").is_dir() and _stale(root):
            build_front_end(root)
        build_data.setdefault("artifacts", []).extend(BUNDLE)
        if (
            self.target_name == "wheel"  # editable installs too; an sdist ships the source
            and sys.implementation.name == "cpython"
            and os.environ.get("STREAMVIZ_PURE_PYTHON") != "1"
        ):
            speedups = build_speedups(root)
            if speedups is not None:
                build_data["artifacts"].append(speedups)
                if version != "editable":
                    build_data["pure_python"] = False  # a wheel for this platform
                    build_data["infer_tag"] = True
