"""Checks the built book as headless Chromium renders it (run by check_browser.sh).

Every page of the book is loaded from the local server with
`chromium --headless --dump-dom`, and the DOM the browser built (after the
book's own JavaScript ran: the sidebar, the highlighted code) is parsed with
html.parser. It fails on:

  - a link to a page or file that the server does not have;
  - a link to `page#id` where the rendered page has no element with that id,
    or two elements with one id on a page (an SVG's markers, say);
  - an image, stylesheet or script that the server does not have;
  - an include that rendered nothing or was left as is: a literal `{{#` in
    the page, an empty code block, table or inline SVG, or fewer inline SVGs
    than the chapter has `{{#include ....svg}}` lines.

Then it takes screenshots of a few pictures, in the light theme and in the
dark one (Chromium's --force-dark-mode, which mdBook's "Auto" theme follows
with its preferred dark theme, navy).

Usage: check_browser.py BOOK_HTML_DIR BOOK_SRC_DIR BASE_URL SHOT_DIR
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlparse

CHROMIUM = os.environ.get("CHROMIUM", "chromium")
JOBS = 2

# Screenshots: (file name, page, id of the picture's <title>). The shot page
# starts at the paragraph that introduces the picture.
SHOTS = [
    ("ch02-lost-wakeup", "ch02-blocking.html", "ch02-lost-wakeup-title"),
    ("ch06-pipeline", "ch06-pipeline.html", "ch06-pipeline-title"),
    ("ch13-ring-timeline", "ch13-ring.html", "ring-timeline-title"),
]


def chromium(*args, timeout=60):
    """Runs headless Chromium with a profile of its own, so that no theme
    or other state is kept from one page to the next; returns stdout."""
    profile = tempfile.mkdtemp(prefix="check-browser-profile-")
    try:
        result = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
             "--hide-scrollbars", "--no-first-run", "--virtual-time-budget=3000",
             f"--user-data-dir={profile}", *args],
            capture_output=True, text=True, timeout=timeout, check=False,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    if result.returncode != 0:
        raise RuntimeError(f"chromium {' '.join(args)} exited with "
                           f"{result.returncode}:\n{result.stderr[-2000:]}")
    return result.stdout


class Page(HTMLParser):
    """What one rendered page holds: ids, references, and include residue."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids = set()
        self.links = []      # (tag, url) to follow, with an optional #fragment
        self.resources = []  # (tag, url) that must exist
        self.problems = []
        self.in_main = False
        self.svg_depth = 0
        self.top_svgs = 0  # inline SVGs in <main>, not mdBook's own icons
        self.in_button = 0
        self.svg_children = 0
        self.in_code = 0
        self.code_text = ""
        self.in_pre = 0
        self.tables = []     # cell counts
        self.skip = 0        # inside <script>/<style>

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            if a["id"] in self.ids:
                self.problems.append(f"two elements with id {a['id']!r}")
            self.ids.add(a["id"])
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])
        if tag in ("a", "area") and a.get("href") is not None:
            self.links.append((tag, a["href"]))
        elif tag in ("img", "script", "source", "iframe") and a.get("src"):
            self.resources.append((tag, a["src"]))
        elif tag == "link" and a.get("href"):
            self.resources.append((tag, a["href"]))
        elif tag == "image" and (a.get("href") or a.get("xlink:href")):
            self.resources.append((tag, a.get("href") or a.get("xlink:href")))
        if tag == "main":
            self.in_main = True
        if tag == "button":
            self.in_button += 1
        if tag == "svg":
            if self.svg_depth == 0 and self.in_main and not self.in_button and not self.in_pre:
                self.top_svgs += 1
                self.svg_children = 0
            self.svg_depth += 1
        elif self.svg_depth:
            self.svg_children += 1
        if tag == "pre":
            self.in_pre += 1
        if tag == "code" and self.in_pre:
            self.in_code += 1
            self.code_text = ""
        if tag == "table":
            self.tables.append(0)
        if tag == "td" and self.tables:
            self.tables[-1] += 1
        if tag in ("script", "style"):
            self.skip += 1

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag == "main":
            self.in_main = False
        if tag == "button" and self.in_button:
            self.in_button -= 1
        if tag == "svg" and self.svg_depth:
            self.svg_depth -= 1
            if self.svg_depth == 0 and self.svg_children == 0:
                self.problems.append("an inline <svg> with nothing inside")
        if tag == "code" and self.in_code:
            self.in_code -= 1
            if not self.code_text.strip():
                self.problems.append("an empty code block (an include that rendered nothing?)")
        if tag == "pre" and self.in_pre:
            self.in_pre -= 1
        if tag == "table" and self.tables and self.tables[-1] == 0:
            self.problems.append("a table without cells")
        if tag in ("script", "style") and self.skip:
            self.skip -= 1

    def handle_data(self, data):
        if self.in_code:
            self.code_text += data
        if not self.skip and "{{#" in data:
            line = next(l for l in data.splitlines() if "{{#" in l)
            self.problems.append(f"a directive left in the text: {line.strip()[:80]!r}")


def svg_includes(src_dir, page):
    """How many `{{#include ....svg}}` lines the page's chapter has."""
    md = os.path.join(src_dir, page[:-len(".html")] + ".md")
    if not os.path.exists(md):
        return 0
    with open(md, encoding="utf-8") as f:
        return len(re.findall(r"^\{\{#include [^}]+\.svg\}\}\s*$", f.read(), re.M))


def exists_on_server(url, cache={}):
    if url not in cache:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                cache[url] = response.status == 200
        except (urllib.error.URLError, OSError):
            cache[url] = False
    return cache[url]


def shoot(base, root, shot_dir, name, page, title_id):
    """Writes NAME-light.png and NAME-dark.png: PAGE, starting at the paragraph
    before the picture whose <title> has id TITLE_ID, in both themes."""
    with open(os.path.join(root, page), encoding="utf-8") as f:
        html = f.read()
    # Removes what comes before the picture, in the browser, once the page has
    # been laid out with the book's own CSS and JavaScript.
    trim = f"""<script>
(function () {{
  const title = document.getElementById({title_id!r});
  if (!title) {{ document.title = "NO PICTURE"; return; }}
  const main = document.querySelector("main");
  let el = title.closest("svg");
  while (el.parentElement !== main) el = el.parentElement;
  const first = el.previousElementSibling || el;
  while (main.firstChild !== first) main.removeChild(main.firstChild);
}})();
</script>
</body>"""
    shot_page = f".check-browser-{name}.html"
    with open(os.path.join(root, shot_page), "w", encoding="utf-8") as f:
        f.write(html.replace("</body>", trim, 1))
    try:
        for theme, flags in (("light", []), ("dark", ["--force-dark-mode"])):
            dom = chromium("--dump-dom", *flags, base + shot_page)
            html_tag = dom[:dom.find(">", dom.find("<html")) + 1]
            if "NO PICTURE" in dom[:2000] or (theme == "dark") != ("navy" in html_tag):
                raise RuntimeError(f"{page}: no picture titled {title_id!r}, "
                                   f"or not in the {theme} theme")
            out = os.path.join(shot_dir, f"{name}-{theme}.png")
            chromium(f"--screenshot={out}", "--window-size=1200,1600", *flags,
                     base + shot_page)
            if not os.path.getsize(out):
                raise RuntimeError(f"empty screenshot {out}")
    finally:
        os.remove(os.path.join(root, shot_page))


def main():
    root, src_dir, base, shot_dir = sys.argv[1:5]
    base = base.rstrip("/") + "/"
    pages = sorted(p for p in os.listdir(root) if p.endswith(".html"))
    print(f"  loading {len(pages)} pages in Chromium")

    def load(page):
        parser = Page()
        parser.feed(chromium("--dump-dom", base + page))
        parser.close()
        return page, parser

    with ThreadPoolExecutor(JOBS) as pool:
        dom = dict(pool.map(load, pages))

    problems = []
    checked = 0
    for page, parsed in dom.items():
        url = base + page
        for problem in parsed.problems:
            problems.append(f"{page}: {problem}")
        wanted = svg_includes(src_dir, page)
        if parsed.top_svgs < wanted:
            problems.append(f"{page}: {parsed.top_svgs} inline SVGs, but the chapter "
                            f"includes {wanted}")
        for tag, ref in parsed.links + parsed.resources:
            target = urljoin(url, ref)
            if urlparse(target).netloc != urlparse(base).netloc:
                continue  # external, or mailto:/javascript:
            checked += 1
            target, fragment = urldefrag(target)
            path = urlparse(target).path[len(urlparse(base).path):] or "index.html"
            if not exists_on_server(target):
                problems.append(f"{page}: <{tag}> {ref}: no such file ({path})")
            elif fragment and tag in ("a", "area"):
                if path not in dom:
                    problems.append(f"{page}: <{tag}> {ref}: #{fragment} on a file that is not a page")
                elif fragment not in dom[path].ids:
                    problems.append(f"{page}: <{tag}> {ref}: no id {fragment!r} on {path}")
    print(f"  {checked} internal links and resources checked")
    if problems:
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        print(f"check_browser: FAILED: {len(problems)} problems (listed above)", file=sys.stderr)
        sys.exit(1)

    os.makedirs(shot_dir, exist_ok=True)
    try:
        with ThreadPoolExecutor(JOBS) as pool:
            list(pool.map(lambda shot: shoot(base, root, shot_dir, *shot), SHOTS))
    except RuntimeError as error:
        print(f"check_browser: FAILED: {error}", file=sys.stderr)
        sys.exit(1)
    print(f"  screenshots, light and dark (navy): {shot_dir}/")
    for name, _, _ in SHOTS:
        print(f"    {name}-light.png  {name}-dark.png")


if __name__ == "__main__":
    main()
