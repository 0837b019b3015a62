"""Recording a clip with the webcam in Colab: act out a UCF101 class and see what each stream says.

:func:`record_webcam` runs a small recorder in the browser through Colab's
``google.colab.output.eval_js``: the browser asks to allow the camera, shows a live preview with
a countdown and a stop button, records with ``MediaRecorder`` (WebM) and sends the recording
back as a base64 ``data:`` URL. The clip is written into the uploads folder (like an upload) and
kept only if OpenCV decodes enough frames of it for the motion stream.

Outside Colab there is no browser to ask: record a clip with the computer's camera app and
choose it with the picker's upload button or ``picker.select(PATH)``.
"""

from __future__ import annotations

import base64
import binascii
import os
import time
from pathlib import Path

from twostream_lab.checks import positive_number
from twostream_lab.notebook.colab import in_colab, save_upload
from twostream_lab.video_errors import VideoError, _format_bytes

__all__ = ["MAX_RECORD_SECONDS", "WebcamError", "record_webcam"]

#: The longest recording :func:`record_webcam` makes: the browser sends it as one message, and
#: a few seconds of one action is what the models were trained on.
MAX_RECORD_SECONDS = 30.0

_VIDEO_SUFFIXES = {".webm", ".mp4", ".avi", ".mov", ".mkv"}
_OTHER_WAYS = "or upload a video file instead with picker.upload()"

# Browser errors of getUserMedia / MediaRecorder (DOMException names), and what to do about each.
_BROWSER_ERRORS = {
    "NotAllowedError": "the camera was not allowed: click the camera icon in the browser's "
                       "address bar, allow the camera for this page, and run the cell again",
    "SecurityError": "the browser blocks the camera on this page: allow the camera in the "
                     "browser's site settings, and run the cell again",
    "NotFoundError": "no camera was found: connect one (and close the apps that use it), and "
                     "run the cell again",
    "NotReadableError": "the camera is in use by another app or tab: close it, and run the "
                        "cell again",
    "NotSupportedError": "this browser cannot record video (no getUserMedia or MediaRecorder): "
                         "use a current Chrome, Firefox or Edge",
}

# One expression (an async arrow function, called at once), so that eval_js gets its promise.
_RECORDER_JS = """(async (ms) => {
  const box = document.createElement('div');
  const preview = document.createElement('video');
  const stop = document.createElement('button');
  const label = document.createElement('span');
  preview.muted = true;
  preview.playsInline = true;
  preview.style.cssText = 'display: block; max-width: 480px';
  stop.textContent = 'stop recording';
  box.append(preview, stop, label);
  document.body.appendChild(box);
  let stream = null;
  try {
    const media = navigator.mediaDevices;
    if (!media || !media.getUserMedia || !window.MediaRecorder) {
      return {error: 'NotSupportedError', message: 'no getUserMedia or MediaRecorder'};
    }
    stream = await navigator.mediaDevices.getUserMedia({video: true});
    preview.srcObject = stream;
    await preview.play();
    if (window.google && google.colab && google.colab.output) {
      google.colab.output.setIframeHeight(document.documentElement.scrollHeight, true);
    }
    // about 1 Mbit/s: 30 s stay under 4 MB, as one eval_js answer
    const options = {videoBitsPerSecond: 1000000};
    if (MediaRecorder.isTypeSupported('video/webm')) options.mimeType = 'video/webm';
    const recorder = new MediaRecorder(stream, options);
    const chunks = [];
    recorder.ondataavailable = (event) => { if (event.data.size > 0) chunks.push(event.data); };
    const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
    const finish = () => { if (recorder.state !== 'inactive') recorder.stop(); };
    stop.onclick = finish;
    recorder.start();
    const end = Date.now() + ms;
    const tick = () => {
      label.textContent = ' recording: ' + (Math.max(0, end - Date.now()) / 1000).toFixed(1)
        + ' s left';
    };
    tick();
    const ticker = setInterval(tick, 100);
    const timer = setTimeout(finish, ms);
    await stopped;
    clearInterval(ticker);
    clearTimeout(timer);
    label.textContent = ' sending the recording to Python...';
    const blob = new Blob(chunks, {type: recorder.mimeType || 'video/webm'});
    return await new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(reader.result);
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(blob);
    });
  } catch (error) {
    return {error: (error && error.name) || 'Error',
            message: (error && error.message) || String(error)};
  } finally {
    if (stream) stream.getTracks().forEach((track) => track.stop());
    box.remove();
  }
})(%d)"""


class WebcamError(RuntimeError):
    """The webcam could not record here: not in Colab, no camera, or the camera was not allowed."""


def record_webcam(seconds: float = 4.0, *, folder: str | os.PathLike | None = None,
                  name: str | None = None) -> Path:
    """Record ``seconds`` of video with the webcam, in Colab, and save it; returns its path.

    The browser asks to allow the camera, then shows a preview, a countdown and a stop button.
    Run it in a cell of its own, and act out the action while the countdown runs.

    Parameters
    ----------
    seconds : float
        How long to record, at most :data:`MAX_RECORD_SECONDS` (the stop button ends it sooner).
    folder : path, optional
        Where the recording is written; default ``<cache>/uploads``.
    name : str, optional
        Its file name; default ``webcam_<date>-<time>.webm``. The suffix follows the recording's
        format (``.webm``; ``.mp4`` from a browser that records only MP4).

    Returns
    -------
    Path
        The recording, which OpenCV decodes (:func:`twostream_lab.video.read_video` reads it).

    Raises
    ------
    WebcamError
        Outside Colab, or when the browser gives no recording (camera not allowed, none found).
    VideoError
        The recording does not decode into enough frames (it is then deleted).

    Examples
    --------
    >>> path = record_webcam(5)  # doctest: +SKIP
    >>> video = read_video(path)  # doctest: +SKIP
    """
    seconds = positive_number(seconds, "seconds")
    if seconds > MAX_RECORD_SECONDS:
        raise ValueError(f"seconds must be at most {MAX_RECORD_SECONDS:g} (the browser sends the "
                         f"whole recording at once), got {seconds:g}")
    if name is not None and (not isinstance(name, str) or not Path(name).name.strip(" .")):
        raise ValueError(f"name must be a file name such as 'jumping.webm', got {name!r}")
    # bounded: a camera prompt left unanswered must not hang the cell forever
    result = _eval_js()(_RECORDER_JS % round(seconds * 1000), timeout_sec=seconds + 120)
    mime, content = _decode_data_url(result)
    suffix = ".mp4" if mime == "video/mp4" else ".webm"
    path = save_upload(_file_name(name, suffix), content, folder)
    _check_decodes(path)
    return path


def _eval_js():
    """Colab's ``output.eval_js``, or a WebcamError that says what to do instead."""
    if not in_colab():
        raise WebcamError(
            "recording from the webcam needs Google Colab (google.colab is not loaded here), "
            "which runs the recorder in the browser; here, record a clip with the computer's "
            "camera app and choose it with the picker's upload button or picker.select(PATH)"
        )
    try:
        from google.colab import output

        return output.eval_js
    except (ImportError, AttributeError):
        raise WebcamError(
            "this google.colab has no output.eval_js (an old Colab, or a stand-in), so the "
            f"browser cannot record here; record a clip with the computer's camera app {_OTHER_WAYS}"
        ) from None


def _decode_data_url(result) -> tuple[str, bytes]:
    """The MIME type and the bytes of the recorder's answer, or the error it carries."""
    if isinstance(result, dict) and result.get("error"):
        error, detail = str(result["error"]), str(result.get("message", ""))
        what = _BROWSER_ERRORS.get(error, "the browser could not record")
        raise WebcamError(f"{what} ({error}: {detail}); {_OTHER_WAYS}")
    head, marker, data = (result.partition(";base64,") if isinstance(result, str)
                          else ("", "", ""))
    if not (marker and head.startswith("data:")):
        raise VideoError(_unusable(f"the browser sent no recording (got {str(result)[:60]!r})"))
    try:
        content = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise VideoError(_unusable("the recording the browser sent is not valid base64")) from None
    if not content:
        raise VideoError(_unusable("the recording is empty (the camera sent no frames)"))
    return head[len("data:"):].split(";")[0], content


def _file_name(name: str | None, suffix: str) -> str:
    if name is None:
        return f"webcam_{time.strftime('%Y%m%d-%H%M%S')}{suffix}"
    base = Path(name).name
    return (Path(base).stem if Path(base).suffix.lower() in _VIDEO_SUFFIXES else base) + suffix


def _check_decodes(path: Path) -> None:
    """Delete ``path`` and raise VideoError unless it decodes into one motion-stream input."""
    import cv2

    from twostream_lab.video import MIN_MOTION_FRAMES

    capture = cv2.VideoCapture(str(path))
    try:
        frames = 0
        while frames < MIN_MOTION_FRAMES and capture.isOpened() and capture.read()[0]:
            frames += 1
    finally:
        capture.release()
    if frames < MIN_MOTION_FRAMES:
        size = _format_bytes(path.stat().st_size)
        path.unlink()
        raise VideoError(_unusable(
            f"the recording ({size}) decodes into {frames} frames, fewer than the "
            f"{MIN_MOTION_FRAMES} of one motion-stream input, so it was not kept"
        ))


def _unusable(problem: str) -> str:
    return (f"{problem}: allow the camera when the browser asks and record again, record longer "
            f"(e.g. seconds=6), {_OTHER_WAYS}")
