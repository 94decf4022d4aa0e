"""The notebooks as a person uses them: JupyterLab in a real (headless) Chromium.

Run with `make test-browser`. For every notebook, a copy is opened in JupyterLab, its outputs are
cleared, all cells are run, and the page is checked: cells ran 1..N, key values are shown, the only
errors are in cells tagged raises-exception, every figure rendered. In interactive mode
(`%matplotlib widget`) no figure has a "Figure N" header, and a 3D figure is dragged: its canvas must
change, and no tick or axis label may run under its title.
Screenshots go to build/browser/.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tools.series import NOTEBOOK_DIR, RAISES, REPO_ROOT, chapters, code_cells, number, read, tags

NOTEBOOKS = chapters()
# Opened in rotatable mode and dragged: 01 (the first 3D figure), 07 (a 2D figure, and a 3D one with a colorbar).
ROTATED = [NOTEBOOKS[0], NOTEBOOKS[6]]
SCREENSHOTS = REPO_ROOT / "build" / "browser"
# What a reader must see on the page for each notebook (beyond "it ran").
KEY_VALUES = {
    "01": ["0.3374, -0.1778, -0.1690", "-2.8400, -0.7849, -1.4096", "requires_grad=True", "std 0.0200"],
    "02": [
        "-0.4015,  0.9666, -1.1481",
        "EmbeddingBackward0",
        "index out of range in self",
        "tensor([-2.8400, -0.7849, -1.4096])",
    ],
    "03": ["vocabulary size: 50257", "torch.Size([8, 4])", "torch.Size([8, 4, 256])"],
    "04": ["torch.Size([4, 256])", "torch.Size([8, 4, 256])", "tensor([0.6000, 0.1000, 0.0000])"],
    "05": ["124,439,808", "38,597,376"],
    "06": ["[14., 16., 18.]", "changed rows are exactly the seen ids: True", "185/185 steps"],
    "07": [
        "equals the sum of cos(w_i (p - q)): True",
        "PE(p + 5) == M PE(p) for every p: True",
        "index out of range in self",
    ],
    "08": ["same up to the permutation: True", "lengths preserved: True"],
}


def pixels(png: bytes):
    import matplotlib.image

    return matplotlib.image.imread(io.BytesIO(png), format="png")[..., :3]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stored(notebook: Path):
    """How many code cells, stored figures and intended errors the notebook has."""
    code = code_cells(read(notebook))
    n_png = sum("image/png" in o.get("data", {}) for c in code for o in c["outputs"])
    expected_errors = sum(RAISES in tags(c) for c in code)
    return len(code), n_png, expected_errors


@pytest.fixture(scope="session")
def workspace(tmp_path_factory):
    """A copy of notebooks/ (JupyterLab autosaves; the committed files stay untouched)."""
    root = tmp_path_factory.mktemp("lab-root")
    skip = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
    shutil.copytree(NOTEBOOK_DIR, root / "notebooks", ignore=skip)
    # Interactive mode: the same notebooks with the one switch flipped, as a learner would.
    for notebook in ROTATED:
        nb = json.loads((root / "notebooks" / notebook.name).read_text(encoding="utf-8"))
        # The set-up cell: the code cell under "Set-up" (the first code cell is the Colab set-up cell).
        first = next(c for c in nb["cells"] if c["cell_type"] == "code" and "%matplotlib" in "".join(c["source"]))
        lines = "".join(first["source"]).splitlines()
        assert lines[0] == "%matplotlib inline", "the switch is not where the README says"
        assert "# %matplotlib widget" in lines, "the switch is not where the README says"
        lines[0] = "# %matplotlib inline"
        lines[lines.index("# %matplotlib widget")] = "%matplotlib widget"
        first["source"] = "\n".join(lines)
        (root / "notebooks" / f"interactive_{number(notebook)}.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def lab(workspace, tmp_path_factory):
    """JupyterLab on 127.0.0.1 with a random token and its own config, data and runtime folders."""
    home = tmp_path_factory.mktemp("jupyter-home")
    settings = home / "user-settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # Render every cell, not only the visible ones, so the page holds all outputs.
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    apputils = home / "user-settings" / "@jupyterlab" / "apputils-extension"
    apputils.mkdir(parents=True)
    # No "get notified about Jupyter news?" toast over the notebook in screenshots.
    (apputils / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    token, port = secrets.token_hex(24), free_port()
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
    )
    env.pop("MPLBACKEND", None)  # would replace inline figures by nothing
    command = [
        str(Path(sys.executable).parent / "jupyter"),
        "lab",
        "--no-browser",
        f"--ServerApp.root_dir={workspace}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--LabApp.user_settings_dir={home / 'user-settings'}",
        f"--LabApp.workspaces_dir={home / 'workspaces'}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.news_url=None",
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp, to drive and inspect it
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = open(home / "server.log", "w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            break
        except Exception as error:
            if server.poll() is not None or time.time() > deadline:
                server.kill()
                log_text = (home / "server.log").read_text()
                raise RuntimeError(f"JupyterLab did not start; see {home / 'server.log'}:\n{log_text}") from error
            time.sleep(0.5)
    yield base, token
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


def open_and_run(page, lab, relpath: str, n_code_cells: int, timeout_s: float = 180):
    base, token = lab
    page.goto(f"{base}/lab/tree/{relpath}?token={token}")
    page.wait_for_function("() => window.jupyterapp !== undefined", timeout=60_000)
    # The kernel must exist and report idle; the toolbar claims idle before a kernel exists.
    page.wait_for_function(
        """(path) => {
            const w = window.jupyterapp.shell.currentWidget;
            if (!w || !w.context || w.context.path !== path) return false;
            const k = w.sessionContext.session && w.sessionContext.session.kernel;
            return w.sessionContext.isReady && k && k.status === 'idle';
        }""",
        arg=relpath,
        timeout=90_000,
    )
    page.wait_for_selector("#jp-main-statusbar >> text=Idle", timeout=30_000)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    # Finished when every code cell has its execution count and the kernel is idle again.
    page.wait_for_function(
        """(n) => {
            const w = window.jupyterapp.shell.currentWidget;
            const cells = w.content.widgets.filter(c => c.model.type === 'code');
            const counts = cells.map(c => c.model.executionCount);
            const k = w.sessionContext.session.kernel;
            return cells.length === n && counts.every(c => c !== null) && k.status === 'idle';
        }""",
        arg=n_code_cells,
        timeout=timeout_s * 1000,
        polling=500,
    )
    return page.evaluate(
        """() => {
            const w = window.jupyterapp.shell.currentWidget;
            const cells = w.content.widgets.filter(c => c.model.type === 'code');
            return cells.map(c => ({
                count: c.model.executionCount,
                tags: c.model.getMetadata('tags') || [],
                text: Array.from(c.node.querySelectorAll('.jp-OutputArea-output')).map(o => o.innerText).join('\\n'),
                errors: c.model.outputs.toJSON().filter(o => o.output_type === 'error').map(o => o.ename),
                images: Array.from(c.node.querySelectorAll('.jp-OutputArea-output img')).map(
                    i => ({complete: i.complete, width: i.naturalWidth, height: i.naturalHeight})),
            }));
        }"""
    )


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_in_jupyterlab(page, lab, notebook):
    n_code, n_png, expected_errors = stored(notebook)
    cells = open_and_run(page, lab, f"notebooks/{notebook.name}", n_code)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("() => { window.jupyterapp.shell.currentWidget.content.node.scrollTop = 0; }")
    page.wait_for_timeout(300)
    page.screenshot(path=str(SCREENSHOTS / f"{notebook.stem}.png"))

    assert [c["count"] for c in cells] == list(range(1, n_code + 1)), "cells did not run top to bottom"
    page_text = "\n".join(c["text"] for c in cells)
    for value in KEY_VALUES[number(notebook)]:
        assert value in page_text, f"{value!r} not shown"
    for cell in cells:
        if RAISES in cell["tags"]:
            assert len(cell["errors"]) == 1
        else:
            assert cell["errors"] == [], f"unexpected error output in cell [{cell['count']}]: {cell['errors']}"
    assert sum(len(c["errors"]) for c in cells) == expected_errors
    images = [i for c in cells for i in c["images"]]
    assert len(images) == n_png, f"{len(images)} figures rendered, {n_png} stored"
    for image in images:
        assert image["complete"] and image["width"] > 300 and image["height"] > 300, image
    assert not page.query_selector(".jp-Dialog"), "JupyterLab showed a dialog"
    # The Colab badge, drawn from the notebook's own attachment: shown, at its size, with nothing fetched for it.
    badges = page.evaluate(BADGES)
    assert badges == [{"complete": True, "width": 118, "height": 20, "inline": True}], badges
    assert page.outside_requests == [], "the notebook asked the network for something"
    assert page.page_errors == []


BADGES = """() => Array.from(window.jupyterapp.shell.currentWidget.content.node.querySelectorAll(
    '.jp-MarkdownCell img[alt="Open in Colab"]')).map(i => ({
    complete: i.complete, width: i.naturalWidth, height: i.naturalHeight,
    inline: i.src.startsWith('data:image/png;base64,')}))"""


# Run in the kernel after a drag: the pixels of the tick and axis labels of a 3D figure, found by
# drawing it with and without them, that fall inside the bounding box of its title (2 px around it).
LABELS_UNDER_TITLE = r"""
import json as _json
import matplotlib.pyplot as _plt
import numpy as _np

def _labels_under_title(_fig):
    _ax = next(_a for _a in _fig.axes if _a.name == "3d")
    def _pixels():
        _fig.canvas.draw()
        return _np.asarray(_fig.canvas.buffer_rgba())[..., :3].astype(int)
    _shown = _pixels()
    _box = _ax.title.get_window_extent(_fig.canvas.get_renderer())
    _axes = [(_a, _a.get_ticklabels()[0].get_color(), _a.label.get_visible())
             for _a in (_ax.xaxis, _ax.yaxis, _ax.zaxis)]
    for _a, _colour, _visible in _axes:
        _a.set_tick_params(labelcolor="none")
        _a.label.set_visible(False)
    _hidden = _pixels()
    for _a, _colour, _visible in _axes:
        _a.set_tick_params(labelcolor=_colour)
        _a.label.set_visible(_visible)
    _fig.canvas.draw()
    _labels = _np.abs(_shown - _hidden).sum(axis=-1) > 0
    _height = _labels.shape[0]
    _rows = slice(max(int(_height - _box.y1) - 2, 0), int(_height - _box.y0) + 3)
    _cols = slice(max(int(_box.x0) - 2, 0), int(_box.x1) + 3)
    return {"view": [round(float(_v), 1) for _v in (_ax.elev, _ax.azim, _ax.roll)],
            "label_pixels": int(_labels.sum()), "under_title": int(_labels[_rows, _cols].sum())}

_figures = [_plt.figure(_n) for _n in _plt.get_fignums()]
print(_json.dumps({"is_3d": [any(_a.name == "3d" for _a in _f.axes) for _f in _figures],
                   "measure": [_labels_under_title(_f) for _f in _figures if any(_a.name == "3d" for _a in _f.axes)]}))
"""
IN_KERNEL = """async (code) => {
    const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
    const future = kernel.requestExecute({code, store_history: false});
    let out = '';
    future.onIOPub = (msg) => {
        if (msg.header.msg_type === 'stream') out += msg.content.text;
        if (msg.header.msg_type === 'error') out += msg.content.ename + ': ' + msg.content.evalue;
    };
    await future.done;
    return out;
}"""


def drag(page, canvas, dx, dy):
    box = canvas.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(x + dx * step / 10, y + dy * step / 10)
        page.wait_for_timeout(50)
    page.mouse.up()
    page.wait_for_timeout(1500)  # the kernel redraws and sends the new frame


@pytest.mark.parametrize("notebook", ROTATED, ids=lambda p: p.name)
def test_interactive_figure_rotates_when_dragged(page, lab, notebook):
    """In rotatable mode: no "Figure N" header; a drag turns the 3D figure; its title stays clear."""
    n_code, _, _ = stored(notebook)
    name = f"interactive_{number(notebook)}"
    open_and_run(page, lab, f"notebooks/{name}.ipynb", n_code)
    figures = page.locator(".jupyter-matplotlib-figure")
    figures.first.wait_for(state="visible", timeout=60_000)
    kernel_side = json.loads(page.evaluate(IN_KERNEL, LABELS_UNDER_TITLE))
    assert figures.count() == len(kernel_side["is_3d"]), "one figure on the page per figure in the kernel"
    # ipympl draws "Figure 1" in this header above each canvas; the figure kit hides it.
    headers = page.locator(".jupyter-matplotlib-figure .jupyter-matplotlib-header")
    assert headers.count() == figures.count()
    shown = [h.inner_text() for h in headers.all() if h.is_visible()]
    assert shown == [], f"rotatable mode shows figure headers: {shown}"

    canvas = figures.nth(kernel_side["is_3d"].index(True)).locator("canvas").first
    canvas.scroll_into_view_if_needed()
    page.wait_for_timeout(1000)  # let the first frame arrive from the kernel
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shots = [canvas.screenshot()]
    (SCREENSHOTS / f"{name}_before_drag.png").write_bytes(shots[0])
    # Two drags that, before the figure kit left room to rotate, brought labels under 01's title.
    for i, (dx, dy) in enumerate([(120, 40), (0, 120)], 1):
        drag(page, canvas, dx, dy)
        shots.append(canvas.screenshot())
        (SCREENSHOTS / f"{name}_after_drag_{i}.png").write_bytes(shots[-1])
        measure = json.loads(page.evaluate(IN_KERNEL, LABELS_UNDER_TITLE))["measure"][0]
        print(f"after drag {i}: {measure}")
        assert measure["label_pixels"] > 1000, "the measure found no tick or axis labels to compare"
        assert measure["under_title"] == 0, f"after drag {i}, labels run under the title: {measure}"
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    before_px, after_px = pixels(shots[0]), pixels(shots[1])
    assert before_px.shape == after_px.shape
    assert len({tuple(p) for p in before_px.reshape(-1, 3)[::7].tolist()}) > 20, "the canvas shows no drawing"
    changed = (abs(before_px - after_px).sum(axis=-1) > 0.05).mean()
    print(f"share of canvas pixels changed by the drag: {changed:.3f}")
    assert changed > 0.01, f"dragging the 3D figure changed only {changed:.2%} of its canvas"
    assert page.page_errors == []
