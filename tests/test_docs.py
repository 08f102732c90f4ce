"""The documentation points only at files that exist.

Every relative Markdown link and every repository path written in backticks (``streamviz/...``,
``tests/...``, ``js/...``, a ``name.py``...) in the README and the docs must name a file or folder
of this repository, so a moved or deleted file cannot leave the docs pointing at nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    ROOT / "js" / "README.md",
    ROOT / "bench" / "README.md",
    ROOT / "tests" / "browser" / "README.md",
]
LINK = re.compile(r"\]\(([^)\s]+)\)")
CODE = re.compile(r"`([^`\s]+)`")
TOP = ("streamviz/", "tests/", "js/", "notebooks/", "bench/", "docs/", ".ci/")
FILE = re.compile(r"^[\w./-]+\.(py|md|js|mjs|json|jsonl|ipynb|css|toml|png)$")
# Paths the project makes rather than keeps: built, installed or written at run time.
MADE = (
    "streamviz/static",
    "js/node_modules",
    "test-artifacts",
    "bench/results.md",
    "bench/scale.json",
    ".venv",
)


def _mentions(text: str) -> list[str]:
    found = [target for target in LINK.findall(text) if "://" not in target]
    for token in CODE.findall(text):
        path = token.split("::")[0].rstrip(".,:;")
        if any(mark in path for mark in "*…<>{}$~") or path.startswith(("-", "/")):
            continue
        if path.startswith(TOP) or (FILE.match(path) and "/" in path):
            found.append(path)
    return [target.split("#")[0] for target in found if not target.startswith("#")]


def _exists(doc: Path, target: str) -> bool:
    if target.startswith(MADE):
        return True
    bases = (doc.parent, ROOT, ROOT / "streamviz", ROOT / "js")  # as the docs write module paths
    return any((base / target).exists() for base in bases)


@pytest.mark.parametrize("doc", DOCS, ids=lambda doc: str(doc.relative_to(ROOT)))
def test_every_file_the_docs_name_exists(doc):
    assert doc.exists()
    mentions = _mentions(doc.read_text(encoding="utf-8"))
    missing = [target for target in mentions if not _exists(doc, target)]
    assert missing == [], f"{doc.relative_to(ROOT)} names files that do not exist: {missing}"


def test_the_front_page_links_every_doc_and_the_license():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    linked = set(LINK.findall(readme))
    pages = {f"docs/{page.name}" for page in (ROOT / "docs").glob("*.md")}
    assert pages <= linked, pages - linked
    assert "LICENSE" in linked and (ROOT / "LICENSE").read_text().startswith("MIT License")
