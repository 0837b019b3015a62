"""Progress bars: text on stderr outside a kernel, one display output updated in place inside."""

from __future__ import annotations

import re

import pytest
from tqdm.std import tqdm

from twostream_lab import make_synthetic_clip, progress
from twostream_lab.flow import compute_flow
from twostream_lab.progress import progress_bar


def test_outside_a_kernel_it_is_a_text_bar_on_stderr(capsys):
    with progress_bar(total=3, desc="steps", unit="step") as bar:
        assert type(bar) is tqdm
        bar.update(3)
    assert list(progress_bar("ab", desc="letters", unit="letter")) == ["a", "b"]
    out, err = capsys.readouterr()
    assert out == ""
    # the bar's width follows the terminal's
    assert re.search(r"steps: 100%\|█+\| 3/3", err) and "letters: 100%" in err


def test_disabled_shows_nothing(capsys):
    with progress_bar(total=3, desc="steps", unit="step", enabled=False) as bar:
        bar.update(3)
    assert list(progress_bar(range(2), desc="steps", unit="step", enabled=False)) == [0, 1]
    assert capsys.readouterr() == ("", "")


@pytest.fixture
def kernel_display(monkeypatch) -> list[tuple[str, str]]:
    """A kernel stand-in: what the bars show, as (``"display"`` or ``"update"``, text)."""
    pytest.importorskip("IPython")
    import IPython.display

    shown: list[tuple[str, str]] = []

    class Handle:
        def display(self, bundle, raw):
            shown.append(("display", bundle["text/plain"]))

        def update(self, bundle, raw):
            shown.append(("update", bundle["text/plain"]))

    monkeypatch.setattr(progress, "_in_kernel", lambda: True)
    monkeypatch.setattr(IPython.display, "DisplayHandle", Handle)
    return shown


def test_in_a_kernel_one_output_is_updated_at_tqdm_s_pace(kernel_display, capsys):
    with progress_bar(total=1000, desc="steps", unit="step", mininterval=60) as bar:
        for _ in range(1000):
            bar.update(1)
    # mininterval: only the first and the last state are sent, not one message a step
    assert [kind for kind, _ in kernel_display] == ["display", "update"]
    assert "0/1000" in kernel_display[0][1]
    assert "steps: 100%|██████████| 1000/1000" in kernel_display[1][1]
    assert capsys.readouterr() == ("", "")


def test_in_a_kernel_leave_false_clears_the_output(kernel_display):
    list(progress_bar(range(3), desc="steps", unit="step", leave=False))
    assert kernel_display[-1] == ("update", "")


def test_a_real_kernel_saves_the_finished_bar_without_a_widget():
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("ipykernel")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import time\n"
        "from twostream_lab.progress import progress_bar\n"
        'with progress_bar(total=50, desc="steps", unit="step") as bar:\n'
        "    for _ in range(50):\n"
        "        time.sleep(0.002)\n"
        "        bar.update(1)\n"
    )])
    nbclient.NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    (output,) = nb.cells[0].outputs  # no stderr stream
    assert output.output_type == "display_data"
    assert set(output.data) == {"text/plain"}
    # the kernel showed 0/50 first: the saved text comes from the update_display_data messages
    assert "steps: 100%|██████████| 50/50" in output.data["text/plain"]


def test_compute_flow_shows_a_finished_bar_on_stderr(capsys):
    clip = make_synthetic_clip("red moving down-right", seed=0)
    flow = compute_flow(clip, method="dis", cache=False, progress=True)
    pairs = len(flow.u)
    assert re.search(rf"Optical flow \(dis\): 100%\|█+\| {pairs}/{pairs}", capsys.readouterr().err)


def test_a_mirror_download_shows_our_bar_finished(kernel_display, tmp_path, capsys):
    """pooch draws its own tqdm.auto widget unless it is given a bar: the weights mirror's download
    over a loopback server ends with one finished text bar, and nothing on stderr."""
    from loopback import file_server

    from twostream_lab.weights.download import _http_download

    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "spatial.zip").write_bytes(bytes(300_000))
    with file_server(tmp_path / "www") as server:
        _http_download(f"{server.url}spatial.zip", str(tmp_path / "got.zip"), connect_timeout=5,
                       read_timeout=5)
    assert (tmp_path / "got.zip").read_bytes() == bytes(300_000)
    assert re.search(r"download: 100%\|█+\| 293k/293k", kernel_display[-1][1]), kernel_display
    assert capsys.readouterr().err == ""
