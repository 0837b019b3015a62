"""The report of a dataset evaluation: accuracy tables, the CSV files, the confusion picture and
the per-class comparison of flow methods."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from twostream_lab.data.paths import atomic_file
from twostream_lab.evaluation.preds import (
    PUBLISHED_TOP1,
    VideoAccuracy,
    format_accuracy_table,
    video_accuracy,
)
from twostream_lab.evaluation.store import _describe, _load_result, _Plan, _result_path
from twostream_lab.evaluation.videos import VideoItem
from twostream_lab.fusion import FUSION_METHODS, TSN_WEIGHTS, fuse_scores

#: The rows of every accuracy table: both streams, then each fusion of their video scores.
EVALUATION_STREAMS: tuple[str, ...] = ("spatial", "motion", *FUSION_METHODS)

_CSV_FLOAT = "{:.6f}"


@dataclass(frozen=True)
class EvaluationReport:
    """The accuracy of one setting (weights, flow method, sampling) on the videos asked for.

    Attributes
    ----------
    folder : Path
        The setting's results folder (``videos/``, the CSV tables, ``confusion.png``).
    settings : dict
        Weights (source and SHA-256), class names, flow method, sampling.
    overall : dict of str to VideoAccuracy
        Per stream of :data:`EVALUATION_STREAMS`; empty when no video could be scored.
    per_class : dict of str to dict of str to VideoAccuracy
        Class name -> stream -> accuracy, for the classes that have scored videos.
    scores : dict of str to dict of str to ndarray
        Stream -> video id -> video-level class scores (the fusions of the two streams'
        scores), for the scored videos.
    labels : dict of str to int
        Video id -> class index, for the scored videos.
    failures : dict of str to str
        Video id (or list entry) -> why it has no scores.
    new, reused : int
        Scored videos evaluated by this run, and taken from an earlier one.
    fusion_weights : (float, float)
        The (spatial, motion) weights of the ``"weighted"`` fusion.
    files : tuple of str
        The tables and the picture written in ``folder``.
    """

    folder: Path
    settings: dict[str, Any]
    overall: dict[str, VideoAccuracy]
    per_class: dict[str, dict[str, VideoAccuracy]]
    scores: dict[str, dict[str, np.ndarray]]
    labels: dict[str, int]
    failures: dict[str, str]
    new: int
    reused: int
    fusion_weights: tuple[float, float] = TSN_WEIGHTS
    files: tuple[str, ...] = field(default=())

    @property
    def class_names(self) -> tuple[str, ...]:
        """The models' classes (what the labels and score indices mean)."""
        return tuple(self.settings["class_names"])

    def accuracy(self, videos: Sequence[str], stream: str) -> VideoAccuracy:
        """Accuracy of ``stream`` on some of the scored videos (ids).

        Examples
        --------
        >>> report.accuracy(["YoYo_g01_c01"], "average").top1  # doctest: +SKIP
        1.0
        """
        return video_accuracy(self.scores[stream], [(v, self.labels[v]) for v in videos])

    def accuracy_table(self) -> str:
        """The overall table: top-1 and top-5 per stream (and the published top-1 for the
        pretrained weights)."""
        if not self.overall:
            return "no video could be scored: see the failures"
        published = PUBLISHED_TOP1 if self.settings["weights"]["source"] == "pretrained" else {}
        return format_accuracy_table(self.overall, published)

    def class_table(self) -> str:
        """Top-1 / top-5 (%) per class and stream, one line per class with scored videos."""
        if not self.per_class:
            return ""
        width = max(len("class"), *(len(name) for name in self.per_class))
        lines = [f"{'class':<{width}} {'videos':>6} "
                 + " ".join(f"{s:>9}" for s in EVALUATION_STREAMS)]
        for name, accuracies in self.per_class.items():
            cells = " ".join(f"{f'{100 * a.top1:.0f}/{100 * a.top5:.0f}':>9}"
                             for a in accuracies.values())
            lines.append(f"{name:<{width}} {accuracies['spatial'].num_videos:>6} {cells}")
        return "\n".join(lines)

    def summary(self) -> str:
        """The report as the terminal shows it (no timings: those are in the log)."""
        a, b = self.fusion_weights
        lines = [
            _describe(self.settings),
            f"results: {self.folder}",
            f"videos: {len(self.labels)} scored ({self.new} now, {self.reused} from an earlier "
            f"run), {len(self.failures)} without scores"
            + (" (see failures.csv)" if self.failures else ""),
            "",
            self.accuracy_table(),
            f"(weighted fusion: spatial {a:g} : motion {b:g})",
        ]
        if self.per_class:
            lines += ["", "per class, top-1/top-5 %:", self.class_table()]
        return "\n".join(lines)


def _csv_text(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _write_text(path: Path, text: str) -> None:
    with atomic_file(path, suffix=path.suffix) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _accuracy_cells(accuracy: VideoAccuracy) -> list[str]:
    return [_CSV_FLOAT.format(accuracy.top1), _CSV_FLOAT.format(accuracy.top5)]


def _video_scores(results: Mapping[str, Mapping[str, Any]],
                  fusion_weights: tuple[float, float]) -> dict[str, dict[str, np.ndarray]]:
    """Stream -> video id -> video-level scores, the fusions computed from the two streams."""
    scores: dict[str, dict[str, np.ndarray]] = {s: {} for s in EVALUATION_STREAMS}
    for vid, result in results.items():
        spatial = np.asarray(result["spatial"], np.float64)
        motion = np.asarray(result["motion"], np.float64)
        scores["spatial"][vid] = spatial
        scores["motion"][vid] = motion
        for method in FUSION_METHODS:
            weights = fusion_weights if method == "weighted" else None
            scores[method][vid] = fuse_scores(spatial, motion, method=method, weights=weights)
    return scores


def _confusion_picture(path: Path, labels: Sequence[int], predicted: Sequence[int],
                       class_names: Sequence[str], title: str) -> None:
    """Row-normalised confusion matrix over the classes that occur, as a PNG (Agg)."""
    from matplotlib.figure import Figure

    shown = sorted(set(labels) | set(predicted))
    position = {c: i for i, c in enumerate(shown)}
    matrix = np.zeros((len(shown), len(shown)))
    for true, guess in zip(labels, predicted, strict=True):
        matrix[position[true], position[guess]] += 1
    rows = matrix.sum(axis=1, keepdims=True)
    matrix = np.divide(matrix, rows, out=np.zeros_like(matrix), where=rows > 0)
    size = max(5.0, 0.16 * len(shown) + 2.5)
    figure = Figure(figsize=(size, size), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    image = axes.imshow(matrix, cmap="Blues", vmin=0, vmax=1)
    names = [class_names[c] for c in shown]
    font = 8 if len(shown) <= 30 else 5
    axes.set_xticks(range(len(shown)), labels=names, rotation=90, fontsize=font)
    axes.set_yticks(range(len(shown)), labels=names, fontsize=font)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    axes.set_title(title, fontsize=9)
    figure.colorbar(image, ax=axes, shrink=0.6, label="fraction of the class's videos")
    with atomic_file(path, suffix=".png") as tmp:
        figure.savefig(tmp, format="png", metadata={"Software": None})


def _build_report(plan: _Plan, items: Sequence[VideoItem], missing: Mapping[str, str],
                  transient: Mapping[str, str], new: int, fusion_weights: tuple[float, float],
                  confusion_stream: str) -> EvaluationReport:
    """Read the stored results of ``items``, write the tables and the picture, return them."""
    class_names = tuple(plan.settings["class_names"])
    results, failures = {}, dict(missing)
    for item in items:
        result = _load_result(_result_path(plan.folder, item.id), plan.settings_id, item.id)
        if result is None:
            failures[item.id] = transient.get(item.id, "no stored result")
        elif result["status"] != "ok":
            failures[item.id] = result["reason"]
        else:
            results[item.id] = result
    labels = {item.id: item.label for item in items if item.id in results}
    pairs = sorted(labels.items())
    scores = _video_scores(results, fusion_weights)
    overall, per_class = {}, {}
    if pairs:
        overall = {s: video_accuracy(scores[s], pairs) for s in EVALUATION_STREAMS}
        for label in sorted(set(labels.values())):
            subset = [p for p in pairs if p[1] == label]
            per_class[class_names[label]] = {s: video_accuracy(scores[s], subset)
                                             for s in EVALUATION_STREAMS}
    top1 = {vid: {s: int(np.argsort(-scores[s][vid], kind="stable")[0])
                  for s in EVALUATION_STREAMS} for vid, _ in pairs}
    tables = {
        "accuracy.csv": _csv_text(["stream", "videos", "top1", "top5"], [
            [s, a.num_videos, *_accuracy_cells(a)] for s, a in overall.items()]),
        "per_class.csv": _csv_text(
            ["class", "videos", *(f"{s}_top{k}" for s in EVALUATION_STREAMS for k in (1, 5))],
            [[name, acc["spatial"].num_videos,
              *(cell for s in EVALUATION_STREAMS for cell in _accuracy_cells(acc[s]))]
             for name, acc in per_class.items()]),
        "predictions.csv": _csv_text(["video", "label", *EVALUATION_STREAMS], [
            [vid, class_names[label], *(class_names[top1[vid][s]] for s in EVALUATION_STREAMS)]
            for vid, label in pairs]),
        "failures.csv": _csv_text(["video", "reason"], sorted(failures.items())),
    }
    for name, text in tables.items():
        _write_text(plan.folder / name, text)
    files = [*tables]
    if pairs:
        what = f"{confusion_stream} fusion" if confusion_stream in FUSION_METHODS \
            else f"{confusion_stream} stream"
        _confusion_picture(plan.folder / "confusion.png", [label for _, label in pairs],
                           [top1[vid][confusion_stream] for vid, _ in pairs], class_names,
                           f"{what}, {len(pairs)} videos: {plan.settings['weights']['source']} "
                           f"weights, flow {plan.method}, sampling {plan.settings['sampling']}")
        files.append("confusion.png")
    return EvaluationReport(
        folder=plan.folder, settings=plan.settings, overall=overall, per_class=per_class,
        scores=scores, labels=labels, failures=failures, new=new, reused=len(results) - new,
        fusion_weights=fusion_weights, files=tuple(files))


def _comparison(reports: Mapping[str, EvaluationReport]) -> tuple[dict[str, Path], str]:
    """Per class accuracy differences of each other flow method against the first one."""
    methods = list(reports)
    reference = reports[methods[0]]
    paths, texts = {}, []
    for method in methods[1:]:
        other = reports[method]
        common = sorted(set(reference.labels) & set(other.labels))
        if not common:
            texts.append(f"flow {method} vs {methods[0]}: no video was scored with both")
            continue
        by_class: dict[int, list[str]] = {}
        for vid in common:
            by_class.setdefault(reference.labels[vid], []).append(vid)
        groups = [(reference.class_names[c], by_class[c]) for c in sorted(by_class)]
        groups.append(("all", common))
        width = max(len("class"), *(len(name) for name, _ in groups))
        lines = [f"flow {method} vs {methods[0]}: top-1 difference in points ({method} minus "
                 f"{methods[0]}) on the {len(common)} videos scored with both",
                 f"{'class':<{width}} {'videos':>6} "
                 + " ".join(f"{s:>9}" for s in EVALUATION_STREAMS)]
        rows = []
        for name, vids in groups:
            cells, shown = [], []
            for stream in EVALUATION_STREAMS:
                a, b = reference.accuracy(vids, stream), other.accuracy(vids, stream)
                for before, after in ((a.top1, b.top1), (a.top5, b.top5)):
                    cells += [_CSV_FLOAT.format(x) for x in (before, after, after - before)]
                shown.append(f"{100 * (b.top1 - a.top1):>+9.1f}")
            rows.append([name, len(vids), *cells])
            lines.append(f"{name:<{width}} {len(vids):>6} " + " ".join(shown))
        header = ["class", "videos"] + [f"{s}_top{k}_{tag}" for s in EVALUATION_STREAMS
                                        for k in (1, 5)
                                        for tag in (methods[0], method, "difference")]
        paths[method] = reference.folder / f"compare_flow_{method}.csv"
        _write_text(paths[method], _csv_text(header, rows))
        texts.append("\n".join(lines))
    return paths, "\n\n".join(texts)
