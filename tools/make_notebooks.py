"""Write the student notebooks in ``notebooks/`` from this readable source, and execute them.

    python tools/make_notebooks.py                 # write all notebooks (sources only, no outputs)
    python tools/make_notebooks.py --execute       # write, then execute each in a fresh kernel
    python tools/make_notebooks.py --execute 06    # only the notebooks whose name starts with 06

Execution follows what CI does: a fresh ``TWOSTREAM_LAB_CACHE`` per notebook, ``TF_CPP_MIN_LOG_LEVEL
=2``, ``TWOSTREAM_LAB_WEIGHTS=demo`` (the committed outputs are the offline mode's), the kernel's own inline matplotlib backend (``MPLBACKEND`` is removed), and whatever
``TWOSTREAM_LAB_DATA`` says. Commit outputs made *without* it: the sample clips belong to their
authors, so no frame of them goes into the repository (the activity then shows its synthetic
stand-in; students' runs show abseiling_k400.mp4). Widgets are switched off (``TWOSTREAM_LAB_WIDGETS=0``)
so that the committed outputs show their plain fallback, readable on GitHub. The time of each
notebook is printed.

Conventions the static test (``tests/test_notebooks_static.py``) checks:

* the first cell is markdown with the "Open in Colab" badge of the repository ``url`` in
  ``setup.cfg`` (the one place the URL is written) and what the student will learn;
* the first code cell is :data:`SETUP`, the second the ``WEIGHTS`` switch;
* code cells define no functions or classes: every step is a library call a reader can look up;
* cells whose output depends on the machine (timings, paths, which sample videos exist, progress
  bars, widgets, the embedded mp4) carry the ``nbval-ignore-output`` tag, and only those.
"""

from __future__ import annotations

import argparse
import configparser
import os
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from twostream_lab.instructor import checker

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
IGNORE = "nbval-ignore-output"
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"


def repository_url() -> str:
    """The repository URL: ``url`` in setup.cfg's ``[metadata]``."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    return config["metadata"]["url"].rstrip("/")


def colab_url(name: str) -> str:
    """The "Open in Colab" link of ``notebooks/<name>`` on the main branch."""
    owner_repo = repository_url().removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{owner_repo}/blob/main/notebooks/{name}"


def setup_source() -> str:
    """The first code cell of every notebook."""
    url = repository_url()
    folder = url.rsplit("/", 1)[-1]
    return textwrap.dedent(f"""\
        # Setup. In Colab: install the lab (about a minute, once per runtime). Elsewhere: nothing to do.
        KEEP_CACHE_IN_DRIVE = False  # True: keep the weights (470 MB) in your Google Drive, downloaded once for all notebooks
        import os
        import sys

        if "google.colab" in sys.modules:
            !test -d {folder} || git clone -q {url}
            !bash {folder}/colab_setup.sh
            sys.path.insert(0, os.path.abspath("{folder}"))  # importable now, without restarting the runtime
            if KEEP_CACHE_IN_DRIVE:
                from twostream_lab.notebook.colab import keep_cache_in_drive

                keep_cache_in_drive()
        %matplotlib inline""")


def md(text: str, **metadata) -> nbformat.NotebookNode:
    cell = new_markdown_cell(textwrap.dedent(text).strip())
    cell.metadata.update(metadata)
    return cell


def code(source: str, *, ignore: bool = False) -> nbformat.NotebookNode:
    """A code cell; ``ignore=True`` tags it ``nbval-ignore-output`` (machine-dependent output)."""
    cell = new_code_cell(textwrap.dedent(source).strip())
    if ignore:
        cell.metadata["tags"] = [IGNORE]
    return cell


def header(name: str, title: str, learn: list[str], intro: str = "") -> list:
    bullets = "\n".join(f"- {item}" for item in learn)
    text = f"[![Open In Colab]({COLAB_BADGE})]({colab_url(name)})\n\n# {title}\n\n"
    if intro:
        text += textwrap.dedent(intro).strip() + "\n\n"
    text += f"**What you will learn**\n\n{bullets}"
    return [md(text), code(setup_source())]


WEIGHTS_LINE = (
    'WEIGHTS = "auto"  # "auto": pretrained where available (Colab), else "demo"; '
    'or "pretrained" / "demo"'
)


def weights_choice_cell() -> nbformat.NotebookNode:
    """The WEIGHTS switch, for notebooks that only need to know which kind of video to use."""
    return code(f"""\
        from twostream_lab import choose_weights

        {WEIGHTS_LINE}
        weights = choose_weights(WEIGHTS)
        print(weights)""")


def weights_load_cell(line: str = WEIGHTS_LINE) -> nbformat.NotebookNode:
    """The WEIGHTS switch that also loads both streams."""
    return code(f"""\
        from twostream_lab import load_two_stream

        {line}
        models = load_two_stream(WEIGHTS)
        print(models.choice)
        models""")


# ------------------------------------------------------------------------------------------------
# The notebooks


def nb01() -> list:
    name = "01_introduction.ipynb"
    return [
        *header(name, "1. Introduction: two streams, two ways of seeing a video", [
            "the idea of two-stream networks (Simonyan & Zisserman 2014): one CNN looks at the "
            "appearance of single RGB frames, another at the motion in a stack of optical-flow "
            "frames, and their class scores are fused;",
            "what each stream's input looks like, on a clip where the difference is easy to see;",
            "how the notebooks of this lab follow the steps of the original tutorial.",
        ]),
        md("""
            ## The idea

            An action is *appearance* (a bow, a pool, a bicycle) and *motion* (how things move).
            Simonyan & Zisserman (2014) gave each its own convolutional network:

            - the **spatial stream** sees **one RGB frame** and recognises scenes and objects;
            - the **temporal (motion) stream** sees **a stack of L = 10 consecutive optical-flow
              frames**: for every pixel, how far it moved horizontally (*u*) and vertically (*v*)
              between two frames. Stacked as channels `u0..u9, v0..v9`, that is a 20-channel image;
            - each stream ends in a softmax over the classes, and the two score vectors are
              **fused late**, for example by averaging them.

            Both streams are ordinary **2D** CNNs: their convolutions slide over height and width
            only. Time enters the motion stream through the *channels* (the 10 flow frames, about
            0.4 s of video at 25 fps) and nowhere else; there is no 3D convolution and no recurrent
            layer. A video-level answer is the average of the per-frame answers. The optical flow
            is computed before the network runs, with the TV-L1 method (Zach, Pock & Bischof
            2007), which is accurate but slow.

            Two other families of video networks, for comparison:

            - **3D CNNs** (C3D, Tran et al. 2015; I3D, Carreira & Zisserman 2017) convolve over
              time as well as space, on a clip of frames, and learn motion features themselves;
            - **CNN2D + RNN** (e.g. LRCN, Donahue et al. 2015) runs a 2D CNN on every frame and a
              recurrent network (an LSTM) over the sequence of frame features; the recurrent part
              must learn motion from the raw frames, one step after another, trained on whole
              sequences.

            The two-stream model hands motion to the network explicitly, as optical flow. Each
            stream is a standard image CNN that can start from ImageNet weights and be trained on
            single frames or single stacks, independently and in parallel, which suits a data set
            of UCF101's size. The price: the flow must be computed first (slow), there are two
            networks to train and run, and each prediction sees only 10 flow frames.

            The pretrained models of this lab use Xception (Chollet 2017) as the CNN of each stream
            and were trained on UCF101 (Soomro, Zamir & Shah 2012): 13,320 clips of 101 actions.
            Published video-level accuracy on UCF101 split 1: spatial 86.04 %, motion 84.40 %,
            both averaged 91.25 %. Fusing the streams helps because they make different mistakes
            (Feichtenhofer, Pinz & Zisserman 2016 compare ways of fusing).

            ## The weights switch

            Every notebook starts with the same switch. `WEIGHTS = "auto"` uses the pretrained
            UCF101 models where they can be downloaded (Colab) and otherwise the small **demo
            models** that ship with the lab, trained on synthetic clips; every result says which.
        """),
        weights_choice_cell(),
        md("""
            ## What each stream sees

            A synthetic clip makes the difference plain: a red square moves down and to the right
            over a textured background. One RGB frame shows *a red square* but not where it is
            going; the flow shows the motion (positive *u*: to the right, positive *v*: down) but
            not the colour, because flow is computed on grey frames. `make_synthetic_clip` makes the clip,
            `compute_flow` computes its TV-L1 flow (the notebook *4. Dataset and optical flow*
            explains it in detail).
        """),
        code("""\
            from twostream_lab import compute_flow, make_synthetic_clip

            clip = make_synthetic_clip("red moving down-right", seed=0)
            flow = compute_flow(clip, progress=False)
            print(clip)
            print("frames:", clip.frames.shape, clip.frames.dtype)
            print("flow u:", flow.u.shape, flow.u.dtype, "  flow v:", flow.v.shape, flow.v.dtype)"""),
        md("""
            A clip of *T* frames gives *T - 1* flow frames (one per pair of consecutive frames);
            each is stored as 8-bit images *u* and *v*, where 128 means "no motion" and 0 / 255
            mean 20 pixels or more to the left / right (up / down for *v*).

            Below: the RGB frame the spatial stream sees, then *u*, *v* and the flow as colours
            (hue = direction, brightness = speed) for the same moment. The functions of
            `twostream_lab.pictures.flow_viz` draw into the matplotlib axes they are given.
        """),
        code("""\
            import matplotlib.pyplot as plt

            from twostream_lab.pictures.flow_viz import show_flow_color, show_flow_component

            fig, axes = plt.subplots(1, 4, figsize=(16, 4.2))
            axes[0].imshow(clip.frames[5])
            axes[0].set_title("RGB frame 5 (spatial stream)")
            axes[0].set_axis_off()
            show_flow_component(axes[1], flow.u[5], title="u, flow frame 5")
            show_flow_component(axes[2], flow.v[5], title="v, flow frame 5")
            show_flow_color(axes[3], flow.u[5], flow.v[5], title="flow as colour")
            plt.show()"""),
        md("""
            In *u* and *v* the square is a little brighter than the background: it moves right and
            down, by a few pixels per frame, small against the scale of +-20 pixels; the still
            background has the middle colour of "no motion". The same clip played backwards ("red moving
            up-left") has the very same frames, so the spatial stream cannot tell the two apart; a
            blue square of the same grey value has the same flow, so the motion stream cannot tell
            red from blue. Only both streams together know "red moving down-right". The offline
            lab (notebook 8) trains a tiny two-stream network on exactly this.

            ## The sequence of notebooks

            | notebook | the tutorial's step |
            |---|---|
            | 1. Introduction (this one) | the two-stream idea |
            | 2. Setup | installing in Colab, the folders, the weights switch |
            | 3. Loading the models | both Xception streams, `data_norm`, parameters |
            | 4. Dataset and optical flow | UCF101 classes, sample videos, frames, TV-L1 flow |
            | 5. Predictions and fusion | batches, per-frame scores, fusion, figures, demo video |
            | 6. Activity: abseiling | the graded activity: predict a Kinetics clip, answer 3 questions |
            | 7. Fusion compared | average, weighted, max, product; the published table |
            | 8. Offline lab | train a tiny two-stream network on synthetic actions |

            **References.** K. Simonyan, A. Zisserman: Two-Stream Convolutional Networks for Action
            Recognition in Videos, NeurIPS 2014. C. Zach, T. Pock, H. Bischof: A Duality Based
            Approach for Realtime TV-L1 Optical Flow, DAGM 2007. C. Feichtenhofer, A. Pinz,
            A. Zisserman: Convolutional Two-Stream Network Fusion for Video Action Recognition,
            CVPR 2016. L. Wang et al.: Temporal Segment Networks, ECCV 2016. F. Chollet: Xception,
            CVPR 2017. K. Soomro, A. R. Zamir, M. Shah: UCF101, arXiv:1212.0402, 2012. D. Tran et
            al.: C3D, ICCV 2015. J. Carreira, A. Zisserman: Quo Vadis, Action Recognition? (I3D),
            CVPR 2017. J. Donahue et al.: Long-term Recurrent Convolutional Networks (LRCN), CVPR
            2015. W. Kay et al.: The Kinetics Human Action Video Dataset, arXiv:1705.06950, 2017.
        """),
    ]


def nb02() -> list:
    name = "02_setup.ipynb"
    return [
        *header(name, "2. Setup: one cell in Colab, the folders, and the weights switch", [
            "what the one setup cell at the top of every notebook does in Colab, and how to "
            "install the lab on your own machine;",
            "where the lab keeps sample videos, downloaded weights and cached optical flow;",
            "how the `WEIGHTS` switch chooses between the pretrained UCF101 models and the "
            "offline demo models.",
        ], intro="""
            The original tutorial started with `%tensorflow_version 1.x` and a few `pip install`
            cells. Colab no longer has TensorFlow 1, and two of the tutorial's packages (imgaug,
            scikit-video) fail on numpy 2. This lab runs on the TensorFlow 2 / Keras 3 that Colab
            ships today and needs a single setup cell.
        """),
        weights_choice_cell(),
        md("""
            ## The setup cell

            The first code cell ("Setup") is the same in every notebook. In Colab it

            1. clones this repository and runs `colab_setup.sh`, which installs the lab **without
               replacing Colab's TensorFlow, Keras or numpy**, makes sure `import cv2` is the
               *opencv-contrib* build (TV-L1 optical flow lives in `cv2.optflow`), and downloads
               the sample videos, checking each file's SHA-256;
            2. puts the clone on `sys.path`, so the lab can be imported at once (a package
               installed while Python runs is otherwise only found after a restart);
            3. with `KEEP_CACHE_IN_DRIVE = True` (you choose, in the first line of the cell),
               mounts your Google Drive and keeps the lab's cache there: the pretrained
               weights, downloaded videos and cached flow. Every Colab notebook runs on a fresh
               machine, so without it each notebook downloads the 470 MB of weights again;
            4. switches matplotlib to inline figures.

            Anywhere else (your laptop, CI) it only does step 4: install the lab there with
            `pip install -e ".[cpu]"` from a clone (`[cpu]` adds the CPU build of TensorFlow).
            Running the cell twice is harmless.
        """),
        code("""\
            import twostream_lab

            print("twostream-lab", twostream_lab.__version__)"""),
        md("""
            `doctor_report()` (also `twostream-lab doctor` in a terminal) lists the versions, whether
            `cv2.optflow` is there, whether TensorFlow sees a GPU, the folders and what is cached.
            Its output depends on the machine, so yours will differ.
        """),
        code("""\
            from twostream_lab.commands import doctor_report

            print(doctor_report())""", ignore=True),
        md("""
            ## The folders

            - the **cache** (`cache_dir()`): downloaded weights, downloaded videos, cached optical
              flow. Set `TWOSTREAM_LAB_CACHE` to move it.
            - the **data folder** (`data_dir()`): the sample videos, `ucf101/videos/*.avi` (UCF101
              test clips, 320 x 240) and `kinetics/abseiling_k400.mp4` (the activity's clip). Set
              `TWOSTREAM_LAB_DATA` to use another folder.

            The lab knows every sample video by name, URL, size and checksum (`SAMPLE_VIDEOS`);
            `download_samples()` fetches them (the Colab setup cell already did).
        """),
        code("""\
            from twostream_lab import SAMPLE_VIDEOS, available_samples, cache_dir, data_dir

            total_mb = sum(sample.size for sample in SAMPLE_VIDEOS) / 1e6
            print(f"{len(SAMPLE_VIDEOS)} known sample videos, {total_mb:.1f} MB in all; the first three:")
            for sample in SAMPLE_VIDEOS[:3]:
                print(f"  {sample.folder}/{sample.name}  {sample.size / 1e6:.2f} MB  class: {sample.label}")"""),
        code("""\
            print("cache folder:", cache_dir())
            print("data folder: ", data_dir())
            found = available_samples()
            print(f"{len(found)} sample videos found here" + ("" if found else " (run download_samples() to get them)"))""",
             ignore=True),
        md("""
            ## The weights switch

            The pretrained two-stream models are two zips of 235 MB on Google Drive (one per
            stream, each with the model, its training log and its test-set predictions). Colab
            downloads them in about a minute; on a machine without Google Drive, or when Drive's
            download quota is exhausted, they are not available. So every notebook starts with

            ```python
            WEIGHTS = "auto"
            ```

            - `"auto"`: the pretrained models when they are in the cache or the notebook runs in
              Colab, otherwise the demo models;
            - `"pretrained"`: always the pretrained models (downloaded on first use);
            - `"demo"`: the small demo models shipped with the lab, trained on synthetic clips of
              8 classes (notebook 8). They run anywhere in seconds, but they only know their 8
              synthetic classes, so with them the notebooks use synthetic clips;
            - `("spatial.h5", "motion.h5")`: your own copies of the two files, e.g. from a
              mounted Google Drive.

            `choose_weights` resolves the switch (without loading anything) and says why, as in the
            second cell of this notebook; `load_two_stream(WEIGHTS)` makes the same choice and
            loads both streams (`models.choice` says which and why). The notebooks
            stored in the repository were run with the demo models, which is what that cell says;
            in Colab it says `pretrained`. The `pretrained` line of `doctor_report()` above says
            whether the pretrained weights are already in the cache.

            If the download fails in Colab (Google Drive answers "quota exceeded" for popular
            files, the most common failure of every two-stream lab), there are two ways out:

            - your instructor may host a copy of the two zips for the class: then
              `os.environ["TWOSTREAM_LAB_WEIGHTS_URL"] = "<the address they give>"` before
              loading, and Google Drive is not contacted at all;
            - or the error message gives the two Drive links: add the files to your own Drive,
              mount it (`from google.colab import drive; drive.mount("/content/drive")`), unzip,
              and set `WEIGHTS = ("/content/drive/MyDrive/spatial.h5", "/content/drive/MyDrive/motion.h5")`.

            An instructor (or CI) can run every notebook one way with the environment variable
            `TWOSTREAM_LAB_WEIGHTS` (`auto`, `pretrained` or `demo`), which overrides the
            switch; the notebooks say so in their output.
        """),
    ]


def nb03() -> list:
    name = "03_loading_the_models.ipynb"
    return [
        *header(name, "3. Loading the models: two Xception streams", [
            "the architecture of both streams: an input normalisation layer `data_norm`, an "
            "Xception CNN (Chollet 2017) and a 101-way softmax;",
            "why the two streams differ only in their first layers, to the parameter;",
            "how much memory the weights and one batch of inputs take, and how long a batch takes;",
            "how weights saved by TensorFlow 1 are loaded into Keras 3 without running any code "
            "from the file.",
        ]),
        weights_load_cell(),
        md("""
            `models` holds both streams (`models.spatial`, `models.motion`), the class names and
            where the weights came from (`models.source`). Before looking at the weights, let us
            build the pretrained architectures themselves: `build_spatial_model()` and
            `build_motion_model()` make them layer for layer, with random weights (building takes
            a few seconds; nothing is downloaded).

            ## The spatial stream
        """),
        code("""\
            from twostream_lab import build_motion_model, build_spatial_model

            spatial = build_spatial_model()
            spatial.summary(print_fn=print)"""),
        md("""
            - `input_spatial`: one RGB frame resized to 299 x 299, values in 0..1;
            - `data_norm`: a `BatchNormalization` with neither shift nor scale
              (`center=False, scale=False`). At prediction time it computes
              `(x - moving_mean) / sqrt(moving_variance + epsilon)` per channel with the mean and
              variance learnt on the training frames: it is the model's only input normalisation;
            - `xception`: the Xception CNN without its classifier (`include_top=False`): 2048
              feature maps of 10 x 10;
            - `avg_pool` and `predictions`: global average pooling and a 101-way softmax.

            ## The motion stream
        """),
        code("""\
            motion = build_motion_model()
            motion.summary(print_fn=print)"""),
        md("""
            The motion stream takes 20 channels (u of 10 flow frames, then v of the same frames)
            and nests a whole Xception with its classifier. Apart from the input, the two streams
            are the same network: the difference in their parameter counts comes only from the
            17 extra input channels.
        """),
        code("""\
            extra = motion.count_params() - spatial.count_params()
            first_conv = 3 * 3 * (20 - 3) * 32  # block1_conv1: 3x3 kernels, 32 filters, 17 more input channels
            data_norm = 2 * (20 - 3)            # data_norm: moving mean and variance of 17 more channels
            print(f"spatial: {spatial.count_params():,} parameters")
            print(f"motion:  {motion.count_params():,} parameters")
            print(f"difference {extra:,} = first convolution {first_conv:,} + data_norm {data_norm}")
            for model in (spatial, motion):
                megabytes = model.count_params() * 4 / 2**20
                print(f"{model.name}: {megabytes:.1f} MiB of float32 weights")"""),
        md("""
            `data_norm` at work: with the random weights just built, its moving mean is 0 and its
            variance 1, so it barely changes the input. The formula above, checked on a random
            frame:
        """),
        code("""\
            import numpy as np

            layer = spatial.get_layer("data_norm")
            mean, variance = (np.asarray(w) for w in layer.get_weights())
            x = np.random.default_rng(0).uniform(0, 1, (1, 299, 299, 3)).astype("float32")
            formula = (x - mean) / np.sqrt(variance + layer.epsilon)
            print("weights:", [w.shape for w in layer.get_weights()], " epsilon:", layer.epsilon)
            print("layer == formula:", np.allclose(np.asarray(layer(x, training=False)), formula, atol=1e-5))"""),
        md("""
            ## Memory and time of one batch

            The inputs are float32: one 299 x 299 RGB frame is 1 MiB, one 20-channel flow stack
            7 MiB. Predicting in batches of 8 keeps memory small whatever the video's length (the
            tutorial built the inputs of the whole video at once: about 1.8 GiB for 250 frames).
            The time depends on the machine (on a 2-core CPU about 0.4 s per frame per stream;
            on a Colab GPU a few milliseconds):
        """),
        code("""\
            batch = 8
            print(f"spatial batch: {batch * 299 * 299 * 3 * 4 / 2**20:.1f} MiB")
            print(f"motion batch:  {batch * 299 * 299 * 20 * 4 / 2**20:.1f} MiB")"""),
        code("""\
            import time

            for model in (spatial, motion):
                x = np.zeros((batch, *model.input_shape[1:]), "float32")
                model.predict_on_batch(x)  # the first call also builds the computation
                started = time.perf_counter()
                model.predict_on_batch(x)
                seconds = time.perf_counter() - started
                print(f"{model.name}: {seconds:.2f} s for {batch} inputs, {seconds / batch:.3f} s each")""",
             ignore=True),
        md("""
            ## Loading weights saved by TensorFlow 1

            The pretrained files were saved in 2018 by TensorFlow 1.11 with `model.save`. Keras 3's
            `load_model` cannot read them (it rejects the old layer configurations), and it would
            not be safe anyway: a model file can hold Python code (`Lambda` layers) that loading
            runs. `load_legacy_weights(model, path)`
            therefore builds the architecture in code, as above, and copies only the weight arrays
            from the file, layer by layer in order, checking every shape; it never runs anything
            stored in the file. `load_two_stream("pretrained")` does all of it after the download.

            ## The models this notebook loaded

            The switch at the top loaded these two streams:
        """),
        code("""\
            for model in (models.spatial, models.motion):
                print(f"{model.name}: input {model.input_shape[1:]}, {model.count_params():,} parameters, "
                      f"{model.output_shape[-1]} classes")
            print("classes:", ", ".join(models.class_names[:8]) + (", ..." if len(models.class_names) > 8 else ""))
            mean, variance = models.spatial.get_layer("data_norm").get_weights()
            print("spatial data_norm, per RGB channel: mean", np.round(mean, 3), "std", np.round(np.sqrt(variance), 3))"""),
        md("""
            The last line is what `data_norm` learnt: the mean and standard deviation of each
            colour channel over the training frames, which it subtracts and divides by.

            With the demo models, both streams have the same structure as the pretrained ones
            (`input` -> `data_norm` -> a small CNN -> `avg_pool` -> `predictions`) but take
            48 x 48 inputs and know 8 synthetic classes; with the pretrained ones, they are the
            two Xception models above with their trained weights. Either way, everything after
            this point reads the input sizes, the number of stacked flow frames (channels / 2) and
            the classes from the models.
        """),
    ]


def nb04() -> list:
    name = "04_dataset_and_flow.ipynb"
    return [
        *header(name, "4. The dataset and optical flow", [
            "the 101 classes of UCF101 (Soomro, Zamir & Shah 2012) and the sample videos;",
            "to pick a video (a sample, your own upload or a URL) and read its frames: shape, "
            "type and memory;",
            "how TV-L1 optical flow (Zach, Pock & Bischof 2007) is computed, why it is slow, and "
            "the faster alternatives;",
            "how flow is stored as 8-bit images, and the tutorial's wrap-around bug.",
        ]),
        weights_choice_cell(),
        md("""
            ## UCF101

            UCF101 has 13,320 YouTube clips of 101 actions, in 25 groups per class (clips of one
            group come from one long video, so a split keeps groups together). The pretrained models
            were trained on the 9,537 clips of split 1 and tested on its 3,783. Output *i* of a
            model is class *i* of this list (line *i + 1* of UCF101's `classInd.txt`):
        """),
        code("""\
            from twostream_lab import UCF101_CLASSES
            from twostream_lab.data.classes import class_index

            print(len(UCF101_CLASSES), "classes:", ", ".join(UCF101_CLASSES[:6]), "...", UCF101_CLASSES[-1])
            print("Basketball is output", class_index("Basketball"))"""),
        md("""
            ## The sample videos

            The setup cell downloaded 34 test clips of UCF101 (320 x 240 pixels, 25 or 30 frames per
            second) and the activity's Kinetics clip. The tutorial picked one at random; here you
            choose. With the demo models the picker starts on a synthetic clip, the only kind the
            demo models know; the sample videos are still listed.
        """),
        code("""\
            from twostream_lab.notebook.widgets import video_picker

            picker = video_picker(synthetic=weights.is_demo)
            picker""", ignore=True),
        md("""
            ## Frames

            `read_video` decodes every frame into one array: RGB (OpenCV's BGR is converted once),
            `uint8`, shape `(T, H, W, 3)`. `max_frames` keeps the first frames only and
            `short_side` resizes while reading: a 10-minute or 1080p video would otherwise not fit
            in memory, and the lab refuses such a read with a message saying how to limit it.
        """),
        code("""\
            MAX_FRAMES = 60

            video = picker.read(max_frames=MAX_FRAMES)
            print(video)
            print("frames:", video.frames.shape, video.frames.dtype, f"{video.frames.nbytes / 2**20:.2f} MiB")
            print(f"{video.duration:.2f} s at {video.fps:g} frames per second")"""),
        code("""\
            import matplotlib.pyplot as plt

            shown = [0, video.num_frames // 3, 2 * video.num_frames // 3, video.num_frames - 1]
            fig, axes = plt.subplots(1, 4, figsize=(16, 4))
            for ax, index in zip(axes, shown):
                ax.imshow(video.frames[index])
                ax.set_title(f"frame {index}")
                ax.set_axis_off()
            plt.show()"""),
        md("""
            ## Optical flow with TV-L1

            Optical flow gives every pixel a displacement *(u, v)* from one frame to the next. TV-L1
            (Zach, Pock & Bischof 2007) finds the flow that best explains the second frame from the
            first, measuring the error with an L1 norm (robust to occlusions) and penalising the
            *total variation* of the flow (smooth, but with sharp motion edges). It solves this
            iteratively on a pyramid of 5 scales with 5 warps each, and that is why it is slow:
            about 1 s per 320 x 240 frame pair on a CPU, so about 4 minutes for a 10-second clip.
            The pretrained models were trained on TV-L1 flow, so the lab uses the same method and
            settings (OpenCV's defaults) by default.

            `compute_flow` uses every CPU core, stores its result in the cache (a second run on
            the same frames is instant) and can compute only the frames that are needed.
        """),
        code("""\
            import time

            from twostream_lab import compute_flow

            started = time.perf_counter()
            flow = compute_flow(video, method="tvl1")
            print(f"{len(flow.u)} frame pairs in {time.perf_counter() - started:.1f} s")""", ignore=True),
        code("""\
            print(flow)
            print("u:", flow.u.shape, flow.u.dtype, " v:", flow.v.shape, flow.v.dtype)"""),
        md("""
            ## Flow as 8-bit images

            The flow is stored like the training data: clipped to +-20 pixels and mapped to
            levels 0..255, so 0 means 20 px (or more) left/up, 255 means 20 px (or more)
            right/down, and 128 means no motion. The tutorial wrote
            `(255 * (f + 20) / 40).astype(np.uint8)` without clipping: a pixel moving 20.2 px
            becomes level 0, i.e. "20 px the other way". Fast motion (a diver, a golf club) turns
            into its opposite. `quantize_flow` clips first; `tutorial_cast` reproduces the bug:
        """),
        code("""\
            import numpy as np

            from twostream_lab import quantize_flow
            from twostream_lab.flow import tutorial_cast

            pixels = np.array([-25, -20, -0.5, 0, 0.5, 19.9, 20.2, 25], np.float32)
            print("flow in pixels:", pixels)
            print("quantize_flow: ", quantize_flow(pixels))
            print("tutorial cast: ", tutorial_cast(pixels))"""),
        md("""
            ## Pictures of the flow

            *u* and *v* as images (the tutorial's inferno colour map: dark = left/up, bright =
            right/down), the flow as colours (hue = direction, brightness = speed) and its speed
            alone, for the middle flow frame:
        """),
        code("""\
            from twostream_lab.pictures.flow_viz import show_flow_color, show_flow_component, show_flow_magnitude

            middle = len(flow.u) // 2
            fig, axes = plt.subplots(1, 4, figsize=(16, 4))
            show_flow_component(axes[0], flow.u[middle], title=f"u, flow frame {middle}")
            show_flow_component(axes[1], flow.v[middle], title=f"v, flow frame {middle}")
            show_flow_color(axes[2], flow.u[middle], flow.v[middle], title="direction and speed")
            show_flow_magnitude(axes[3], flow.u[middle], flow.v[middle], title="speed")
            plt.show()"""),
        md("""
            ## Faster alternatives

            `FLOW_METHODS` lists the methods the lab offers. With a GPU, `method="auto"` uses a
            TensorFlow version of the same TV-L1 algorithm. The faster CPU methods are not what the
            models were trained on, so their predictions can be somewhat worse.
        """),
        code("""\
            from twostream_lab import FLOW_METHODS

            for method in FLOW_METHODS.values():
                print(f"{method.name:>10}: {method.description}")"""),
        md("""
            Time and agreement with TV-L1 on this video (the share of flow values within 2 levels,
            0.3 px, of TV-L1's), measured here:
        """),
        code("""\
            for method in ("tvl1-fast", "dis", "farneback"):
                started = time.perf_counter()
                other = compute_flow(video, method=method, cache=False, progress=False)
                seconds = (time.perf_counter() - started) / len(other.u)
                close = np.mean(np.abs(np.stack([other.u, other.v]).astype(int) - np.stack([flow.u, flow.v])) <= 2)
                print(f"{method:>10}: {1000 * seconds:7.1f} ms per pair, {100 * close:5.1f} % within 2 levels of tvl1")""",
             ignore=True),
        code("""\
            started = time.perf_counter()
            again = compute_flow(video, progress=False)
            print(f"again, from the cache: {1000 * (time.perf_counter() - started):.0f} ms, identical: {np.array_equal(again.u, flow.u)}")""",
             ignore=True),
        md("""
            Whatever the method, the flow is computed *before* the network runs, for every frame
            pair, and the motion stream needs 10 of them for each prediction: on a CPU, computing
            TV-L1 flow takes longer than running both CNNs (the tutorial's run on the activity's
            250-frame clip spent 381 s, 55 % of its time, on flow). The next notebook feeds the
            frames and the flow to the two streams.
        """),
    ]


def nb05() -> list:
    name = "05_predictions_and_fusion.ipynb"
    return [
        *header(name, "5. Predictions: batches, per-frame scores, fusion and the demo video", [
            "how frames and flow stacks become the models' input batches (shapes, memory);",
            "what each stream predicts for every frame, and how the scores line up in time;",
            "late fusion by averaging, and why the tutorial's bars were cut off;",
            "the tutorial's six-panel figure, a frame explorer, and the annotated demo video.",
        ]),
        weights_load_cell(),
        md("""
            ## A video and its flow

            Pick a video. With the pretrained models the list offers the sample videos (and you
            can upload your own or paste a URL); with the demo models it starts on a synthetic
            clip, the only kind they know. Where widgets cannot render, the picker prints its
            choice and how to change it (`picker.select(...)`).
        """),
        code("""\
            from twostream_lab.notebook.widgets import video_picker

            picker = video_picker(synthetic=models.is_demo)
            picker""", ignore=True),
        md("""
            Your own video: in Colab, set `UPLOAD = True` and run the cell; Colab's uploader
            asks for a file (the picker's own upload button drops files over about 1 MB in
            Colab). Elsewhere, use the picker's upload button or `picker.select("my_video.mp4")`.
        """),
        code("""\
            UPLOAD = False  # True, in Colab: choose a video file on your computer

            if UPLOAD:
                picker.upload()
                print(picker)""", ignore=True),
        md("""
            `MAX_FRAMES` limits how much of a real video is read: on a CPU every frame costs about
            1 s of TV-L1 flow and 0.7 s of prediction with the pretrained models (on a Colab GPU
            far less). Synthetic clips have 16 frames of 48 x 48 pixels.
        """),
        code("""\
            MAX_FRAMES = 60

            video = picker.read(max_frames=MAX_FRAMES)
            print(video)"""),
        code("""\
            from twostream_lab import compute_flow

            flow = compute_flow(video, method="auto")  # TV-L1 as the training data (on the GPU if there is one)""",
             ignore=True),
        code("""\
            print(f"{video.num_frames} frames -> {len(flow.u)} flow frames u and v of {flow.u.shape[1:]} ({flow.method})")"""),
        md("""
            ## The input batches

            The tutorial's inputs, reproduced exactly by `twostream_lab.batching`:

            - spatial: each RGB frame resized to the model's input size (bicubic, the whole frame,
              aspect ratio not kept) and divided by 255;
            - motion: for a start *s*, the flow frames `u[s..s+L-1]` in channels `0..L-1` and
              `v[s..s+L-1]` in channels `L..2L-1`, resized the same way, divided by 255. A video
              of *T* frames has *T - 1* flow frames and *T - L* stacks; stack *i* is paired with
              RGB frame *i*.

            `predict_video` builds these `batch_size` at a time, so memory does not grow with the
            length of the video. The first batch of each:
        """),
        code("""\
            from twostream_lab.batching import prepare_frames, prepare_stacks, stack_starts
            from twostream_lab.predict import model_input_size

            height, width, _ = model_input_size(models.spatial)
            L = models.stacked_frames
            starts = stack_starts(len(flow.u), L)
            frames_batch = prepare_frames(video.frames[:8], (height, width))
            stacks_batch = prepare_stacks(flow.u, flow.v, starts[:8], (height, width), L)
            print(f"{len(starts)} stacks of L = {L} flow frames")
            for label, batch in (("spatial", frames_batch), ("motion", stacks_batch)):
                print(f"{label} batch: {batch.shape} {batch.dtype}, values {batch.min():.2f}..{batch.max():.2f}, "
                      f"{batch.nbytes / 2**20:.2f} MiB")
            all_at_once = (video.num_frames * 3 + len(starts) * 2 * L) * height * width * 4
            print(f"this video's inputs all at once (the tutorial): {all_at_once / 2**20:.1f} MiB")
            abseiling = (250 * 3 + 240 * 20) * 299 * 299 * 4  # 250 frames, 240 stacks, pretrained input size
            print(f"a 250-frame video at 299 x 299, all at once: {abseiling / 2**30:.2f} GiB")"""),
        md("""
            Building every input of a video at once, as the tutorial did, needs memory in
            proportion to its length; the lab streams them in batches, so memory stays flat.

            ## Predicting

            `predict_video` runs both streams over every frame (and every stack), fuses them and
            averages over time:
        """),
        code("""\
            from twostream_lab import predict_video

            prediction = predict_video(video, models, flow=flow, batch_size=8)""", ignore=True),
        code("""\
            print(prediction)"""),
        md("""
            The text names the weights that produced it. Behind it are per-frame scores, one softmax
            vector per row:
        """),
        code("""\
            print("spatial:", prediction.spatial.shape, "rows = RGB frames", prediction.spatial_indices[[0, -1]])
            print("motion: ", prediction.motion.shape, "rows = stacks starting at flow frames", prediction.motion_indices[[0, -1]])
            print("fused:  ", prediction.fused.shape, "row i = RGB frame i with the stack starting at i")
            print("each row sums to 1:", bool(abs(prediction.spatial.sum(axis=1) - 1).max() < 1e-4))"""),
        md("""
            The last *L* RGB frames have no stack of their own (the tutorial also dropped one
            more stack than necessary; the lab scores all *T - L*). The video-level score of a
            stream is the mean of its rows; the fused video score fuses those two means.

            The top-5 of one frame, per stream:
        """),
        code("""\
            frame = int(prediction.fused_indices[len(prediction.fused_indices) // 2])
            for stream in ("spatial", "motion", "fused"):
                top = ", ".join(f"{name} {score:.2f}" for name, score in prediction.top_k(5, stream, frame=frame))
                print(f"frame {frame}, {stream:>7}: {top}")"""),
        md("""
            ## Fusion

            Late fusion combines the two softmax vectors. The lab's default is their **average**,
            which is again a probability vector. The tutorial added them and drew the sum on a
            0..1 axis, so a class both streams like (sum up to 2) ran off the chart; the ranking
            is the same either way. Notebook 7 compares other fusions.
        """),
        code("""\
            from twostream_lab import fuse_scores

            s, m = prediction.scores("spatial", frame=frame), prediction.scores("motion", frame=frame)
            print(f"largest sum (tutorial): {(s + m).max():.3f}   largest average: {fuse_scores(s, m).max():.3f}")"""),
        md("""
            ## The six-panel figure

            The tutorial's figure for one frame: the title, the video-level prediction of each
            stream and of both, the RGB frame, *u* and *v* (inferno colour map), and the top-5 of
            the spatial stream, the motion stream and both for that frame.
        """),
        code("""\
            import matplotlib.pyplot as plt

            from twostream_lab.pictures.plotting import frame_figure

            fig = frame_figure(video, flow, prediction, frame)
            plt.show()"""),
        md("""
            The frame explorer puts a slider on it (in Colab and Jupyter; elsewhere it shows one
            frame and says how to show another with `explorer.show(N)`):
        """),
        code("""\
            from twostream_lab.notebook.widgets import frame_explorer

            explorer = frame_explorer(video, flow, prediction)
            explorer""", ignore=True),
        md("""
            ## The annotated demo video

            `render_demo_video` writes the same figure for every stack as an H.264 mp4 (16 frames
            per second, like the tutorial) and `show_video` plays it here. It is written into the
            cache folder; `print(path)` shows where, to download it.
        """),
        code("""\
            from pathlib import Path

            from twostream_lab import cache_dir, render_demo_video
            from twostream_lab.pictures.render import show_video

            path = render_demo_video(video, flow, prediction, cache_dir("demo-videos") / f"{Path(video.name).stem}.mp4")
            show_video(path)""", ignore=True),
    ]


def nb06():
    name = "06_activity_abseiling.ipynb"
    learn = "\n".join(f"- {item}" for item in [
        "what the two-stream model answers for an action it was never trained on;",
        "to read each stream's per-frame predictions in the annotated demo video;",
        "to explain in your own words how the two-stream model works, one weakness and one "
        "strength.",
    ])
    question = "**Question {n}.** {text}"
    answer = {"role": checker.ROLE_ANSWER}
    cells = [
        md(f"[![Open In Colab]({COLAB_BADGE})]({colab_url(name)})\n\n" + textwrap.dedent(f"""
            # 6. Activity: abseiling, an action the models never saw

            **Instructions**

            - This is **individual work**: answer in your own words. Near-identical answers in
              different submissions are flagged.
            - Write your **name** in the cell below. A notebook without a name is not graded.
            - Run the **whole notebook from the top**, once, in order (in Colab: *Runtime > Restart
              session and run all*), so that every cell has its output.
            - Answer each question **in the text cell marked "Answer"** below it (double-click
              the cell to edit it). A code cell or its output is not an answer.
            - **Submit the executed `.ipynb`** (in Colab: *File > Download > Download .ipynb*),
              with all outputs, including the demo video titled
              "{checker.PREDICTION_TITLE}".

            **What you will learn**

            """).strip() + "\n\n" + learn),
        md(checker.NAME_PLACEHOLDER,
           **{checker.METADATA_KEY: {"role": checker.ROLE_NAME}}),
        code(setup_source()),
        md("""
            ## The models

            This activity is about the **pretrained** UCF101 models, so the switch says
            `"pretrained"`: in Colab they are downloaded on first use (two zips of 235 MB; with
            `KEEP_CACHE_IN_DRIVE = True` in the setup cell, once for all notebooks). If the
            download fails, the error says how to get them (your instructor's mirror, or by
            hand). `WEIGHTS = "demo"` runs the activity on the offline demo models instead:
            allowed for practice, but the instructor's checker reports such a submission.
        """),
        weights_load_cell('WEIGHTS = "pretrained"  # the UCF101 models; "demo" only for practice offline'),
        md("""
            ## The video

            `abseiling_k400.mp4` is a 10-second clip (250 frames, 454 x 256 pixels, 25 frames
            per second) of the class "abseiling" of Kinetics-400 (Kay et al. 2017). Abseiling is
            **not** one of UCF101's 101 classes, so the models can only answer with the UCF101
            classes that look or move most like it. Before running the next cells, guess which.

            The whole clip is predicted, as in the tutorial: all 250 frames, so 249 frame pairs
            of flow and 240 stacks of 10 flow frames. With the pretrained models the frames keep
            their short side of 256 pixels, the size at which the training flow was computed;
            with the demo models they are read at 48 pixels, the demo models' input size.
            `MAX_FRAMES = 60` would read only the first 60 frames (2.4 s of 10) for a quick look;
            your submission then says that it covers only part of the clip.
        """),
        code("""\
            from twostream_lab import make_synthetic_clip, read_video
            from twostream_lab.flow import resolve_flow_method
            from twostream_lab.data.samples import activity_video_path

            FLOW_METHOD = resolve_flow_method("auto")  # "tvl1-tf" on a GPU, else "tvl1"
            SHORT_SIDE = 48 if models.is_demo else 256
            MAX_FRAMES = None  # None: all 250 frames; a number reads only the first ones

            path = activity_video_path()
            if path is not None:
                video = read_video(path, short_side=SHORT_SIDE, max_frames=MAX_FRAMES)
            else:
                print("abseiling_k400.mp4 is not in the data folder: run the setup cell in Colab, or "
                      "twostream_lab.download_samples(). A synthetic clip stands in so that the cells below run.")
                video = make_synthetic_clip("red moving down-right", seed=0)
            print(video)""", ignore=True),
        md("""
            ## How long it will take

            On a CPU the flow is the slow part: TV-L1 costs about 1 s per frame pair at this
            size on Colab's 2 cores, and both Xception streams about 0.25 s per frame, so the
            whole clip takes about 5 to 6 minutes (on a GPU runtime, about a minute). The
            estimate below is measured on this machine, with these models, before the long cell:
        """),
        code("""\
            from twostream_lab.notebook.timing import estimate_run_time

            print(estimate_run_time(video, models, flow_method=FLOW_METHOD))""", ignore=True),
        md("""
            ## Flow and prediction

            The flow of every frame pair (`compute_flow`), then both streams on every frame and
            every stack of 10 flow frames, fused by averaging (`predict_video`). The text names the
            weights that produced it, and how much of the clip it covers.
        """),
        code("""\
            from twostream_lab import compute_flow, predict_video

            flow = compute_flow(video, method=FLOW_METHOD)
            prediction = predict_video(video, models, flow=flow)
            print(prediction)""", ignore=True),
        md("""
            ## The demo video

            Every frame with its flow and the top-5 of each stream and of both for that frame
            (the tutorial's annotated video).
        """),
        code("""\
            from twostream_lab import cache_dir, render_demo_video
            from twostream_lab.pictures.render import show_video

            demo_path = render_demo_video(video, flow, prediction, cache_dir("activity") / "abseiling_k400_prediction.mp4")
            show_video(demo_path)""", ignore=True),
        md("""
            To look at single frames, move the slider (in Colab or Jupyter):
        """),
        code("""\
            from twostream_lab.notebook.widgets import frame_explorer

            frame_explorer(video, flow, prediction)""", ignore=True),
        md("""
            ## Questions

            Answer in your own words, in the text cells. Notebooks 1, 3, 4 and 5 of this lab have
            what you need; the videos and numbers above are evidence you can use.
        """),
        md(question.format(n=1, text="Is the two-stream model a **2D or a 3D** model? Explain "
                           "what its convolutions slide over, and where time enters the model.")),
        md(checker.ANSWER_PLACEHOLDER, **{checker.METADATA_KEY: {**answer, "question": "q1"}}),
        md(question.format(n=2, text="Give **one disadvantage** of the two-stream model, and "
                           "explain it.")),
        md(checker.ANSWER_PLACEHOLDER, **{checker.METADATA_KEY: {**answer, "question": "q2"}}),
        md(question.format(n=3, text="Give **one advantage** of the two-stream model over a "
                           "**CNN2D + RNN** model (a 2D CNN applied to every frame, followed by "
                           "a recurrent network such as an LSTM), and explain it.")),
        md(checker.ANSWER_PLACEHOLDER, **{checker.METADATA_KEY: {**answer, "question": "q3"}}),
        md(f"""
            **Before you submit:** *Restart session and run all*, then check that your name, the
            three answers and the demo video "{checker.PREDICTION_TITLE}" are in the notebook, and
            download the `.ipynb`.
        """),
    ]
    return cells, {checker.METADATA_KEY: {"notebook": checker.NOTEBOOK_ID}}


def nb07() -> list:
    name = "07_fusion_compared.ipynb"
    return [
        *header(name, "7. Fusion compared, and the published table", [
            "four ways to fuse the two streams: average, weighted (TSN's 1 : 1.5), max and "
            "product;",
            "how video-level accuracy is measured (top-1, top-5), and the authors' protocol of "
            "19 samples per video;",
            "the published UCF101 table (spatial 86.04 %, motion 84.40 %, average 91.25 %), "
            "reproduced from the released predictions in Colab.",
        ]),
        weights_load_cell(),
        md("""
            ## Four fusions

            All work on softmax vectors, per frame or per video (`fuse_scores`):

            - **average** `(s + m) / 2`, the two-stream paper's simplest late fusion;
            - **weighted** `(a s + b m) / (a + b)`; Temporal Segment Networks (Wang et al. 2016)
              weight the motion stream more, `(1, 1.5)`, because it is the more reliable one;
            - **max**: per class, the more confident stream;
            - **product**: per class the geometric mean `sqrt(s m)`, renormalised; a class must be
              likely for *both* streams.

            Feichtenhofer, Pinz & Zisserman (2016) show that fusing the two networks earlier, at a
            convolutional layer where the features still have a position, does better still; the
            late fusions here need no training at all.
        """),
        code("""\
            import numpy as np

            from twostream_lab import fuse_scores
            from twostream_lab.fusion import FUSION_METHODS, TSN_WEIGHTS

            s = np.array([0.6, 0.3, 0.1])  # spatial: class 0
            m = np.array([0.1, 0.7, 0.2])  # motion: class 1
            for method in FUSION_METHODS:
                weights = TSN_WEIGHTS if method == "weighted" else None
                print(f"{method:>8}: {fuse_scores(s, m, method=method, weights=weights).round(3)}")"""),
        md("""
            ## Measuring accuracy

            A video is scored by its video-level scores: top-1 is right when the best class is
            the true one, top-5 when the true class is among the five best. The authors scored
            each test video from 19 evenly spaced frames and flow stacks per stream
            (`predict_video(..., sampling="sampled")`), averaged over time, then fused.

            With the pretrained models, the released `.preds` files hold exactly that for the
            3,783 test videos of UCF101 split 1 (the sum of 19 softmax vectors per video and
            stream), so the table can be reproduced in seconds. With the demo models, the same
            evaluation runs on held-out synthetic clips.
        """),
        code("""\
            from twostream_lab import make_synthetic_dataset, predict_video
            from twostream_lab.evaluation.preds import read_preds
            from twostream_lab.weights.pretrained import fetch_pretrained

            if models.is_demo:
                videos, labels = make_synthetic_dataset(24, seed=7)
                spatial_scores, motion_scores = {}, {}
                for video in videos:
                    p = predict_video(video, models, progress=False)
                    spatial_scores[video.name], motion_scores[video.name] = p.spatial_video, p.motion_video
                test_list = [(video.name, int(label)) for video, label in zip(videos, labels)]
                print(f"{len(videos)} held-out synthetic clips, all frames scored, from the demo models")
            else:
                spatial_scores, samples = read_preds(fetch_pretrained("spatial").preds)
                motion_scores, _ = read_preds(fetch_pretrained("motion").preds)
                test_list = None  # every video in the files, labelled by its name
                print(f"{len(spatial_scores)} UCF101 test videos, {samples} samples each, from the released .preds files")"""),
        code("""\
            from twostream_lab.evaluation.preds import PUBLISHED_TOP1, evaluate_two_stream, format_accuracy_table, video_accuracy

            results = evaluate_two_stream(spatial_scores, motion_scores, test_list, weights=TSN_WEIGHTS)
            for method in ("max", "product"):
                fused = {key: fuse_scores(spatial_scores[key], motion_scores[key], method=method) for key in spatial_scores}
                results[method] = video_accuracy(fused, test_list)
            print(format_accuracy_table(results, published={} if models.is_demo else PUBLISHED_TOP1))"""),
        md("""
            **Reading the table.** With the pretrained models (Colab) the first three rows match
            the published 86.04 / 84.40 / 91.25 %: fusing two streams of about 85 % gives about
            91 %, because they are wrong on different videos. With the demo models the streams are
            built to fail: the spatial stream sees the colour but not the direction (chance among
            4 directions: 25 %), the motion stream the direction but not the colour (50 %), and
            any fusion that keeps both opinions gets close to 100 %. Max fusion can only follow
            one stream at a time, so here it gains least.

            Try it: change the weights of the weighted fusion, e.g. `weights=(1, 3)`, and see
            which stream the result follows.
        """),
    ]


def nb08() -> list:
    name = "08_offline_lab.ipynb"
    return [
        *header(name, "8. The offline lab: train a tiny two-stream network on synthetic actions", [
            "a data set built so that appearance alone and motion alone are each not enough, "
            "and what accuracy each stream should therefore reach;",
            "to train a small two-stream network (same structure as the pretrained one) on it, "
            "on a CPU, in a minute;",
            "to see each stream fail exactly where the other succeeds, and fusion succeed.",
        ], intro="""
            This notebook runs anywhere, offline, with no download: it is about the demo models,
            so its weights switch is fixed to `"demo"`.
        """),
        code("""\
            from twostream_lab import load_two_stream

            WEIGHTS = "demo"  # this notebook studies the demo models themselves
            models = load_two_stream(WEIGHTS)
            print(models.choice)
            models"""),
        md("""
            ## Eight classes: two colours times four directions

            Every clip shows a square moving in a straight line over a textured background. The
            classes are *red* or *blue* moving diagonally *up-left, up-right, down-left* or
            *down-right*. They are built so that:

            - **one RGB frame shows the colour but not the direction**: the square's position in a
              frame says nothing about where it goes; "moving up-left" is literally "moving
              down-right" played backwards;
            - **optical flow shows the direction but not the colour**: flow is computed on grey
              frames, and the two colours have exactly the same grey value.
        """),
        code("""\
            from twostream_lab.offline_lab.synthetic import COLORS, SYNTHETIC_CLASSES

            print(len(SYNTHETIC_CLASSES), "classes:", ", ".join(SYNTHETIC_CLASSES))
            for color, (r, g, b) in COLORS.items():
                print(f"{color:>4} RGB ({r:3d}, {g:3d}, {b:3d}) -> grey 0.299 R + 0.587 G + 0.114 B = {0.299 * r + 0.587 * g + 0.114 * b:.2f}")"""),
        md("""
            One scene (`seed=0`) as all eight classes: frame 5 of each clip, and below it the
            flow between frames 5 and 6 as colours (hue = direction).
        """),
        code("""\
            import matplotlib.pyplot as plt
            import numpy as np

            from twostream_lab import compute_flow, make_synthetic_clip
            from twostream_lab.pictures.flow_viz import show_flow_color

            clips = [make_synthetic_clip(label, seed=0) for label in SYNTHETIC_CLASSES]
            flows = [compute_flow(clip, progress=False) for clip in clips]
            fig, axes = plt.subplots(2, 8, figsize=(16, 4.6))
            for column, (label, clip, flow) in enumerate(zip(SYNTHETIC_CLASSES, clips, flows)):
                axes[0, column].imshow(clip.frames[5])
                axes[0, column].set_title(label.replace(" moving ", "\\n"), fontsize=10)
                axes[0, column].set_axis_off()
                show_flow_color(axes[1, column], flow.u[5], flow.v[5])
            plt.show()"""),
        code("""\
            clip_of, flow_of = dict(zip(SYNTHETIC_CLASSES, clips)), dict(zip(SYNTHETIC_CLASSES, flows))
            backwards = clip_of["red moving down-right"].frames[::-1]
            print("red up-left is red down-right played backwards:",
                  np.array_equal(clip_of["red moving up-left"].frames, backwards))
            red, blue = flow_of["red moving down-right"], flow_of["blue moving down-right"]
            print("red down-right and blue down-right have the same flow:",
                  np.array_equal(red.u, blue.u) and np.array_equal(red.v, blue.v))"""),
        md("""
            **Before measuring, predict.** A perfect spatial stream knows the colour and has to
            guess among 4 directions: what accuracy will it reach? And a perfect motion stream,
            which knows the direction and has to guess between 2 colours? And their average?

            ## The demo models on one scene

            The shipped demo models (`load_two_stream("demo")`) were trained on other scenes. On
            the eight clips above, the top-1 class of each stream and of the fusion:
        """),
        code("""\
            from twostream_lab import predict_video

            print(f"{'true class':<23}{'spatial stream':<23}{'motion stream':<23}both (average)")
            for label, clip, flow in zip(SYNTHETIC_CLASSES, clips, flows):
                p = predict_video(clip, models, flow=flow, progress=False)
                picks = [p.top_k(1, stream)[0][0] for stream in ("spatial", "motion", "fused")]
                print(f"{label:<23}{picks[0]:<23}{picks[1]:<23}{picks[2]}")"""),
        md("""
            The spatial stream gets the colour right and has to guess the direction; it gives
            "up-left" and "down-right" the same answer, because their frames are the same.
            The motion stream gets the direction right and gives red and blue the same answer,
            because their flow is the same. The fusion takes the one class both allow.

            ## Accuracy on held-out clips

            The metrics measured when the shipped models were trained, then the same measurement
            again on fresh clips (`evaluate_demo_models`, through `predict_video`, as for any video):
        """),
        code("""\
            from twostream_lab.models.demo import demo_metrics
            from twostream_lab.offline_lab.training import evaluate_demo_models, format_demo_metrics

            print(format_demo_metrics(demo_metrics()))"""),
        code("""\
            print(format_demo_metrics(evaluate_demo_models(clips=16, seed=5)))"""),
        md("""
            ## Train your own

            `train_demo_models` makes the training clips, computes their TV-L1 flow (the slow
            part), feeds exactly the inputs `predict_video` uses (`prepare_frames`,
            `prepare_stacks`), trains each stream with Adam, and evaluates on held-out clips. The
            shipped models used 512 clips for the spatial stream and 48 for the motion stream
            (`twostream-lab train-demo`, a few minutes); this smaller run takes about a minute on
            two CPU cores. Its weights go into the cache folder (`load_demo_models(folder)` loads
            them); the shipped ones are not touched.
        """),
        code("""\
            from twostream_lab import cache_dir
            from twostream_lab.offline_lab.training import train_demo_models

            metrics = train_demo_models(spatial_clips=128, motion_clips=16, eval_clips=8,
                                        out_dir=cache_dir("my-demo-models"), progress=False)
            print(format_demo_metrics(metrics))
            print(f"trained and evaluated in {metrics['seconds']:.0f} s")""", ignore=True),
        md("""
            **What this shows.** Neither stream can do much better than its chance level here,
            however long it trains, because the information is not in its input: appearance and
            motion are
            *complementary*. This is the claim of the two-stream paper (Simonyan & Zisserman
            2014), made visible: on UCF101 the streams reach 86 % and 84 % alone and 91 % together
            because each recognises videos the other misses.

            Ideas to try: train with fewer epochs and watch the fusion degrade; compare
            `fuse_scores(..., method="max")` with the average on these clips (notebook 7); or make
            clips with `make_synthetic_clip(label, seed=..., speed=...)` at speeds the models never
            saw.
        """),
    ]


NOTEBOOK_BUILDERS = {
    "01_introduction.ipynb": nb01,
    "02_setup.ipynb": nb02,
    "03_loading_the_models.ipynb": nb03,
    "04_dataset_and_flow.ipynb": nb04,
    "05_predictions_and_fusion.ipynb": nb05,
    "06_activity_abseiling.ipynb": nb06,
    "07_fusion_compared.ipynb": nb07,
    "08_offline_lab.ipynb": nb08,
}


def build(name: str) -> nbformat.NotebookNode:
    """The notebook ``name`` with deterministic cell ids and no outputs."""
    nb = new_notebook()
    nb.metadata.update({
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "colab": {"provenance": []},
    })
    cells = NOTEBOOK_BUILDERS[name]()
    if isinstance(cells, tuple):
        cells, extra = cells
        nb.metadata.update(extra)
    stem = name.split("_", 1)[0]
    for number, cell in enumerate(cells, start=1):
        cell["id"] = f"nb{stem}-{number:02d}"
    nb.cells = cells
    return nb


def execute(path: Path) -> float:
    """Execute ``path`` in place in a fresh kernel with a fresh cache; returns the seconds taken."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="twostream-lab-cache-") as cache:
        # Widgets off: the committed outputs show the plain fallback (the picker's choice, one
        # static frame), which a static viewer such as GitHub can display; those cells are tagged.
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "TWOSTREAM_LAB_CACHE": cache,
               "TWOSTREAM_LAB_WIDGETS": "0", "TQDM_DISABLE": "1", "TWOSTREAM_LAB_WEIGHTS": "demo"}
        env.pop("MPLBACKEND", None)
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(env)  # the kernel inherits this process's environment
        try:
            client = NotebookClient(
                nb, timeout=900, kernel_name="python3",
                resources={"metadata": {"path": str(NOTEBOOKS)}},
            )
            started = time.perf_counter()
            client.execute()
            seconds = time.perf_counter() - started
        finally:
            os.environ.clear()
            os.environ.update(saved)
    nbformat.write(nb, path)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("only", nargs="*", help="name prefixes, e.g. 01 06 (default: all)")
    parser.add_argument("--execute", action="store_true", help="execute after writing")
    args = parser.parse_args(argv)
    names = [n for n in NOTEBOOK_BUILDERS if not args.only or n.startswith(tuple(args.only))]
    NOTEBOOKS.mkdir(exist_ok=True)
    for name in names:
        path = NOTEBOOKS / name
        nbformat.write(build(name), path)
        if args.execute:
            seconds = execute(path)
            print(f"{name}: executed in {seconds:.0f} s", flush=True)
        else:
            print(f"{name}: written", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
