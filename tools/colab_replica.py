"""Run every notebook as a student does in today's Google Colab, offline, and check the results.

    python tools/colab_replica.py              # all notebooks (about 20 minutes on 2 cores)
    python tools/colab_replica.py 06 --keep    # only the activity; keep the work folder

What it builds, in a fresh work folder:

* a Python 3.13 venv with today's Colab versions (``constraints/colab_replica.txt``) and Colab's
  three OpenCV wheels installed over each other (contrib 4.14 first, then opencv-python and
  -headless 5.0), so that ``import cv2`` is 5.0 without TV-L1, as in Colab;
* a stand-in ``google.colab`` module imported at kernel start (``tools/colab_standin``): each
  notebook takes its Colab branch; ``drive.mount`` maps to a local folder, ``files.upload()``
  returns a real clip;
* ``content/twostream-lab``: this checkout where the setup cell's ``git clone`` would put it,
  so that the notebooks' own first cell runs ``colab_setup.sh`` unchanged;
* the pretrained weights' stand-ins (``../shared/fixtures/legacy_h5``: the exact architectures
  and TF1 file format, our own weights), zipped like the Drive zips
  (``tools/make_standin_weights.py``), and the sample clips of ``../shared/data``, both served
  from 127.0.0.1 through the download code students use (``TWOSTREAM_LAB_WEIGHTS_URL``,
  ``TWOSTREAM_LAB_SAMPLES_URL``).

Each notebook then runs top to bottom in that kernel, on a "new machine" (the image restored,
an empty home folder; only the mounted Drive folder stays), with the choices a student can make in it
switched on (the Drive cache in the setup cell, Colab's uploader in notebook 5). The checks:
no error output; before the first setup cell TV-L1 is missing and after it TV-L1 works, with
TensorFlow, Keras and numpy unchanged (``pip freeze``); the weights come down once for all
notebooks (the Drive cache); every notebook that loads models says it uses the pretrained
weights; the activity predicts all 250 frames of ``abseiling_k400.mp4`` and its demo video has
one frame per flow stack, its frame explorer draws, and ``twostream-lab check`` passes it once a
name and answers are filled in.

Without ``../shared`` (the sample clips and the stand-in weights) it says so and exits 0. It
sends traffic only to 127.0.0.1 (and to the package registry, through pip).
"""

from __future__ import annotations

import argparse
import collections
import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
STANDIN = ROOT / "tools" / "colab_standin"
CHECKOUT_NAME = "twostream-lab"  # what the setup cell's `git clone` creates
#: Installed in this order, each over the last, as in Colab's image.
OPENCV_WHEELS = (["opencv-contrib-python==4.14.0.94"],
                 ["--no-deps", "opencv-python==5.0.0.93", "opencv-python-headless==5.0.0.93"])
#: Colab's packages that the setup cell must leave as they are.
KEPT = ("tensorflow", "keras", "tf-keras", "numpy")
#: What a student switches on in a notebook, as (notebook prefix, text, replacement).
STUDENT_CHOICES = (
    ("", "KEEP_CACHE_IN_DRIVE = False", "KEEP_CACHE_IN_DRIVE = True"),
    ("05", "UPLOAD = False", "UPLOAD = True"),
)
UPLOADED_CLIP = "ucf101/videos/v_Basketball_g01_c01.avi"
ACTIVITY = "06_activity_abseiling.ipynb"
ACTIVITY_FRAMES = 250
CELL_TIMEOUT = 1800


class ReplicaFailure(Exception):
    """A check of the replica failed; the message says which and why."""


def log(message: str) -> None:
    print(f"[colab-replica] {message}", flush=True)


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, check=True, text=True, **kwargs)


def pip_install(python: Path, *arguments: str) -> None:
    """``pip install -q ARGUMENTS``; its output is shown only when it fails."""
    result = subprocess.run([str(python), "-m", "pip", "install", "-q",
                             "--disable-pip-version-check", *arguments],
                            capture_output=True, text=True)
    if result.returncode:
        raise ReplicaFailure(f"pip install {' '.join(arguments)} failed:\n"
                             f"{(result.stdout + result.stderr)[-4000:]}")


def python313() -> str:
    """A Python 3.13 interpreter (pyenv's, else ``python3.13`` on the PATH)."""
    try:
        pyenv_root = subprocess.run(["pyenv", "root"], capture_output=True, text=True,
                                    check=True).stdout.strip()
        found = sorted(Path(pyenv_root, "versions").glob("3.13*/bin/python"))
        if found:
            return str(found[-1])
    except (OSError, subprocess.CalledProcessError):
        pass
    path = shutil.which("python3.13")
    if path is None:
        raise ReplicaFailure("Colab runs Python 3.13 and none was found (pyenv or python3.13)")
    return path


# ---------------------------------------------------------------------------------------------
# the Colab image


def make_colab_venv(venv: Path) -> Path:
    """A fresh venv with Colab's versions; returns its python."""
    run([python313(), "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    pip_install(python, "--upgrade", "pip")
    pip_install(python, "-r", str(ROOT / "constraints" / "colab_replica.txt"), "ipykernel")
    for wheels in OPENCV_WHEELS:
        pip_install(python, *wheels)
    return python


def fresh_machine(venv: Path, image: Path, home: Path) -> None:
    """Each Colab notebook runs on a new machine: the image as Colab ships it (a copy of the
    venv made before any setup cell ran) and an empty home folder (so an empty local cache).
    Only the mounted Google Drive outlives it."""
    shutil.rmtree(venv, ignore_errors=True)
    run(["cp", "-a", str(image), str(venv)])  # same path: the venv's scripts still point here
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)


def python_facts(python: Path) -> dict:
    """What the setup cell changes: cv2's version, whether TV-L1 exists, ``pip freeze``."""
    code = ("import json, cv2; print(json.dumps({'cv2': cv2.__version__, 'tvl1': hasattr("
            "getattr(cv2, 'optflow', None), 'DualTVL1OpticalFlow_create')}))")
    facts = json.loads(run([str(python), "-c", code], capture_output=True).stdout)
    freeze = run([str(python), "-m", "pip", "freeze", "--disable-pip-version-check"],
                 capture_output=True).stdout
    facts["packages"] = {name.lower().replace("_", "-"): version for name, version in
                         (line.split("==", 1) for line in freeze.splitlines() if "==" in line)}
    return facts


def copy_checkout(content: Path) -> Path:
    """This checkout's files (tracked, and untracked but not ignored) at content/twostream-lab."""
    listed = run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others",
                  "--exclude-standard"], capture_output=True).stdout.split("\0")
    target = content / CHECKOUT_NAME
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


# ---------------------------------------------------------------------------------------------
# the servers on 127.0.0.1


class CountingServer:
    """A static file server on 127.0.0.1 over ``root`` that counts the files it served."""

    def __init__(self, root: Path):
        self.served: collections.Counter[str] = collections.Counter()
        served = self.served

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                served[self.path] += 1  # counted first: an aborted transfer counts too
                super().do_GET()

        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def serve_stand_ins(work: Path, shared: Path) -> CountingServer:
    sys.path.insert(0, str(ROOT / "tools"))
    from make_standin_weights import build_standin_mirror

    www = work / "www"
    www.mkdir()
    build_standin_mirror(www / "weights", fixtures=shared / "fixtures" / "legacy_h5")
    (www / "data").symlink_to(shared / "data", target_is_directory=True)
    return CountingServer(www)


# ---------------------------------------------------------------------------------------------
# the kernel


def kernel_environment(work: Path, python: Path, server: CountingServer, shared: Path) -> dict:
    """The environment of a Colab kernel: Colab's own variables, none of this machine's lab
    settings, and the addresses of the stand-ins."""
    ipython = work / "ipython" / "profile_default" / "startup"
    ipython.mkdir(parents=True)
    (ipython / "00-google-colab.py").write_text(
        f"import sys\nsys.path.insert(0, {str(STANDIN)!r})\nimport google.colab\n")
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("TWOSTREAM_LAB_", "VIRTUAL_ENV", "PYTHON", "MPL", "XDG_",
                                  "JUPYTER", "TF_", "TQDM"))}
    pip_cache = subprocess.run([sys.executable, "-m", "pip", "cache", "dir"],
                               capture_output=True, text=True).stdout.strip()
    env.update({
        "HOME": str(work / "home"),
        "IPYTHONDIR": str(work / "ipython"),
        "PATH": f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "COLAB_RELEASE_TAG": "replica",
        "COLAB_REPLICA_DRIVE": str(work / "google-drive"),
        "COLAB_REPLICA_UPLOAD": str(shared / "data" / UPLOADED_CLIP),
        "TWOSTREAM_LAB_WEIGHTS_URL": f"{server.url}/weights/",
        "TWOSTREAM_LAB_SAMPLES_URL": f"{server.url}/data/",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    })
    if pip_cache and Path(pip_cache).is_dir():
        env["PIP_CACHE_DIR"] = pip_cache  # the registry's files, not downloaded again
    return env


def write_kernelspec(work: Path, python: Path) -> Path:
    folder = work / "jupyter" / "kernels" / "colab-replica"
    folder.mkdir(parents=True)
    (folder / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (Colab replica)", "language": "python"}))
    return work / "jupyter"


def student_copy(source: Path, target: Path) -> nbformat.NotebookNode:
    """The notebook with its outputs cleared and the student's choices switched on."""
    nb = nbformat.read(source, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    for prefix, text, replacement in STUDENT_CHOICES:
        if not source.name.startswith(prefix):
            continue
        cells = [cell for cell in nb.cells if cell.cell_type == "code" and text in cell.source]
        if not cells:
            raise ReplicaFailure(f"{source.name} has no code cell with {text!r}: the replica "
                                 "would not exercise what a student chooses there")
        for cell in cells:
            cell.source = cell.source.replace(text, replacement)
    nbformat.write(nb, target)
    return nb


def execute(path: Path, content: Path, env: dict, jupyter_path: Path) -> float:
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    os.environ["JUPYTER_PATH"] = str(jupyter_path)
    started = time.perf_counter()
    try:
        NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="colab-replica",
                       resources={"metadata": {"path": str(content)}},
                       store_widget_state=True).execute()
    except CellExecutionError as error:
        nbformat.write(nb, path)
        raise ReplicaFailure(f"{path.name} failed in Colab:\n{error}") from None
    finally:
        os.environ.clear()
        os.environ.update(saved)
    nbformat.write(nb, path)
    return time.perf_counter() - started


# ---------------------------------------------------------------------------------------------
# checks


def outputs_text(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output.get("text", ""))
        elif output.get("output_type") == "error":
            parts.append("\n".join(output.get("traceback", [])))
        else:
            parts.append(output.get("data", {}).get("text/plain", ""))
    return "".join(parts) if all(isinstance(p, str) for p in parts) else str(parts)


def notebook_text(nb) -> str:
    return "\n".join(outputs_text(cell) for cell in nb.cells if cell.cell_type == "code")


#: The notebooks that need no model read a real sample clip when the samples are there.
REAL_CLIP_NOTEBOOKS = ("01_", "04_")
REAL_CLIP = re.compile(r"v_\w+_g\d+_c\d+\.avi")
#: A tqdm bar's text, as a saved notebook shows it (``spatial stream:  40%|####  | 4/10``).
PROGRESS = re.compile(r"(\d+)%\|")


def check_notebook(path: Path) -> list[str]:
    """Problems in one executed notebook: errors, setup failures, non-pretrained weights."""
    nb = nbformat.read(path, as_version=4)
    problems = []
    for number, cell in enumerate(nb.cells, start=1):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                problems.append(f"cell {number}: {output.get('ename')}: {output.get('evalue')}")
    setup = outputs_text(next(c for c in nb.cells if c.cell_type == "code"))
    if "done in" not in setup:
        problems.append(f"the setup cell did not finish cleanly:\n{setup}")
    text = notebook_text(nb)
    if "models = load_two_stream(" in "\n".join(c.source for c in nb.cells) and \
            not path.name.startswith("08"):
        if "weights: pretrained" not in text:
            problems.append("no output says the pretrained weights were used")
    if "weights: demo" in text and not path.name.startswith("08"):
        problems.append("an output says the demo weights were used")
    if path.name.startswith(REAL_CLIP_NOTEBOOKS) and not REAL_CLIP.search(text):
        problems.append("no output names a real sample clip (this notebook needs no model and "
                        "should use one when the samples are present)")
    # display outputs only: a stream's carriage returns leave its last state on screen
    shown = "\n".join(str(o.get("data", {}).get("text/plain", "")) for c in nb.cells
                      for o in c.get("outputs", []) if o.get("output_type") == "display_data")
    unfinished = [line.strip() for line in shown.splitlines()
                  if (m := PROGRESS.search(line)) and m.group(1) != "100"]
    if unfinished:
        problems.append(f"progress bars saved unfinished: {unfinished[:3]}")
    return problems


def check_activity(path: Path, drive: Path, env: dict) -> list[str]:
    import cv2

    nb = nbformat.read(path, as_version=4)
    text = notebook_text(nb)
    problems = []
    if "Prediction for abseiling_k400.mp4" not in text:
        problems.append("no output 'Prediction for abseiling_k400.mp4'")
    stacks = ACTIVITY_FRAMES - 10
    if f"all frames ({ACTIVITY_FRAMES} RGB frames, {stacks} flow stacks of 10)" not in text:
        problems.append(f"the prediction does not cover all {ACTIVITY_FRAMES} frames")
    videos = list(drive.rglob("abseiling_k400_prediction.mp4"))
    if len(videos) != 1:
        problems.append(f"expected one demo video in the Drive cache, found {videos}")
    else:
        capture = cv2.VideoCapture(str(videos[0]))
        frames = 0
        while capture.read()[0]:
            frames += 1
        if frames != stacks:
            problems.append(f"the demo video has {frames} frames, not one per flow stack "
                            f"({stacks})")
    explorer = [c for c in nb.cells if c.cell_type == "code" and "frame_explorer(" in c.source]
    # the picture must be in the output itself, for a notebook saved without widget state
    if not explorer or "image/png" not in json.dumps(explorer[-1].outputs):
        problems.append("the frame explorer's output holds no picture")
    problems += check_graded(path, env)
    return problems


def check_graded(path: Path, env: dict) -> list[str]:
    """Fill in a name and answers as a student would, then run the instructor's checker."""
    from twostream_lab.instructor import checker

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        role = cell.metadata.get(checker.METADATA_KEY, {}).get("role")
        if role == checker.ROLE_NAME:
            cell.source = "**Name:** Ada Replica"
        elif role == checker.ROLE_ANSWER:
            question = cell.metadata[checker.METADATA_KEY].get("question", "?")
            cell.source = (f"**Answer.** For {question}, my own reasoning: the spatial stream "
                           "saw ropes, harnesses and a cliff face, while the motion stream saw "
                           "slow vertical movement, so each leaned on different UCF101 classes "
                           f"such as RockClimbingIndoor and RopeClimbing ({question}).")
    submitted = path.with_name("submitted_" + path.name)
    nbformat.write(nb, submitted)
    result = subprocess.run([sys.executable, "-m", "twostream_lab", "check", str(submitted)],
                            capture_output=True, text=True, env={**os.environ, **{
                                k: v for k, v in env.items() if k.startswith("TWOSTREAM")}})
    report = result.stdout + result.stderr
    problems = []
    if result.returncode != 0:
        problems.append(f"twostream-lab check failed the filled-in activity:\n{report}")
    if "pretrained" not in report:
        problems.append(f"the checker's report does not name the pretrained weights:\n{report}")
    return problems


def check_image(before: dict) -> list[str]:
    """Whether the image reproduces Colab's OpenCV: cv2 5.0 without TV-L1."""
    if before["tvl1"] or not before["cv2"].startswith("5.0"):
        return [f"before the setup cell cv2 is {before['cv2']} with TV-L1 "
                f"{'present' if before['tvl1'] else 'missing'}: Colab has 5.0.0 without it"]
    return []


def check_packages(before: dict, after: dict) -> list[str]:
    """What the setup cell changed: TV-L1 must work, Colab's TensorFlow stack must not move."""
    problems = []
    if not after["tvl1"]:
        problems.append(f"TV-L1 is missing after the setup cell (cv2 {after['cv2']})")
    for name in KEPT:
        old, new = before["packages"].get(name), after["packages"].get(name)
        if old != new:
            problems.append(f"the setup cell changed {name}: {old} -> {new}")
    opencv = sorted(name for name in after["packages"] if name.lower().startswith("opencv"))
    if opencv != ["opencv-contrib-python"]:
        problems.append(f"OpenCV distributions after the setup cell: {opencv}, expected only "
                        "opencv-contrib-python")
    return problems


def check_downloads(server: CountingServer) -> list[str]:
    problems = []
    for name in ("spatial.zip", "motion.zip"):
        count = server.served[f"/weights/{name}"]
        if count != 1:
            problems.append(f"{name} was downloaded {count} times; with the Drive cache the "
                            "weights come down once for all notebooks")
    return problems


# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("only", nargs="*", help="notebook name prefixes, e.g. 06 (default: all)")
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared",
                        help="the shared folder with data/ and fixtures/ (default: ../shared)")
    parser.add_argument("--work", type=Path, help="work folder (default: a new temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)

    shared = args.shared.resolve()
    needed = [shared / "data" / "kinetics" / "abseiling_k400.mp4",
              shared / "data" / UPLOADED_CLIP, shared / "fixtures" / "legacy_h5"]
    missing = [str(path) for path in needed if not path.exists()]
    if missing:
        log(f"skipped: the sample clips and stand-in weights are absent ({', '.join(missing)})")
        return 0

    notebooks = sorted(p for p in (ROOT / "notebooks").glob("*.ipynb")
                       if not args.only or p.name.startswith(tuple(args.only)))
    work = (args.work or Path(tempfile.mkdtemp(prefix="colab-replica-"))).resolve()
    marker = work / ".colab-replica"
    if args.work is not None and work.exists() and any(work.iterdir()) and not marker.exists():
        log(f"refused: {work} is not empty and was not made by the replica; give a new folder")
        return 2
    work.mkdir(parents=True, exist_ok=True)
    marker.touch()
    started = time.perf_counter()
    server = None
    problems: dict[str, list[str]] = {}
    try:
        log(f"work folder {work}")
        venv, image = work / "venv", work / "venv-image"
        if image.is_dir():  # a kept work folder: its image is still as Colab ships it
            python = venv / "bin" / "python"
            fresh_machine(venv, image, work / "home")
        else:
            python = make_colab_venv(venv)
            run(["cp", "-a", str(venv), str(image)])
        before = python_facts(python)
        problems["the Colab image"] = check_image(before)
        log(f"Colab image ready in {time.perf_counter() - started:.0f} s: cv2 {before['cv2']}, "
            f"TV-L1 {'present' if before['tvl1'] else 'missing'}, "
            + ", ".join(f"{n} {before['packages'].get(n, '-')}" for n in KEPT))
        for folder in ("content", "www", "ipython", "jupyter", "executed", "google-drive"):
            shutil.rmtree(work / folder, ignore_errors=True)
        content = work / "content"
        server = serve_stand_ins(work, shared)
        env = kernel_environment(work, python, server, shared)
        jupyter_path = write_kernelspec(work, python)
        executed = work / "executed"
        executed.mkdir()
        for source in notebooks:
            path = executed / source.name
            student_copy(source, path)
            fresh_machine(venv, image, work / "home")
            shutil.rmtree(content, ignore_errors=True)  # a new machine: a new working folder
            copy_checkout(content)
            try:
                seconds = execute(path, content, env, jupyter_path)
            except ReplicaFailure as failure:
                problems[source.name] = [str(failure)]
                log(f"{source.name}: FAILED")
                continue
            found = check_notebook(path) + check_packages(before, python_facts(python))
            if source.name == ACTIVITY:
                found += check_activity(path, work / "google-drive", env)
            problems[source.name] = found
            log(f"{source.name}: {'ok' if not found else 'FAILED'} in {seconds:.0f} s")
        if not args.only:
            problems["the weights download"] = check_downloads(server)
    except (ReplicaFailure, subprocess.CalledProcessError) as failure:
        problems["the replica"] = [str(failure)]
    finally:
        if server is not None:
            server.close()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    failed = {name: found for name, found in problems.items() if found}
    for name, found in failed.items():
        log(f"FAILED: {name}")
        for problem in found:
            print(re.sub(r"^", "    ", problem, flags=re.M), flush=True)
    log(f"{len(notebooks)} notebooks, {'all passed' if not failed else f'{len(failed)} failed'}"
        f", {time.perf_counter() - started:.0f} s in all" + (f"; kept {work}" if args.keep else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
