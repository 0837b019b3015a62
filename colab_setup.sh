#!/usr/bin/env bash
# The first cell of every notebook runs it in Colab, after cloning the repository:
#     !test -d twostream-lab || git clone -q https://github.com/twostream-lab/twostream-lab
#     !bash twostream-lab/colab_setup.sh
# 1. installs the lab (with Dask, for evaluate_videos) without touching Colab's TensorFlow, Keras or numpy;
# 2. makes `import cv2` an OpenCV with TV-L1 (cv2.optflow.DualTVL1OpticalFlow_create, only in the
#    contrib build): Colab installs opencv-contrib-python and then opencv-python and -headless of
#    another version into the same cv2 folder, and the last one wins;
# 3. downloads the sample videos ($TWOSTREAM_LAB_SAMPLES_URL names a mirror), checksummed.
# A failed step says so and the others still run; the exit status is 0 only if all succeeded.
# Safe to run twice. $PYTHON chooses the interpreter (default: python).
set -uo pipefail
cd "$(dirname "$0")" || exit 1
PY=${PYTHON:-python}
start=$SECONDS
status=0
pins="" pip_log=""
trap 'rm -f "$pins" "$pip_log"' EXIT
pins=$(mktemp "${TMPDIR:-/tmp}/twostream-lab-pins.XXXXXX") || exit 1
pip_log=$(mktemp "${TMPDIR:-/tmp}/twostream-lab-pip.XXXXXX") || exit 1
# pip, quietly: its output (build warnings included) is shown only when it fails.
pip_quiet() {
    if ! "$PY" -m pip "$@" -q --disable-pip-version-check > "$pip_log" 2>&1; then
        grep -v "^WARNING: Location" "$pip_log" >&2
        return 1
    fi
}

# 1. Freeze what Colab ships: pip may add packages but never replace these.
"$PY" -m pip freeze 2>/dev/null \
    | grep -iE '^(tensorflow|tensorflow[-_]cpu|tf[-_]keras|keras|numpy|jax|jaxlib|torch)==' > "$pins"
echo "[1/3] keeping $(tr '\n' ' ' < "$pins")"
if ! pip_quiet install -c "$pins" -e ".[evaluate]"; then
    echo "      FAILED to install twostream-lab (see pip's message above); the notebooks cannot run." >&2
    exit 1
fi
echo "      installed twostream-lab $("$PY" -c 'import twostream_lab; print(twostream_lab.__version__)')"

# 2. TV-L1: the one check the lab uses everywhere (twostream_lab.flow.has_optflow).
# Exit 0: TV-L1 present; 3: missing; anything else: the lab itself does not import (shown).
has_tvl1() {
    "$PY" -c 'import sys; from twostream_lab.flow import has_optflow; sys.exit(0 if has_optflow() else 3)'
}
cv2_version() { "$PY" -c 'import cv2; print(cv2.__version__)' 2>/dev/null || echo "not importable"; }
has_tvl1; tvl1=$?
if [ "$tvl1" -eq 0 ]; then
    echo "[2/3] TV-L1 present: OpenCV $(cv2_version) has cv2.optflow.DualTVL1OpticalFlow_create"
elif [ "$tvl1" -ne 3 ]; then
    echo "[2/3] FAILED: twostream_lab does not import (the error is above); OpenCV left as it is" >&2
    status=1
else
    installed=$("$PY" -m pip list --format=freeze 2>/dev/null | grep -iE '^opencv-' | tr '\n' ' ')
    contrib=$("$PY" -m pip show opencv-contrib-python 2>/dev/null | sed -n 's/^Version: //p')
    echo "[2/3] TV-L1 missing: cv2 is OpenCV $(cv2_version) (installed: ${installed:-none})"
    others=$("$PY" -m pip list --format=freeze 2>/dev/null | grep -iE '^opencv-(python|python-headless|contrib-python-headless)==' | cut -d= -f1 | tr '\n' ' ')
    # shellcheck disable=SC2086
    if [ -n "$others" ] && ! pip_quiet uninstall -y $others; then
        others="nothing (pip uninstall failed)"
    fi
    echo "      making opencv-contrib-python ${contrib:-(newest)} the only OpenCV (removed: ${others:-nothing})"
    if pip_quiet install -c "$pins" --force-reinstall --no-deps "opencv-contrib-python${contrib:+==$contrib}" && has_tvl1 2>/dev/null; then
        echo "      now OpenCV $(cv2_version) with TV-L1"
    else
        echo "      FAILED: TV-L1 is still missing; run: pip install --force-reinstall --no-deps opencv-contrib-python${contrib:+==$contrib}" >&2
        status=1
    fi
fi

# 3. Sample videos: one line per file that fails, then how to retry.
echo "[3/3] sample videos"
if ! "$PY" -m twostream_lab samples --quiet; then
    status=1
fi

if [ "$status" -eq 0 ]; then
    echo "done in $((SECONDS - start)) s. Restart the runtime only if cv2 was imported before this cell."
else
    echo "finished in $((SECONDS - start)) s with the problems above; run this cell again to retry." >&2
fi
exit "$status"
