"""The README is the front door and the docs site holds the rest (issue 22): what they share must
not drift. (`make docs-check`, run by CI, builds the site strictly: broken links and references
fail there; every public name's docstring is checked in `test_docstrings.py`.)"""

import pathlib
import re

ROOT = pathlib.Path(__file__).parent.parent


def test_readme_lists_every_experiment_as_the_command_does():
    from jaxcollapse.experiments import EXPERIMENTS

    readme = (ROOT / "README.md").read_text()
    rows = re.findall(r"(?m)^\| `([a-z0-9-]+)` \| (.+) \|$", readme)
    assert [name for name, _ in rows] == list(EXPERIMENTS)
    for name, text in rows:
        assert text == EXPERIMENTS[name].DESCRIPTION, name


def test_every_page_in_the_nav_exists_and_every_page_is_in_the_nav():
    config = (ROOT / "mkdocs.yml").read_text()
    nav = re.findall(r"(?m)^\s+- [^:\n]+: ([\w/.-]+\.md)$", config)
    assert len(nav) >= 12 and len(set(nav)) == len(nav)
    pages = {str(p.relative_to(ROOT / "docs")) for p in (ROOT / "docs").rglob("*.md") if "vendor" not in p.parts}
    assert set(nav) <= pages
    assert pages - set(nav) == {"rf-any-spectrum-tables.md"}  # a data table linked from a guide


def test_the_cli_page_is_generated_from_the_parser():
    from _docs_hooks import hooks

    text = hooks.cli_reference()
    for command in ("list", "run", "sweep", "bench", "fit"):
        assert f"### `jaxcollapse {command}`" in text
    assert "--float32" in text and "--resample" in text  # options of `run` and of `fit`
    page = (ROOT / "docs" / "cli.md").read_text()
    assert hooks.MARKER in page and hooks.on_page_markdown(page, None, None, None).count("```") >= 12


def test_the_api_page_check_finds_a_name_without_an_anchor():
    from _docs_hooks import hooks

    names = hooks.public_names()
    assert len(names) > 90 and "jaxcollapse.fit" in names and "jaxcollapse.tails.cut" in names
    every = "".join(f'<h4 id="{name}">' for name in names)
    assert hooks.missing_anchors(every) == []
    assert hooks.missing_anchors(every.replace('id="jaxcollapse.compress"', "")) == ["jaxcollapse.compress"]
    # a re-exported name is covered by its other name: jc.History is documented as jc.nn.History
    assert hooks.missing_anchors(every.replace('id="jaxcollapse.History"', "")) == []


def test_the_site_check_finds_requests_to_other_hosts():
    from _docs_hooks import hooks

    page = (
        '<link rel="stylesheet" href="assets/main.css"><script src="assets/app.js"></script>'
        '<a href="https://arxiv.org/abs/2410.04840">a paper</a><link rel="canonical" href="https://example.org/">'
    )
    assert hooks.external_requests(page) == []  # local assets and links a reader follows
    fonts = '<link rel="preconnect" href="https://fonts.gstatic.com" crossorigin>'
    assert hooks.external_requests(page + fonts) == ["https://fonts.gstatic.com"]
    assert hooks.external_requests('<script src="//cdn.example/x.js"></script>') == ["//cdn.example/x.js"]
    assert hooks.external_requests("@import url('https://fonts.googleapis.com/css?family=Roboto');") == [
        "https://fonts.googleapis.com/css?family=Roboto"
    ]
    assert hooks.external_requests("src: url(fonts/KaTeX_Main.woff2) format('woff2')") == []


def test_figures_link_to_themselves_and_links_stay():
    from _docs_hooks import hooks

    page = '<p><img alt="x" src="a.png"></p><a href="y.html"><img src="b.png"></a><p><img src="c.png" /></p>'
    assert hooks.link_figures(page) == (
        '<p><a class="figure" href="a.png"><img alt="x" src="a.png"></a></p>'
        '<a href="y.html"><img src="b.png"></a>'  # already a link: left as it is
        '<p><a class="figure" href="c.png"><img src="c.png" /></a></p>'
    )
