"""The lab's sample videos: where they come from, and where they are kept.

The data folder (:func:`twostream_lab.data.paths.data_dir`) has the layout ::

    ucf101/videos/v_<Class>_gXX_cYY.avi   UCF101 split-1 *test* clips (320x240)
    kinetics/abseiling_k400.mp4            the activity's Kinetics-400 clip (454x256)

:func:`download_samples` fills it (Colab's ``colab_setup.sh`` calls it); every file is checked
against its size and SHA-256 before it counts as present. ``$TWOSTREAM_LAB_SAMPLES_URL`` names a
mirror with the data folder's layout (a base URL or a local folder), used instead of the original
addresses. UCF101 (Soomro, Zamir & Shah 2012) and
Kinetics clips belong to their authors; they are downloaded for study, never shipped here.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from twostream_lab.data.paths import atomic_file, data_dir

#: A mirror of the sample videos: a base URL (http, https) or a folder, laid out like the data
#: folder (``ucf101/videos/v_*.avi``, ``kinetics/abseiling_k400.mp4``).
SAMPLES_URL_ENV = "TWOSTREAM_LAB_SAMPLES_URL"
#: Seconds a sample download may wait for the server to connect or to send more data.
DOWNLOAD_TIMEOUT = 30.0

_ELKOMY = (
    "https://github.com/mohammed-elkomy/two-stream-action-recognition/raw/HEAD/"
    "testing%20video%20samples/"
)
_TINY_UCF101 = "https://github.com/bryanyzhu/tiny-ucf101/raw/master/"

ACTIVITY_VIDEO = "abseiling_k400.mp4"


@dataclass(frozen=True)
class SampleVideo:
    """One downloadable sample: its file name, folder inside the data folder, URL and checksum."""

    name: str
    folder: str
    url: str
    size: int
    sha256: str

    @property
    def path(self) -> Path:
        return data_dir(self.folder, self.name)

    @property
    def label(self) -> str | None:
        """The UCF101 class of a ``v_<Class>_gXX_cYY.avi`` clip, else None."""
        if not self.name.startswith("v_"):
            return None
        return self.name[2:].rsplit("_g", 1)[0]

    def source(self) -> str:
        """Where this sample is downloaded from: the mirror in ``$TWOSTREAM_LAB_SAMPLES_URL``
        when one is set, else its original URL."""
        mirror = os.environ.get(SAMPLES_URL_ENV, "").strip()
        if not mirror:
            return self.url
        if urlsplit(mirror).scheme in ("http", "https"):
            return f"{mirror.rstrip('/')}/{self.folder}/{self.name}"
        if urlsplit(mirror).scheme == "file":
            mirror = url2pathname(urlsplit(mirror).path)
        return str(Path(mirror).expanduser() / self.folder / self.name)


class SampleDownloadError(RuntimeError):
    """Some sample videos could not be downloaded; ``failures`` maps each file to the reason.

    The ones that did download are kept, so running the download again only fetches the rest.
    """

    def __init__(self, failures: dict[str, str], total: int):
        self.failures = dict(failures)
        self.total = total
        lines = [f"{name}: {reason}" for name, reason in self.failures.items()]
        lines.append(
            f"{len(self.failures)} of {total} sample videos could not be downloaded. Run "
            "`twostream-lab samples` again to retry (the others are kept), or set "
            f"{SAMPLES_URL_ENV} to a mirror laid out like the data folder.")
        super().__init__("\n".join(lines))


# (file, bytes, sha256) of the UCF101 test clips in the pretrained models' repository, plus the
# Basketball clip and the activity clip from GluonCV's tiny-ucf101.
_UCF101 = (
    ("v_Archery_g02_c02.avi", 655_918, "614e2437345d5c400a7a61255b2778e98a7f46fedbcab212de36dce6d3db1652"),
    ("v_Basketball_g01_c01.avi", 287_972, "46287910aff38795ad3a648a6ca503990fc8ab9549894145a9c1633356a4c360"),
    ("v_BenchPress_g01_c03.avi", 344_872, "b037a2bf893927be3ac378d9c61bf9e0e257a135a45924a93c624e832ab95c02"),
    ("v_Biking_g01_c04.avi", 432_692, "a533c39b1d362b52e8c2c96f466794a86b2476b3d4c88d02d21f42724e203276"),
    ("v_BlowDryHair_g07_c02.avi", 313_630, "8faca5f58ef5f715f8bd73de3405a832d56762850ae712d68feb0b833ffe1f4d"),
    ("v_BodyWeightSquats_g01_c03.avi", 480_052, "d82bcd9db5f82ae1bb746a5b86aefecbfa8761c2f71a91be6bf542677e6bfc3d"),
    ("v_BodyWeightSquats_g04_c03.avi", 220_920, "4324177b7cda96aeab3e0b07e8692a5bcd9ca4724ebd2d91a9ecef60d530ec26"),
    ("v_BoxingPunchingBag_g01_c01.avi", 423_666, "b18bb47a367422e1c93d525af28ad4232889966d00b4786c92046e10cf1886c0"),
    ("v_BoxingSpeedBag_g04_c04.avi", 487_322, "c6d882b698559e44bd6834e74adbb0dde80786afca0d815aaf6083792f7feed6"),
    ("v_BreastStroke_g03_c03.avi", 552_340, "a361b73865b55d75ec42fc49f20e24926ecdc8766c40664fd7e72434caee0bf3"),
    ("v_CliffDiving_g02_c03.avi", 389_432, "5c33e764d06a610fdd87e5197f6326755514fc2c71762e6061922d07b0169b08"),
    ("v_CricketBowling_g02_c01.avi", 471_552, "7a08458ffff11d43af6b68beb70c90c3196dd7d0d570e641befaf7edc2dce65b"),
    ("v_Diving_g02_c02.avi", 375_814, "9afc915e020d6216274c5e25d5f892fcf1033908ba59bb60e7ddb856c8cff59d"),
    ("v_Diving_g03_c07.avi", 272_500, "2cb94180650363bdb1cb26c438dfd5430f6f0f47730e0c5e64621a7603c2747e"),
    ("v_Diving_g04_c04.avi", 594_570, "bb22b918fdfdb7db74ed3fbab1479d29840320b5016db57d07c04f80c8757dd5"),
    ("v_Haircut_g07_c01.avi", 412_474, "42eb42f4c26fb1a0ba45c9b87d9e6ae86b3585e3772bc8a23c1a4f302c5e2b28"),
    ("v_HighJump_g02_c01.avi", 408_038, "10750b00a36c894b966b958f9d9c2f10dbd27744ddce86308590f724ccdd92c8"),
    ("v_JavelinThrow_g05_c05.avi", 229_094, "ac23d05f70bb2b0e94f64347b9fdce0534b87cd6647a0ca5bfcf52d75dfe6f2b"),
    ("v_LongJump_g04_c03.avi", 475_332, "9d36c9e9fa8744f4b2841c429d7d6bcaa0b44cf40451e24757079f5dcde71b82"),
    ("v_MoppingFloor_g03_c03.avi", 415_824, "d8d643f5adc61ce8dadcdf569c2ecb8b81bc8a1891ab9da7bedad2602f3c031c"),
    ("v_PizzaTossing_g01_c04.avi", 386_582, "75aebc5aecbac76faf35cc4fdb9935f56d68ed6426b27f0eb3a6a79bf6622776"),
    ("v_PlayingCello_g02_c03.avi", 644_708, "0b0a8f81f7bde55f48df7e34e24aab71d897f62821457092e37a20b922a79c1c"),
    ("v_PlayingFlute_g05_c02.avi", 1_065_468, "73ba18397c3c47f889f1892efa1bad496a4c89ebe121149cf1ea93e1f4b24b6c"),
    ("v_PoleVault_g04_c02.avi", 571_854, "d86931ecc68467bfa53a608dbd7cb4fd15ab3c07f0b25b3256f85cf48a41a5ac"),
    ("v_RopeClimbing_g01_c02.avi", 464_084, "15f142a741d36756462e5bd4adaf410f2eb068ace3c1fd2a697adee0e17c58ea"),
    ("v_RopeClimbing_g04_c01.avi", 437_358, "9dda043bfd2f83388895ad0822e33a28aa0a05c77cf6ee834de70e3389437a55"),
    ("v_ShavingBeard_g03_c05.avi", 654_220, "660c91e968db07bc1e4e068fcac0a7e779be47b5c16fdec0ead9637c880b443d"),
    ("v_Skijet_g07_c02.avi", 475_934, "568fa129c720e487e23344eca1de7e1a50aa0f09d6cd44985aa40efdbc431812"),
    ("v_SkyDiving_g05_c04.avi", 876_730, "a131aa6ea584dc9492f27f3c752782c7da1053b4d2ccfa6667f6cea2149f191c"),
    ("v_StillRings_g03_c01.avi", 361_938, "c11c6956a131c43b386f3edccff64a6b10f0bd656b1e2e21fed77dc783b957ac"),
    ("v_Surfing_g05_c04.avi", 1_010_360, "7cdc5cbf2c7aa47d42feeb3abfda967677eac3f3e15a7850de9e13258ed90d0c"),
    ("v_ThrowDiscus_g02_c04.avi", 417_902, "156e1e838cca144d9ff27fafe917339887e2b1b9be91124d7082765320f2d10e"),
    ("v_WallPushups_g01_c04.avi", 205_386, "1260dcda6a9e194034b1549e21a440070359d2eae1d6b8b3d3e24ae44c65ff86"),
    ("v_WallPushups_g04_c02.avi", 220_284, "b3a70abadd919490aef102e7ce7a14d7028a0b96978e75edb5e394cf96157bb9"),
)

SAMPLE_VIDEOS: tuple[SampleVideo, ...] = tuple(
    SampleVideo(
        name,
        "ucf101/videos",
        (_TINY_UCF101 if name == "v_Basketball_g01_c01.avi" else _ELKOMY) + name,
        size,
        sha256,
    )
    for name, size, sha256 in _UCF101
) + (
    SampleVideo(
        ACTIVITY_VIDEO,
        "kinetics",
        _TINY_UCF101 + ACTIVITY_VIDEO,
        800_470,
        "e6c5de7e985965a0b7cd27371f215cbf60912bd9f93fa532ecb4fd7590cfaeb1",
    ),
)


def available_samples() -> list[Path]:
    """Return the sample videos present in the data folder, UCF101 clips first, sorted by name.

    Any video file in the two sample folders counts, so clips a student adds there show up too.

    Examples
    --------
    >>> isinstance(available_samples(), list)
    True
    """
    found: list[Path] = []
    for folder in ("ucf101/videos", "kinetics"):
        root = data_dir(folder)
        if root.is_dir():
            found += sorted(
                p for p in root.iterdir() if p.suffix.lower() in {".avi", ".mp4", ".mov", ".mkv"}
            )
    return found


def activity_video_path() -> Path | None:
    """Return the path of ``abseiling_k400.mp4`` if it is in the data folder, else None."""
    path = data_dir("kinetics", ACTIVITY_VIDEO)
    return path if path.is_file() else None


def download_samples(
    names: list[str] | None = None, *, progress: bool = True
) -> list[Path]:
    """Download the sample videos (all, or those in ``names``) into the data folder.

    Files already present with the right checksum are not downloaded again, so running it twice
    is cheap. A download that fails leaves no partial file behind (each is written to a
    temporary file and checked against its SHA-256 before it is moved into place), and the
    other files are still downloaded.

    Raises
    ------
    SampleDownloadError
        After trying every file, when some could not be downloaded: one line per file with
        the reason (offline, an HTTP error, a checksum mismatch), then how to retry.

    Examples
    --------
    >>> download_samples(["abseiling_k400.mp4"])  # doctest: +SKIP
    [PosixPath('/root/.cache/twostream-lab/data/kinetics/abseiling_k400.mp4')]
    """
    wanted = SAMPLE_VIDEOS if names is None else [s for s in SAMPLE_VIDEOS if s.name in names]
    unknown = set(names or ()) - {s.name for s in wanted}
    if unknown:
        raise ValueError(
            f"unknown sample video(s) {sorted(unknown)}; "
            f"choose from {[s.name for s in SAMPLE_VIDEOS]}"
        )
    paths, failures = [], {}
    for sample in wanted:
        try:
            paths.append(_fetch(sample, progress))
        except (OSError, ValueError) as error:
            failures[sample.name] = _short_reason(error, sample.source())
    if failures:
        raise SampleDownloadError(failures, len(wanted))
    return paths


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fetch(sample: SampleVideo, progress: bool) -> Path:
    target = sample.path
    if target.is_file() and target.stat().st_size == sample.size and _sha256(target) == sample.sha256:
        return target
    source = sample.source()
    with atomic_file(target, suffix=Path(sample.name).suffix) as tmp:
        if urlsplit(source).scheme in ("http", "https"):
            import pooch

            from twostream_lab.progress import DownloadBar

            download = pooch.HTTPDownloader(
                progressbar=DownloadBar(sample.name) if progress else False,
                timeout=DOWNLOAD_TIMEOUT)
            download(source, str(tmp), None)
        else:
            shutil.copyfile(source, tmp)
        got = _sha256(tmp)
        if got != sample.sha256:
            raise ValueError(f"checksum mismatch: the server sent another file (SHA-256 "
                             f"{got[:12]}..., expected {sample.sha256[:12]}...)")
    return target


def _short_reason(error: BaseException, source: str) -> str:
    """One line for a failed download (requests' chained messages run over many lines)."""
    status = getattr(getattr(error, "response", None), "status_code", None)
    if status is not None:
        return f"the server answered HTTP {status} for {source}"
    name = type(error).__name__
    if name in ("ConnectionError", "ConnectTimeout", "NameResolutionError"):
        return f"cannot connect to {urlsplit(source).hostname} (is this machine offline?)"
    if "Timeout" in name or isinstance(error, TimeoutError):
        return f"{source} sent nothing for {DOWNLOAD_TIMEOUT:g} s"
    if isinstance(error, FileNotFoundError):
        return f"{source} does not exist"
    text = str(error).splitlines()[0] if str(error) else name
    return text if len(text) <= 160 else text[:157] + "..."
