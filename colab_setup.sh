#!/usr/bin/env bash
# The first cell of every notebook runs it in Colab, after cloning the repository:
#     !test -d twostream-lab || git clone -q https://github.com/twostream-lab/twostream-lab
#     !bash twostream-lab/colab_setup.sh
# Installs the lab without touching Colab's TensorFlow, Keras or numpy, makes `import cv2` the
# contrib build (TV-L1 lives in cv2.optflow), and downloads the sample videos. Safe to run twice.
set -euo pipefail
cd "$(dirname "$0")"
PIP="python -m pip"
start=$SECONDS

# 1. Freeze what Colab ships: pip may add packages but never replace these.
pins=$(mktemp)
$PIP freeze 2>/dev/null | grep -iE '^(tensorflow|tensorflow[-_]cpu|tf[-_]keras|keras|numpy|jax|jaxlib|torch)==' > "$pins" || true
echo "[1/3] keeping Colab's $(tr '\n' ' ' < "$pins")"
$PIP install -q -c "$pins" -e .
echo "      installed twostream-lab $(python -c 'import twostream_lab; print(twostream_lab.__version__)')"

# 2. Colab has opencv-python, -headless and -contrib installed over each other; whichever was
#    installed last owns the cv2 folder. Re-install the contrib build's files if optflow is missing.
if python -c "import cv2, sys; sys.exit(0 if hasattr(cv2, 'optflow') else 1)" 2>/dev/null; then
    echo "[2/3] cv2.optflow present: OpenCV $(python -c 'import cv2; print(cv2.__version__)') is the contrib build"
else
    version=$(python -c "import cv2; print(cv2.__version__)" 2>/dev/null || true)
    spec="opencv-contrib-python${version:+==$version.*}"
    echo "[2/3] cv2.optflow missing: re-installing $spec over the other OpenCV wheels"
    $PIP install -q -c "$pins" --force-reinstall --no-deps "$spec" || $PIP install -q -c "$pins" --force-reinstall --no-deps opencv-contrib-python
    python -c "import cv2; assert hasattr(cv2, 'optflow'); print('      now OpenCV', cv2.__version__, 'with cv2.optflow')"
fi

# 3. Sample videos (UCF101 test clips and the activity's abseiling_k400.mp4), checksummed.
echo "[3/3] sample videos"
twostream-lab samples --quiet
rm -f "$pins"
echo "done in $((SECONDS - start)) s. Restart the runtime only if cv2 was imported before this cell."
