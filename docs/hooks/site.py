"""MkDocs hooks for the documentation site (mkdocs.yml `hooks:`; not a page of the site).

Two things the Markdown of this repository needs that MkDocs does not do by itself:

- Doctest examples in docstrings (`>>> ...` right in the text, as `pytest --doctest-modules`
  runs them) become `pycon` code blocks. As plain Markdown they would render as nested quotes,
  and an output line like `['sessionStart']` as a broken cross-reference.
- Links to files outside `docs/` (`../examples/section6.toml`, or `playersim/mca/states.py` in
  CONTRIBUTING.md, which is written for the repository root and included in a page) point to
  the file in the source repository (`repo_url`), and links from an included root file to a
  page (`docs/testing.md`) to that page. On GitHub the same links work as written;
  tests/test_readme.py checks that every one names a file that exists.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element

from markdown import Extension, Markdown
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor

ROOT = Path(__file__).resolve().parent.parent.parent
FENCE = re.compile(r"^\s*(```|~~~)")
DOCTEST = re.compile(r"^(\s*)>>> ")

# The page being rendered (MkDocs renders one page at a time): links are resolved from it.
_page_src: list[str] = ["index.md"]


class DoctestBlocks(Preprocessor):
    """Fence each run of doctest lines (from `>>>` to the next blank line) as `pycon`."""

    def run(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        in_fence = False
        in_doctest = False
        for line in lines:
            if in_doctest and not line.strip():
                out += ["```", ""]
                in_doctest = False
                continue
            if not in_doctest and FENCE.match(line):
                in_fence = not in_fence
            elif not in_fence and not in_doctest and (start := DOCTEST.match(line)):
                if out and out[-1].strip():
                    out.append("")
                out.append(f"{start.group(1)}```pycon")
                in_doctest = True
            out.append(line)
        if in_doctest:
            out.append("```")
        return out


class RepositoryLinks(Treeprocessor):
    """Point links to files outside docs/ at the source repository (see the module docstring)."""

    def __init__(self, md: Markdown, repo_url: str) -> None:
        super().__init__(md)
        self.blob = repo_url.rstrip("/") + "/blob/main/"
        self.tree = repo_url.rstrip("/") + "/tree/main/"

    def run(self, root: Element) -> None:
        page_dir = posixpath.dirname(_page_src[0])
        for link in root.iter("a"):
            href = link.get("href", "")
            scheme, netloc, path, _, fragment = urlsplit(href)
            if scheme or netloc or not path or path.startswith("/"):
                continue
            new = self.rewrite(page_dir, path)
            if new is not None:
                link.set("href", new + (f"#{fragment}" if fragment else ""))

    def rewrite(self, page_dir: str, path: str) -> str | None:
        # Relative to the page, as written in a page of docs/; else relative to the repository
        # root, as written in a root file a page includes (CONTRIBUTING.md, CHANGELOG.md).
        for written in (posixpath.join("docs", page_dir, path), path):
            target = posixpath.normpath(written)
            if target.startswith("..") or not (ROOT / target).exists():
                continue
            if target.startswith("docs/"):
                return posixpath.relpath(target, posixpath.join("docs", page_dir))
            return self.repository(target)
        return None  # MkDocs reports it

    def repository(self, path: str) -> str:
        if (ROOT / path).is_dir():
            return self.tree + path.rstrip("/")
        return self.blob + path


class SiteExtension(Extension):
    def __init__(self, repo_url: str) -> None:
        super().__init__()
        self.repo_url = repo_url

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Python-Markdown's name)
        # After pymdownx.snippets (32) has included files, before superfences (25) reads fences.
        md.preprocessors.register(DoctestBlocks(md), "playersim_doctest_blocks", 27)
        # Before MkDocs checks and rewrites relative links ("relpath", 0).
        md.treeprocessors.register(
            RepositoryLinks(md, self.repo_url), "playersim_repository_links", 0.5
        )


def on_config(config: Any) -> Any:
    # The same list object mkdocstrings hands to its docstring renderer: docstrings get it too.
    config.markdown_extensions.append(SiteExtension(config.repo_url))
    return config


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    _page_src[0] = page.file.src_uri
    return markdown
