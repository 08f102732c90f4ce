"""Hatch build hook: bundle the widget front-end (js/) into streamviz/static/ at build time.

The bundle is never committed. Building a wheel, an sdist or an editable install runs
``npm ci`` (when js/node_modules is missing or stale) and ``npm run build`` in js/, so node and
npm are needed to build from source; installing a built wheel needs neither.
"""

from __future__ import annotations

import os
import shutil
import subprocess
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
