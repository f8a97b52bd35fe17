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


def public_names() -> dict[str, object]:
    """Every public name: the `__all__` of `jaxcollapse` and of its public subpackages and modules,
    followed recursively: the classes and functions defined in jaxcollapse (constants, and aliases
    such as a dtype, are documented in their module's docstring)."""
    import inspect

    import jaxcollapse

    names = {}

    def walk(module, prefix):
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.ismodule(obj):
                walk(obj, f"{prefix}.{name}")
            elif (inspect.isclass(obj) or callable(obj)) and getattr(obj, "__module__", "").startswith("jaxcollapse"):
                names[f"{prefix}.{name}"] = obj

    walk(jaxcollapse, "jaxcollapse")
    return names


def on_page_content(html, page, config, files):  # noqa: ARG001 (the hook's signature)
    """The API page must give every public name its own anchor (else the strict build fails)."""
    if page.file.src_uri != "api.md":
        return html
    import re

    from mkdocs.exceptions import PluginError

    anchors = set(re.findall(r'id="(jaxcollapse[\w.]*)"', html))

    names = public_names()
    # a name re-exported elsewhere (jc.History is jc.nn.History) is covered by any of its names
    aliases = {}
    for name, obj in names.items():
        aliases.setdefault(id(obj), set()).add(name)
    missing = [name for name, obj in names.items() if not aliases[id(obj)] & anchors]
    if missing:
        raise PluginError(f"the API reference has no entry for {missing}")
    return html
