"""Which videos a dataset evaluation scores, with which labels: folders, list files, globs."""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from twostream_lab.data.classes import UCF101_CLASSES, normalize_class_name
from twostream_lab.data.paths import data_dir
from twostream_lab.evaluation.preds import video_key

#: File endings taken as videos when ``videos`` is a folder.
VIDEO_SUFFIXES = frozenset({".avi", ".mp4", ".mkv", ".mov", ".webm", ".mpg", ".mpeg", ".m4v"})

_GLOB_CHARACTERS = re.compile(r"[*?\[]")


@dataclass(frozen=True)
class VideoItem:
    """One video to evaluate.

    Attributes
    ----------
    id : str
        The name its result is stored under: the UCF101 key (``ApplyEyeMakeup_g08_c01``) for a
        UCF101 file name, else its path relative to the folder, list or glob it came from.
    path : Path
        The file (absolute).
    label : int
        Index of its class among the models' class names.
    """

    id: str
    path: Path
    label: int


def _is_glob(text: str) -> bool:
    return bool(_GLOB_CHARACTERS.search(text))


def _label_from_name(path: Path, class_names: Sequence[str]) -> int | None:
    """The class of a UCF101 file name (``v_<Class>_gNN_cNN``), else of a class-named folder."""
    try:
        name = video_key(path.stem).rsplit("_", 2)[0]
    except ValueError:
        name = path.parent.name
    name = normalize_class_name(name)
    return class_names.index(name) if name in class_names else None


def _video_id(path: Path, relative: str) -> str:
    try:
        return video_key(path.stem)
    except ValueError:
        return relative


def _list_candidates(entry: str, list_file: Path, root: Path | None) -> list[Path]:
    relative = PurePosixPath(entry.replace("\\", "/"))
    if relative.is_absolute():
        return [Path(relative)]
    bases = [root] if root is not None else [list_file.parent, data_dir("ucf101", "videos")]
    candidates = []
    for base in bases:
        candidates.append(base / relative)
        if len(relative.parts) > 1:  # class subfolders the videos may not be in
            candidates.append(base / relative.name)
    return candidates


def _read_list(list_file: Path, root: Path | None, class_names: Sequence[str],
               problems: list[str]) -> tuple[list[tuple[Path, str, int | None]], dict[str, str]]:
    found, missing = [], {}
    for number, line in enumerate(list_file.read_text().splitlines(), start=1):
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        if len(parts) > 2:
            problems.append(f"{list_file}, line {number}: expected 'PATH' or 'PATH LABEL', got "
                            f"{line.strip()!r}")
            continue
        label = None
        if len(parts) == 2:
            if not parts[1].isdigit() or not 1 <= int(parts[1]) <= len(class_names):
                problems.append(f"{list_file}, line {number}: the label must be a class number "
                                f"1..{len(class_names)} (as in classInd.txt), got {parts[1]!r}")
                continue
            label = int(parts[1]) - 1
        candidates = _list_candidates(parts[0], list_file, root)
        path = next((c for c in candidates if c.is_file()), None)
        if path is None:
            missing[parts[0]] = ("file not found (looked at "
                                 + ", ".join(str(c) for c in candidates) + ")")
            continue
        found.append((path, parts[0], label))
    return found, missing


def find_videos(videos, *, class_names: Sequence[str] = UCF101_CLASSES,
                root: str | os.PathLike | None = None) -> tuple[list[VideoItem], dict[str, str]]:
    """The videos ``evaluate_videos`` would evaluate, with their labels, and the missing ones.

    Parameters
    ----------
    videos : str, path or sequence of paths
        A folder (every video file in it and its subfolders), a list file in the UCF101 split
        format (``ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi`` per line, optionally followed
        by a 1-based class number as in ``classInd.txt``), a glob (``"clips/*.avi"``), a
        single video file, or a sequence of video paths.
    class_names : sequence of str
        The models' classes (the labels are indices into them).
    root : str or path, optional
        Where the relative paths of a list file are; by default the list's folder, then
        ``$TWOSTREAM_LAB_DATA/ucf101/videos``. A path with class subfolders that do not exist
        there (``ApplyEyeMakeup/v_...avi``) is also looked for directly in that folder.

    Returns
    -------
    items : list of VideoItem
        Sorted by id. A video's label is its list file's class number, else the UCF101 class
        in its file name (``v_<Class>_gNN_cNN``), else the name of its folder when that is a
        class name.
    missing : dict of str to str
        List entries whose file was not found -> where it was looked for.

    Raises
    ------
    ValueError
        No video found, a video whose class cannot be told, two videos with the same id, or
        a malformed list line.

    Examples
    --------
    >>> items, missing = find_videos("ucf101/testlist01.txt")  # doctest: +SKIP
    >>> items[0].id, items[0].label, len(missing)  # doctest: +SKIP
    ('ApplyEyeMakeup_g01_c01', 0, 3749)
    """
    class_names = tuple(class_names)
    root_path = Path(root).expanduser().resolve() if root is not None else None
    problems: list[str] = []
    missing: dict[str, str] = {}
    entries: list[tuple[Path, str, int | None]] = []  # (path, relative name, listed label)
    if isinstance(videos, str | os.PathLike):
        text = os.fspath(videos)
        source = Path(text).expanduser()
        if source.is_dir():
            entries = [(p, p.relative_to(source).as_posix(), None) for p in source.rglob("*")
                       if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file()]
        elif source.is_file() and source.suffix.lower() in VIDEO_SUFFIXES:
            entries = [(source, source.name, None)]
        elif source.is_file():
            entries, missing = _read_list(source, root_path, class_names, problems)
        elif _is_glob(text):
            base = Path(re.split(r"[*?\[]", text, maxsplit=1)[0] or ".").expanduser()
            base = base if base.is_dir() else base.parent
            entries = [(Path(p), Path(p).relative_to(base).as_posix(), None)
                       for p in glob.glob(os.path.expanduser(text), recursive=True)
                       if Path(p).is_file()]
        else:
            raise ValueError(f"videos must be a folder, a list file, a video file or a glob; "
                             f"{text!r} is none of these (no such file or folder)")
    else:
        paths = [Path(p).expanduser() for p in videos]
        for path in paths:
            if path.is_file():
                entries.append((path, path.name, None))
            else:
                missing[str(path)] = "file not found"
    items, seen = [], {}
    for path, relative, label in entries:
        path = path.resolve()
        if label is None:
            label = _label_from_name(path, class_names)
        if label is None:
            problems.append(f"{path}: its class cannot be told; name it like "
                            f"v_<Class>_g01_c01.avi with a class of the models "
                            f"({', '.join(class_names[:3])}, ...), put it in a folder named "
                            "after its class, or give its class number in a list file")
            continue
        item = VideoItem(_video_id(path, relative), path, label)
        if item.id in seen and seen[item.id] != path:
            problems.append(f"{seen[item.id]} and {path} would both be stored as {item.id!r}; "
                            "rename one, or evaluate them separately")
            continue
        if item.id not in seen:
            seen[item.id] = path
            items.append(item)
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise ValueError(f"{len(problems)} problem(s) with the videos{more}:\n  "
                         + "\n  ".join(problems[:3]))
    if not items:
        where = (f"; {len(missing)} listed file(s) are missing: "
                 f"{next(iter(missing))} {next(iter(missing.values()))}") if missing else ""
        raise ValueError(f"no video found in {videos!r}{where}. Pass a folder of videos, a list "
                         "file, or a glob such as 'videos/*.avi' (and --root for a list whose "
                         "videos are elsewhere)")
    return sorted(items, key=lambda i: i.id), missing
