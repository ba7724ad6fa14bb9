"""tools/build_site.py's rewrites, without MkDocs (make site-check builds it)."""

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location(
    "build_site", ROOT / "tools" / "build_site.py"
)
build_site = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_site)

ON_SITE = {"10_llm_impact.ipynb", "12_synergy.ipynb"}


def test_sections_ignore_hash_lines_inside_code():
    text = "# t\nintro\n## A\n```\n## not a heading\n```\n## B\nb\n"
    head, sections = build_site.split_sections(text)
    assert head == "# t\nintro\n"
    assert [title for title, _ in sections] == ["A", "B"]
    assert "## not a heading" in sections[0][1]


def test_notebook_links_point_at_pages_and_repo_files_lose_their_link():
    text = (
        "See [11](12_synergy.ipynb), [part](12_synergy.ipynb#Part-2), "
        "[code](../keras_gen/gan.py), [web](https://keras.io) and [top](#top)."
    )
    assert build_site.rewrite_notebook_links(text, ON_SITE) == (
        "See [11](../12_synergy/), [part](../12_synergy/#Part-2), "
        "code, [web](https://keras.io) and [top](#top)."
    )


def test_readme_links_keep_notebooks_and_drop_other_files():
    text = "[n](notebooks/10_llm_impact.ipynb) [r](benchmarks/RESULTS.md)"
    assert build_site.rewrite_readme_links(text, ON_SITE) == (
        "[n](notebooks/10_llm_impact.ipynb) r"
    )


def test_widget_output_becomes_a_note_and_the_copy_only_changes(tmp_path):
    notebook = {
        "cells": [
            {"cell_type": "markdown", "metadata": {},
             "source": "[x](12_synergy.ipynb)"},
            {
                "cell_type": "code", "metadata": {}, "execution_count": 1,
                "source": "interact(f)",
                "outputs": [{
                    "output_type": "display_data", "metadata": {},
                    "data": {build_site.WIDGET_VIEW: {"model_id": "a"},
                             "text/plain": "interactive(...)"},
                }],
            },
        ],
        "metadata": {"widgets": {"state": {}}},
        "nbformat": 4, "nbformat_minor": 5,
    }  # fmt: skip
    source = tmp_path / "06_x.ipynb"
    source.write_text(json.dumps(notebook))
    before = source.read_text()
    dest = tmp_path / "copy.ipynb"
    assert build_site.copy_notebook(source, dest, ON_SITE) == 1
    assert source.read_text() == before
    copied = json.loads(dest.read_text())
    assert "widgets" not in copied["metadata"]
    html = copied["cells"][1]["outputs"][0]["data"]["text/html"]
    assert build_site.WIDGET_NOTE_CLASS in html and "needs Jupyter" in html
    assert copied["cells"][0]["source"] == "[x](../12_synergy/)"


def test_repeated_heading_ids_are_numbered_like_the_table_of_contents(tmp_path):
    heading = '<h3 id="the-data">The data<a class="anchor-link" href="#the-data">'
    page = tmp_path / "index.html"
    page.write_text(heading + "one" + heading + "two")
    assert build_site.unique_heading_ids(page) == 1
    text = page.read_text()
    assert text.count('id="the-data"') == 1 and 'id="the-data_1"' in text
    assert 'href="#the-data_1"' in text


def test_remote_scripts_and_fonts_are_found(tmp_path):
    (tmp_path / "a.html").write_text('<script src="https://cdn.x/y.js"></script>')
    (tmp_path / "b.css").write_text("@font-face{src:url(https://f.x/a.woff)}")
    (tmp_path / "c.html").write_text('<script src="assets/y.js"></script>')
    found = build_site.remote_assets(tmp_path)
    assert [line.split(":")[0] for line in found] == ["a.html", "b.css"]


def test_pages_cut_from_the_readme(tmp_path):
    on_site = {p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    build_site.write_pages(tmp_path, on_site)
    home = (tmp_path / "index.md").read_text()
    assert "## The notebooks" in home and "(setup.md)" in home
    assert "](notebooks/02_gan.ipynb)" in home  # mkdocs makes it the page's URL
    setup = (tmp_path / "setup.md").read_text()
    assert "## Quick start" in setup and "## Opening the notebooks" in setup
    assert "make test" in setup and "jupyter lab" in setup
    for page in ("index.md", "setup.md", "readme.md"):
        targets = [m.group(2) for m in build_site.MD_LINK.finditer(
            (tmp_path / page).read_text())]
        # Only the web, anchors, the site's pages and notebooks stay links.
        assert all(
            t.startswith(("http", "#", "notebooks/", "setup.md")) for t in targets
        ), (page, targets)


def test_toc_links_missing_a_headings_code_go_to_its_id(tmp_path):
    page = tmp_path / "index.html"
    page.write_text(
        '<a href="#5-all">5</a><a href="#gone">?</a>'
        '<h2 id="5-all-keras-gen-doctor">5. All: <code>keras-gen doctor</code></h2>'
    )
    assert build_site.repair_toc_links(page) == 1
    text = page.read_text()
    assert 'href="#5-all-keras-gen-doctor"' in text and 'href="#gone"' in text
