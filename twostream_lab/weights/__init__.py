"""Weights files: TF1 / Keras ``.h5`` read without running code (``legacy``), and the pretrained
UCF101 zips downloaded, verified and cached (``pretrained``). Also holds the demo models'
shipped weights. Builds no model: :mod:`twostream_lab.models` does."""
