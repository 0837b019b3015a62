"""A stand-in for Google Colab's ``google.colab`` (see ``tools/colab_standin/README.md``)."""

from . import drive, files

__all__ = ["drive", "files"]
