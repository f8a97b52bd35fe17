"""MkDocs hooks: the command-line page gets every command's `--help`, generated from the parser."""

from __future__ import annotations

import contextlib
import io

MARKER = "<!-- cli-help -->"


def _help(parser) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        parser.print_help()
    return out.getvalue()


def cli_reference() -> str:
    """Markdown: the top-level help, then one section per subcommand."""
    import argparse

    from jaxcollapse.cli import _parser

    parser = _parser()
    blocks = [f"### `jaxcollapse`\n\n```\n{_help(parser)}```\n"]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                blocks.append(f"### `jaxcollapse {name}`\n\n```\n{_help(sub)}```\n")
    return "\n".join(blocks)


def on_page_markdown(markdown, page, config, files):  # noqa: ARG001 (the hook's signature)
    if MARKER in markdown:
        return markdown.replace(MARKER, cli_reference())
    return markdown


def walk_public(module, prefix, methods=True):
    """(dotted name, object) of every public name under `module`: its `__all__`, followed into
    public subpackages and modules, and the public methods and properties of public classes (the
    docstring test, `tests/test_docstrings.py`, checks every one of them)."""
    import inspect

    for name in module.__all__:
        obj = getattr(module, name)
        full = f"{prefix}.{name}"
        if inspect.ismodule(obj):
            yield full, obj
            yield from walk_public(obj, full, methods)
        elif inspect.isclass(obj) or callable(obj):
            yield full, obj
            if methods and inspect.isclass(obj):
                for attr, value in vars(obj).items():
                    if attr.startswith("_"):
                        continue
                    if inspect.isfunction(value) or isinstance(value, (property, classmethod, staticmethod)):
                        yield f"{full}.{attr}", value


def public_names() -> dict[str, object]:
    """The names the API page must give an anchor: the classes and functions of `walk_public` that
    jaxcollapse defines (not their methods, which are rendered inside them; constants, and aliases
    such as a dtype, are documented in their module's docstring)."""
    import inspect

    import jaxcollapse

    return {
        name: obj
        for name, obj in walk_public(jaxcollapse, "jaxcollapse", methods=False)
        if not inspect.ismodule(obj) and getattr(obj, "__module__", "").startswith("jaxcollapse")
    }


def missing_anchors(html: str) -> list[str]:
    """The public names with no anchor in `html` (a name re-exported elsewhere, as `jc.History` is
    `jc.nn.History`, is covered by an anchor of any of its names)."""
    import re

    anchors = set(re.findall(r'id="(jaxcollapse[\w.]*)"', html))
    names = public_names()
    aliases = {}
    for name, obj in names.items():
        aliases.setdefault(id(obj), set()).add(name)
    return [name for name, obj in names.items() if not aliases[id(obj)] & anchors]


def link_figures(html: str) -> str:
    """Every image not already inside a link becomes a link to itself (class `figure`: full width,
    a click shows it at full size)."""
    import re

    out, depth, last = [], 0, 0
    for m in re.finditer(r"<a\b[^>]*>|</a>|<img\b[^>]*>", html):
        tag = m.group(0)
        if tag.startswith("<img"):
            src = re.search(r"\bsrc=[\"']([^\"']+)", tag)
            if depth == 0 and src:
                out.append(html[last : m.start()])
                out.append(f'<a class="figure" href="{src.group(1)}">{tag}</a>')
                last = m.end()
        elif tag == "</a>":
            depth = max(depth - 1, 0)
        else:
            depth += 1
    out.append(html[last:])
    return "".join(out)


def on_page_content(html, page, config, files):  # noqa: ARG001 (the hook's signature)
    """Figures link to themselves; the API page must give every public name its own anchor (else
    the strict build fails)."""
    html = link_figures(html)
    if page.file.src_uri != "api.md":
        return html
    from mkdocs.exceptions import PluginError

    missing = missing_anchors(html)
    if missing:
        raise PluginError(f"the API reference has no entry for {missing}")
    return html


def external_requests(text: str) -> list[str]:
    """The addresses on another host that a browser would fetch by itself to show `text` (HTML or
    CSS): scripts, stylesheets, fonts, images, frames and CSS imports — not links a reader follows."""
    import re

    fetched = re.findall(r"<(?:script|img|iframe|source|audio|video)\b[^>]*\bsrc=[\"']((?:https?:)?//[^\"']+)", text)
    for tag in re.findall(r"<link\b[^>]*>", text):
        rel = re.search(r"\brel=[\"']([^\"']*)", tag)
        href = re.search(r"\bhref=[\"']((?:https?:)?//[^\"']+)", tag)
        if href and not (rel and rel.group(1).strip() in ("canonical", "alternate")):
            fetched.append(href.group(1))
    fetched += re.findall(r"(?:@import\s+(?:url\()?|url\()\s*[\"']?((?:https?:)?//[^\"')\s]+)", text)
    return fetched


def on_post_page(output, page, config):  # noqa: ARG001 (the hook's signature)
    """No page may make the browser fetch from another host (the site must work offline)."""
    from mkdocs.exceptions import PluginError

    found = external_requests(output)
    if found:
        raise PluginError(f"{page.file.src_uri} fetches from other hosts: {sorted(set(found))}")
    return output


def on_post_build(config):
    """Nor may a stylesheet of the built site (fonts and imports from elsewhere)."""
    import pathlib

    from mkdocs.exceptions import PluginError

    for css in pathlib.Path(config["site_dir"]).rglob("*.css"):
        found = external_requests(css.read_text(errors="replace"))
        if found:
            raise PluginError(f"{css.name} fetches from other hosts: {sorted(set(found))}")
