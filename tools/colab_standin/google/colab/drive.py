"""``drive.mount`` maps the mount point to the folder in ``$COLAB_REPLICA_DRIVE``."""

import os
from pathlib import Path


def mount(mountpoint: str, force_remount: bool = False, timeout_ms: int = 120000,
          readonly: bool = False) -> None:
    drive = Path(os.environ["COLAB_REPLICA_DRIVE"])
    (drive / "MyDrive").mkdir(parents=True, exist_ok=True)
    link = Path(mountpoint)
    if link.is_symlink() and link.resolve() == drive.resolve():
        print(f"Drive already mounted at {mountpoint}; to attempt to forcibly remount, call "
              f'drive.mount("{mountpoint}", force_remount=True).')
        return
    if link.exists() and any(link.iterdir()):
        raise ValueError("Mountpoint must not already contain files")
    if link.exists():
        link.rmdir()
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(drive, target_is_directory=True)
    print(f"Mounted at {mountpoint}")
