"""Smoke tests of the explaining pictures: what they draw, in which order, on which scale."""

from __future__ import annotations

import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from twostream_lab.flow import dequantize_flow, quantize_flow  # noqa: E402
from twostream_lab.pictures import (  # noqa: E402
    draw_flow_arrows,
    draw_flow_components,
    draw_flow_stack,
    draw_stream_confidence,
    draw_two_stream_architecture,
)
from twostream_lab.predict import Prediction  # noqa: E402

CLASSES = ("Archery", "Biking", "Diving", "Fencing", "Haircut", "Punch")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def flow():
    rng = np.random.default_rng(3)
    u = rng.integers(0, 256, (12, 24, 32), dtype=np.uint8)
    v = rng.integers(0, 256, (12, 24, 32), dtype=np.uint8)
    return u, v


def all_texts(fig) -> str:
    return "\n".join(t.get_text() for ax in fig.axes for t in ax.texts)


def test_importing_the_pictures_loads_neither_tensorflow_nor_matplotlib():
    code = ("import sys, twostream_lab.pictures, twostream_lab.notebook.exercises; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------- architecture


def test_architecture_diagram_names_the_parts_and_the_input_shapes():
    fig = draw_two_stream_architecture()
    text = all_texts(fig)
    for words in ("299x299x3", "299x299x20", "spatial stream CNN\n(Xception)",
                  "temporal stream CNN\n(Xception)", "late fusion\n(average)", "class\nscores",
                  "one RGB frame", "10 optical-flow frames", "stack of 20 channels",
                  "u0..u9", ", then v0..v9", "softmax\n101 class scores"):
        assert words in text, words
    assert len(fig.axes) == 1
    assert not any(ax.images for ax in fig.axes[0].child_axes), "no pictures without data"


def test_architecture_diagram_shows_a_real_frame_and_real_flow(flow):
    u, v = flow
    frame = np.random.default_rng(0).integers(0, 256, (24, 32, 3), dtype=np.uint8)
    fig = draw_two_stream_architecture(frame=frame, u=u[:10], v=v[:10])
    images = [image for ax in fig.axes[0].child_axes for image in ax.images]
    # 3 film-strip frames + the RGB input, 4 flow frames, the 20 cards of the stack
    assert len(images) == 3 + 1 + 4 + 20
    assert sum(np.array_equal(image.get_array(), frame) for image in images) == 4
    stack_cards = [image for image in images if image.get_array().ndim == 2]
    assert len(stack_cards) == 20


def test_architecture_diagram_follows_its_knobs(flow):
    u, v = flow
    fig = draw_two_stream_architecture(u=u[:2], v=v[:2], input_size=(224, 224),
                                       stacked_frames=5, num_classes=6, fusion="max")
    text = all_texts(fig)
    assert "224x224x3" in text and "224x224x10" in text and "late fusion\n(max)" in text
    assert "softmax\n6 class scores" in text and "5 optical-flow frames" in text
    with pytest.raises(ValueError, match="both u and v"):
        draw_two_stream_architecture(u=u)
    with pytest.raises(ValueError, match="RGB"):
        draw_two_stream_architecture(frame=u[0])


# --------------------------------------------------------------------------- the stack


def test_flow_stack_shows_20_labelled_channels_u_then_v(flow):
    u, v = flow
    fig = draw_flow_stack(u, v, start=2)
    axes = fig.axes[:20]
    assert len(fig.axes) == 21  # and the colour bar
    for c, ax in enumerate(axes):
        name, i = ("u", c) if c < 10 else ("v", c - 10)
        title = ax.get_title()
        assert title == f"channel {c}\n{name}{i} = {name}[{2 + i}]"
        assert len(ax.images) == 1
        source = (u if name == "u" else v)[2 + i]
        np.testing.assert_array_equal(ax.images[0].get_array(), dequantize_flow(source))
    assert "u0..u9 then v0..v9" in fig._suptitle.get_text()
    assert "flow frames 2..11" in fig._suptitle.get_text()


def test_flow_stack_of_another_length_and_bad_starts(flow):
    u, v = flow
    fig = draw_flow_stack(u, v, 0, 3)
    assert [ax.get_title().splitlines()[1] for ax in fig.axes[:6]] == [
        "u0 = u[0]", "u1 = u[1]", "u2 = u[2]", "v0 = v[0]", "v1 = v[1]", "v2 = v[2]"]
    with pytest.raises(ValueError, match=r"start must be in 0\.\.2"):
        draw_flow_stack(u, v, start=3)
    with pytest.raises(ValueError, match="uint8"):
        draw_flow_stack(u.astype(np.float32), v.astype(np.float32))


def test_flow_stack_colour_bar_reads_in_pixels_and_levels(flow):
    u, v = flow
    fig = draw_flow_stack(u, v)
    labels = [t.get_text() for t in fig.axes[-1].get_yticklabels()]
    assert "0 px = level 128" in labels
    assert "+20 px = level 255" in labels and "-20 px = level 0" in labels


# --------------------------------------------------------------------------- u and v


def test_flow_components_use_a_diverging_scale_of_plus_minus_bound():
    u = quantize_flow(np.full((24, 32), 3.0))
    v = quantize_flow(np.full((24, 32), -3.0))
    fig = draw_flow_components(u, v)
    assert len(fig.axes) == 3  # u, v, colour bar
    image_u, image_v = fig.axes[0].images[0], fig.axes[1].images[0]
    for image in (image_u, image_v):
        assert (image.norm.vmin, image.norm.vmax) == (-20.0, 20.0)
    bar = fig.axes[2]
    ticks = bar.get_yticks()
    assert ticks.min() == -20 and ticks.max() == 20 and 0 in ticks
    assert "px" in bar.get_ylabel()
    norm = image_u.norm
    still = float(dequantize_flow(np.uint8(128)))
    assert norm(still) == pytest.approx(0.5), "level 128 (still) is the neutral middle"
    assert norm(-3.0) < 0.45 and norm(3.0) > 0.55, "left and right visibly differ"
    assert "to the right" in fig.axes[0].get_title() and "down" in fig.axes[1].get_title()
    colour_u, colour_v = image_u.to_rgba(image_u.get_array())[0, 0], \
        image_v.to_rgba(image_v.get_array())[0, 0]
    assert colour_u[0] > colour_u[2] and colour_v[2] > colour_v[0], "right red, up blue"


def test_flow_components_with_a_frame_and_another_bound():
    frame = np.zeros((24, 32, 3), np.uint8)
    fig = draw_flow_components(np.zeros((24, 32)), np.zeros((24, 32)), bound=10, frame=frame)
    assert len(fig.axes) == 4
    assert fig.axes[0].get_title() == "RGB frame"
    assert fig.axes[1].images[0].norm.vmax == 10.0
    with pytest.raises(ValueError, match="same|both"):
        draw_flow_components(np.zeros((24, 32)), np.zeros((24, 31)))


# --------------------------------------------------------------------------- arrows


def test_flow_arrows_for_a_known_shift():
    frame = np.zeros((48, 64, 3), np.uint8)
    u = quantize_flow(np.full((48, 64), 3.0))
    v = quantize_flow(np.full((48, 64), 1.0))
    fig, ax = plt.subplots()
    quiver = draw_flow_arrows(ax, frame, u, v, step=16)
    assert quiver.N == 3 * 4
    np.testing.assert_allclose(quiver.U, 3.0, atol=0.1)
    np.testing.assert_allclose(quiver.V, 1.0, atol=0.1)
    assert ax.yaxis_inverted(), "image rows grow downwards, so v > 0 points down"
    assert "longer than the motion" in ax.get_title()
    gain = 1 / quiver.scale
    assert f"drawn {gain:g}x longer" in ax.get_title()
    assert 16 <= gain * np.hypot(3, 1) <= 2.5 * 16, "arrows about 1.5 grid steps long"
    keys = [a for a in ax.get_children() if type(a).__name__ == "QuiverKey"]
    assert len(keys) == 1 and "px of motion" in keys[0].text.get_text()


def test_flow_arrows_skip_still_blocks():
    frame = np.zeros((48, 64, 3), np.uint8)
    still = np.full((48, 64), 128, np.uint8)  # quantised zero flow
    fig, ax = plt.subplots()
    assert draw_flow_arrows(ax, frame, still, still).N == 0
    moving = dequantize_flow(still).copy()
    moving[:16, :16] = 5.0  # one block moves
    assert draw_flow_arrows(ax, frame, moving, dequantize_flow(still), gain=2).N == 1


def test_flow_arrows_check_their_inputs():
    fig, ax = plt.subplots()
    frame = np.zeros((48, 64, 3), np.uint8)
    flat = np.zeros((48, 64))
    with pytest.raises(ValueError, match="size of the frame"):
        draw_flow_arrows(ax, frame, flat[:40], flat[:40])
    with pytest.raises(ValueError, match="step"):
        draw_flow_arrows(ax, frame, flat, flat, step=0)
    with pytest.raises(ValueError, match="larger than the frame"):
        draw_flow_arrows(ax, frame, flat, flat, step=100)
    with pytest.raises(ValueError, match="gain"):
        draw_flow_arrows(ax, frame, flat, flat, gain=0)


# --------------------------------------------------------------------------- confidence


def test_stream_confidence_groups_the_three_scores(make_scored_clip):
    _, _, prediction = make_scored_clip(20, CLASSES)
    fig = draw_stream_confidence(prediction, k=4)
    bars_ax, time_ax = fig.axes
    containers = bars_ax.containers
    assert len(containers) == 3 and all(len(c) == 4 for c in containers)
    best = np.argsort(-prediction.fused_video, kind="stable")[:4]
    for container, stream in zip(containers, ("spatial", "motion", "fused"), strict=True):
        widths = [bar.get_width() for bar in container]
        np.testing.assert_allclose(widths, prediction.scores(stream)[best], rtol=1e-6)
    labels = bars_ax.get_yticklabels()
    winner = CLASSES[best[0]]
    assert labels[0].get_text() == winner and labels[0].get_fontweight() == "bold"
    assert all(label.get_fontweight() != "bold" for label in labels[1:])
    assert "fused winner" in [t.get_text() for t in bars_ax.texts]
    legend = [t.get_text() for t in bars_ax.get_legend().get_texts()]
    assert legend == ["spatial stream (RGB)", "motion stream (flow)", "fused (average)"]
    lines = time_ax.get_lines()
    assert len(lines) == 3
    np.testing.assert_array_equal(lines[0].get_xdata(), prediction.spatial_indices)
    np.testing.assert_allclose(lines[2].get_ydata(), prediction.fused[:, best[0]])
    assert winner in time_ax.get_title()


def test_stream_confidence_of_a_single_scored_frame():
    C = len(CLASSES)
    rng = np.random.default_rng(5)
    spatial = rng.dirichlet(np.ones(C), 1).astype(np.float32)
    motion = rng.dirichlet(np.ones(C), 1).astype(np.float32)
    prediction = Prediction(
        spatial=spatial, motion=motion,
        spatial_indices=np.array([4]), motion_indices=np.array([4]), class_names=CLASSES,
        video_name="one.mp4", source="demo", sampling=1, fusion="max", num_frames=20,
    )
    fig = draw_stream_confidence(prediction, k=10)  # more than the classes: all of them
    assert len(fig.axes) == 1
    assert all(len(c) == C for c in fig.axes[0].containers)
    assert "fused (max)" in [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    with pytest.raises(ValueError, match="k must be a positive whole number"):
        draw_stream_confidence(prediction, k=0)


def test_the_pictures_of_a_real_clip(ucf101_videos):
    from twostream_lab.flow import compute_flow
    from twostream_lab.video import read_video

    video = read_video(ucf101_videos[0], max_frames=12)
    flow = compute_flow(video, method="dis", cache=False, progress=False)
    frame = video.frames[0]
    fig = draw_two_stream_architecture(frame=frame, u=flow.u[:10], v=flow.v[:10])
    assert len([a for ax in fig.axes[0].child_axes for a in ax.images]) == 28
    assert len(draw_flow_stack(flow.u, flow.v, start=1).axes) == 21
    assert len(draw_flow_components(flow.u[0], flow.v[0], frame=frame).axes) == 4
    fig, ax = plt.subplots()
    quiver = draw_flow_arrows(ax, frame, flow.u[0], flow.v[0])
    assert quiver.N <= (240 // 16) * (320 // 16)
