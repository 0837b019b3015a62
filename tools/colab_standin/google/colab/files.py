"""``files.upload`` "uploads" the file named in ``$COLAB_REPLICA_UPLOAD``, as Colab does: it is
written into the working folder and returned as ``{name: bytes}``."""

import os
from pathlib import Path


def upload(target_dir: str = "") -> dict[str, bytes]:
    source = Path(os.environ["COLAB_REPLICA_UPLOAD"])
    content = source.read_bytes()
    target = Path(target_dir or ".") / source.name
    target.write_bytes(content)
    print(f"Saving {source.name} to {target}")
    return {source.name: content}


def download(filename: str) -> None:
    print(f"(Colab would now download {filename} in the browser)")
