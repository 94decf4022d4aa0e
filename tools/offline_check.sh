#!/usr/bin/env bash
# Run nbval over every notebook inside a network namespace of its own: no interface but loopback
# (which Jupyter's kernels need), so any download would fail the run. Needs root and unshare.
#     tools/offline_check.sh .venv/bin/python
set -euo pipefail
python=${1:?usage: tools/offline_check.sh PATH_TO_VENV_PYTHON}
if [ "$(id -u)" != 0 ]; then
  echo "offline-check needs root to make a network namespace: run it as root (sudo make offline-check)" >&2
  exit 1
fi
if ! command -v unshare >/dev/null; then
  echo "offline-check needs unshare: install util-linux (apt-get install util-linux)" >&2
  exit 1
fi
if ! command -v ip >/dev/null; then
  echo "==> Installing iproute2 (for ip)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >/dev/null
fi
notebooks=$("$python" -m tools.series all)
exec unshare --net bash -c '
  set -euo pipefail
  ip link set lo up
  if ip route get 192.0.2.1 >/dev/null 2>&1; then echo "offline-check: a route out exists"; exit 1; fi
  echo "==> no route out of this namespace; running the notebooks"
  "$0" -m pytest -q -p no:cacheprovider -n 2 --dist loadscope --no-loadscope-reorder --nbval --nbval-current-env $1
' "$python" "$notebooks"
