"""binder/ gives repo2docker an image that installs the series' pins, with torch's CPU build, and
seeds the tokenizer at build time. repo2docker's --no-build prints the Dockerfile; no Docker daemon."""

from __future__ import annotations

import re
import subprocess

from conftest import HUB_ENV, REPO_ROOT

BINDER = REPO_ROOT / "binder"


def pins(path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line.strip())
        if match:
            found[match.group(1).lower()] = match.group(2)
    return found


def test_repo2docker_dockerfile_installs_the_pins_then_runs_postbuild():
    result = subprocess.run(
        [str(HUB_ENV / "bin" / "jupyter-repo2docker"), "--no-build", "--debug", "."],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    dockerfile = result.stdout
    assert "Building conda environment for python=3.11" in result.stderr  # from binder/runtime.txt
    install = dockerfile.index('pip install --no-cache-dir -r "binder/requirements.txt"')
    post_build = dockerfile.index("RUN ./binder/postBuild")
    assert install < post_build, "postBuild must run after the requirements are installed"
    assert 'ENV R2D_ENTRYPOINT="${REPO_DIR}/binder/start"' in dockerfile


def test_binder_requirements_are_the_series_pins_with_torchs_cpu_build():
    lines = [line.strip() for line in (BINDER / "requirements.txt").read_text().splitlines()]
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in lines
    assert "-r ../requirements.txt" in lines and "-c ../constraints.txt" in lines
    own, series, hub = (
        pins(BINDER / "requirements.txt"),
        pins(REPO_ROOT / "requirements.txt"),
        pins(REPO_ROOT / "requirements-hub.txt"),
    )
    assert own["torch"] == series["torch"] + "+cpu"
    assert own["jupyterhub"] == hub["jupyterhub"] and own["nbgitpuller"] == hub["nbgitpuller"]


def test_postbuild_seeds_the_tokenizer_and_turns_off_pop_ups():
    post_build = (BINDER / "postBuild").read_text()
    assert post_build.startswith("#!/usr/bin/env bash") and (BINDER / "postBuild").stat().st_mode & 0o111
    assert "seed_tiktoken_cache" in post_build and "tools/jupyterlab-overrides.json" in post_build
    assert "pip install --no-deps ." in post_build  # the series' package
    assert "TIKTOKEN_CACHE_DIR" in (BINDER / "start").read_text()
