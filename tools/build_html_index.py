"""Write build/html/index.html (every notebook and its solutions) and point the pages' links at
the rendered pages (NN_slug.ipynb -> NN_slug.html, index.ipynb -> this index.html), for reading offline."""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path

from tools.repository_address import address, colab_url
from tools.series import chapters, read, solution_for, title


def relink(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    text = re.sub(r'href="([^"#:]*?)\.ipynb(#[^"]*)?"', lambda m: f'href="{m.group(1)}.html{m.group(2) or ""}"', text)
    page.write_text(text, encoding="utf-8")


def main(out_dir: str) -> int:
    out = Path(out_dir)
    rows = []
    for path in chapters():
        solutions = solution_for(path)
        solution_link = f' · <a href="solutions/{solutions.stem}.html">solutions</a>' if solutions.exists() else ""
        colab_link = f' · <a href="{html.escape(colab_url(path))}">open in Colab</a>'
        chapter_link = f'<a href="{path.stem}.html">{html.escape(title(read(path)))}</a>'
        rows.append(f"<li>{chapter_link}{solution_link}{colab_link}</li>")
    page = f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Token and positional embeddings</title>
<style>body {{ font: 18px/1.5 sans-serif; max-width: 46em; margin: 3em auto; padding: 0 1em; }}</style>
</head>
<body>
<h1>Token and positional embeddings, step by step</h1>
<p>The notebooks with their stored outputs, for reading without a kernel. To run them, use
<code>make lab</code> in <a href="{html.escape(address())}">the repository</a>, or open one in Colab.</p>
<ol>
{chr(10).join(rows)}
</ol>
</body>
</html>
"""
    (out / "index.html").write_text(page, encoding="utf-8")
    for rendered in out.glob("*.html"):
        if rendered.name != "index.html":
            relink(rendered)
    for rendered in (out / "solutions").glob("*.html"):
        relink(rendered)
    print(f"==> {out / 'index.html'}: {len(rows)} notebooks")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
