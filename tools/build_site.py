"""Build the course website into site/ from README.md and the stored notebooks.

Nothing is written twice by hand: the home page (the course map), the set-up
page and the README page are cut from README.md, and each notebook page is
the notebook as `make notebooks` stored it (never re-executed). The notebooks
are copied into a build folder first, and only the copies change:

- a link from one notebook to another (`12_synergy.ipynb`) becomes a link to
  that notebook's page (`../12_synergy/`); a link to a file of the repository
  that is not on the site keeps its text and loses its link;
- a widget output (notebook 06's sliders), which no static page can run, is
  replaced by a note saying that the live version needs Jupyter and where the
  static figure beside it is; the saved widget state is dropped, so no page
  loads the widget manager from a CDN.

Then it runs `mkdocs build --strict` with docs/mkdocs.yml (why MkDocs: see the
comment at its top) and checks that no built page loads a script, style sheet
or font from the network.

    python tools/build_site.py            # writes site/ (about 20 s)
    python tools/build_site.py --out /tmp/site
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"

# README sections that tell a learner how to set the course up.
SETUP_TITLE = re.compile(
    r"quick start|set.?up|install|without .?make|windows|macos|colab|doctor"
    r"|^data\b",
    re.IGNORECASE,
)
# Paragraphs of the course map that say how to open the notebooks.
OPENING = re.compile(r"^\*\*Colab\*\*|jupyter lab", re.IGNORECASE)
MD_LINK = re.compile(r"(?<!!)\[([^\]\n]*)\]\(([^)\s]+)\)")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE_CLASS = "kg-widget-note"


def split_sections(markdown: str) -> tuple[str, list[tuple[str, str]]]:
    """Split markdown at its `## ` headings, ignoring `#` lines inside code.

    Returns:
        The text before the first `## ` heading, and (title, text) pairs, each
        text starting with its heading line.
    """
    head: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    fenced = False
    for line in markdown.splitlines(keepends=True):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("## "):
            sections.append((line[3:].strip(), [line]))
        elif sections:
            sections[-1][1].append(line)
        else:
            head.append(line)
    return "".join(head), [(t, "".join(lines)) for t, lines in sections]


def rewrite_readme_links(markdown: str, on_site: set[str]) -> str:
    """Keep links to the web and to notebook pages; unlink other repo files."""

    def fix(match: re.Match) -> str:
        text, target = match.group(1), match.group(2)
        path = target.split("#", 1)[0]
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            return match.group(0)
        if path.startswith("notebooks/") and Path(path).name in on_site:
            return match.group(0)  # mkdocs turns it into the page's URL
        return text

    return MD_LINK.sub(fix, markdown)


def rewrite_notebook_links(markdown: str, on_site: set[str]) -> str:
    """Point `NN_name.ipynb` links at their pages; unlink other repo files."""

    def fix(match: re.Match) -> str:
        text, target = match.group(1), match.group(2)
        path, _, anchor = target.partition("#")
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            return match.group(0)
        name = Path(path).name
        if path.endswith(".ipynb") and name in on_site:
            page = f"../{Path(name).stem}/" + (f"#{anchor}" if anchor else "")
            return f"[{text}]({page})"
        return text

    return MD_LINK.sub(fix, markdown)


def widget_note(notebook_name: str) -> dict:
    """The output that stands in for a widget on the static page."""
    html = (
        f'<div class="admonition note {WIDGET_NOTE_CLASS}">'
        '<p class="admonition-title">The live version needs Jupyter</p>'
        "<p>This cell's sliders run Python in a live kernel, which a web page "
        "does not have, so they are not shown here. Open the notebook in "
        f"JupyterLab (<code>jupyter lab notebooks/{notebook_name}</code>) to "
        "move them; the static figure above the sliders shows what they do "
        "across their whole range.</p></div>"
    )
    return {
        "output_type": "display_data",
        "metadata": {},
        "data": {"text/html": html, "text/plain": "(sliders: open in Jupyter)"},
    }


def copy_notebook(source: Path, dest: Path, on_site: set[str]) -> int:
    """Copy one notebook for the site; return how many widgets it replaced."""
    notebook = json.loads(source.read_text(encoding="utf-8"))
    notebook.get("metadata", {}).pop("widgets", None)
    replaced = 0
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            text = "".join(cell["source"])
            cell["source"] = rewrite_notebook_links(text, on_site)
        outputs = []
        for output in cell.get("outputs", []):
            if WIDGET_VIEW in output.get("data", {}):
                outputs.append(widget_note(source.name))
                replaced += 1
            else:
                outputs.append(output)
        if "outputs" in cell:
            cell["outputs"] = outputs
    dest.write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    return replaced


def notebook_title(path: Path) -> str:
    """The notebook's first `# ` heading, or its file name."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return path.stem


def write_pages(docs: Path, on_site: set[str]) -> None:
    """Home (course map), set-up and README pages, cut from README.md."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    readme = rewrite_readme_links(readme, on_site)
    intro, sections = split_sections(readme)
    course_map = [text for title, text in sections if title == "The notebooks"]
    if not course_map:
        raise ValueError(
            "README.md has no '## The notebooks' section, which the home page "
            "shows as the course map. Received sections: "
            f"{[title for title, _ in sections]}"
        )
    setup = [text for title, text in sections if SETUP_TITLE.search(title)]
    opening = [
        part for part in course_map[0].split("\n\n") if OPENING.search(part.strip())
    ]
    if opening:
        setup.insert(1, "## Opening the notebooks\n\n" + "\n\n".join(opening) + "\n")
    home = (
        intro.rstrip()
        + "\n\nNew here? [Set up the course](setup.md) first, then open the "
        "notebooks in order. Every page below shows a notebook as it ran on "
        "the project's 2-core CPU, with its figures, tables and sound.\n\n"
        + course_map[0]
    )
    (docs / "index.md").write_text(home, encoding="utf-8")
    (docs / "setup.md").write_text(
        "# Set up the course\n\n" + "\n".join(setup), encoding="utf-8"
    )
    (docs / "readme.md").write_text(readme, encoding="utf-8")


HEADING = re.compile(
    r'<h([1-6]) id="([^"]+)">([^<]*)<a class="anchor-link" href="#\2">'
)


def unique_heading_ids(page: Path) -> int:
    """Number repeated heading ids as the page's table of contents does.

    Two headings with one title ("The data" twice in notebook 07) get one id
    from nbconvert, while the table of contents links the second as
    `#the-data_1`; renaming the second (and so on) makes those links work.
    Returns how many ids were renamed.
    """
    seen: dict[str, int] = {}

    def rename(match: re.Match) -> str:
        level, ident, title = match.groups()
        count = seen.get(ident, 0)
        seen[ident] = count + 1
        if count == 0:
            return match.group(0)
        new = f"{ident}_{count}"
        return f'<h{level} id="{new}">{title}<a class="anchor-link" href="#{new}">'

    text = page.read_text(encoding="utf-8")
    fixed = HEADING.sub(rename, text)
    if fixed != text:
        page.write_text(fixed, encoding="utf-8")
    return sum(count - 1 for count in seen.values())


def repair_toc_links(page: Path) -> int:
    """Point table-of-contents links at the headings' real ids.

    For a heading with code in it ("5. All of this in one command:
    `keras-gen doctor`") the table of contents drops the code from its slug
    (`#5-all-of-this-in-one-command`) while the heading's id keeps it
    (`5-all-of-this-in-one-command-keras-gen-doctor`). A link whose target is
    missing goes to the one id that starts with it. Returns how many links
    were changed.
    """
    text = page.read_text(encoding="utf-8")
    ids = set(re.findall(r'\bid="([^"]+)"', text))
    changed = 0

    def fix(match: re.Match) -> str:
        nonlocal changed
        target = match.group(1)
        if target in ids:
            return match.group(0)
        longer = [i for i in ids if i.startswith(target + "-")]
        if len(longer) != 1:
            return match.group(0)
        changed += 1
        return f'href="#{longer[0]}"'

    fixed = re.sub(r'href="#([^"]+)"', fix, text)
    if changed:
        page.write_text(fixed, encoding="utf-8")
    return changed


REMOTE = re.compile(
    r"""<script[^>]+src=["'](?:https?:)?//"""
    r"""|<link[^>]+rel=["']stylesheet["'][^>]+href=["'](?:https?:)?//"""
    r"""|<link[^>]+href=["'](?:https?:)?//[^"']+["'][^>]+rel=["']stylesheet"""
    r"""|@import\s+url\(["']?(?:https?:)?//"""
    r"""|@font-face[^}]*url\(["']?(?:https?:)?//""",
    re.IGNORECASE,
)


def remote_assets(site: Path) -> list[str]:
    """Built files that load a script, style sheet or font from the web."""
    found = []
    for path in sorted(site.rglob("*")):
        if path.suffix in (".html", ".css") and path.is_file():
            match = REMOTE.search(path.read_text(encoding="utf-8", errors="replace"))
            if match:
                found.append(f"{path.relative_to(site)}: {match.group(0)[:80]}")
    return found


def vendor_mathjax(docs: Path) -> str:
    """Copy MathJax 2 from jupyter-server-mathjax; return its URL on the pages.

    The notebooks' equations need MathJax, which nbconvert would load from a
    CDN. The copy is Jupyter's own (the `site` extra installs it).
    """
    import jupyter_server_mathjax

    static = Path(jupyter_server_mathjax.__file__).parent / "static"
    target = docs / "assets" / "mathjax"
    shutil.copytree(static, target)
    # That copy holds the STIX-Web fonts only (as the classic Notebook used
    # it): say so, or MathJax asks for its TeX fonts and gets 404s.
    (target / "config" / "local").mkdir(parents=True, exist_ok=True)
    (target / "config" / "local" / "keras_gen.js").write_text(
        'MathJax.Hub.Config({"HTML-CSS": {availableFonts: [], imageFont: null,'
        ' preferredFont: null, webFont: "STIX-Web"}, SVG: {font: "STIX-Web"}});\n'
        'MathJax.Ajax.loadComplete("[MathJax]/config/local/keras_gen.js");\n'
    )
    # Every notebook page is two folders down: notebooks/NN_name/index.html.
    return (
        "../../assets/mathjax/MathJax.js"
        "?config=TeX-AMS-MML_HTMLorMML-full,Safe,local/keras_gen"
    )


def build(out: Path, work: Path) -> None:
    """Write the pages and notebook copies into `work`, then build `out`."""
    if work.exists():
        shutil.rmtree(work)
    docs = work / "docs"
    (docs / "notebooks").mkdir(parents=True)
    notebooks = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    on_site = {path.name for path in notebooks}
    nav_notebooks = []
    replaced = 0
    for path in notebooks:
        replaced += copy_notebook(path, docs / "notebooks" / path.name, on_site)
        nav_notebooks.append({notebook_title(path): f"notebooks/{path.name}"})
    write_pages(docs, on_site)
    shutil.copy(ROOT / "docs" / "extra.css", docs / "extra.css")
    import yaml  # the `site` extra's (mkdocs needs it), imported when building

    config = yaml.safe_load((ROOT / "docs" / "mkdocs.yml").read_text())
    for plugin in config["plugins"]:
        if isinstance(plugin, dict) and "mkdocs-jupyter" in plugin:
            plugin["mkdocs-jupyter"]["custom_mathjax_url"] = vendor_mathjax(docs)
    config.update(
        docs_dir=str(docs),
        site_dir=str(out.resolve()),
        nav=[
            {"Home": "index.md"},
            {"Set up": "setup.md"},
            {"Notebooks": nav_notebooks},
            {"README": "readme.md"},
        ],
    )
    config_path = work / "mkdocs.yml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--clean",
               "--quiet", "-f", str(config_path)]
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    subprocess.run(command, check=True, cwd=work, env=env)
    for page in (out / "notebooks").glob("*/index.html"):
        unique_heading_ids(page)
        repair_toc_links(page)
    remote = remote_assets(out)
    if remote:
        raise RuntimeError(
            "The built site loads files from the web, so it would not render "
            f"offline. Received: {remote}. Switch the option off in "
            "docs/mkdocs.yml or vendor the file."
        )
    print(
        f"Built {len(notebooks)} notebook pages ({replaced} widget output(s) "
        f"replaced by a note) and 3 pages from README.md into {out}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "site")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "site-src")
    args = parser.parse_args(argv)
    build(args.out, args.work)


if __name__ == "__main__":
    main()
