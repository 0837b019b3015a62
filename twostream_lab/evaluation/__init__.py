"""Accuracy: the published table from the released ``.preds`` files (``preds``), and whole
datasets evaluated with this lab's own flow and batching on Dask (``dataset``)."""
