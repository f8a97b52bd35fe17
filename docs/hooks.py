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
