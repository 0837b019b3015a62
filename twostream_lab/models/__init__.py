"""The two streams: the pretrained Xception architectures (``xception``), the tiny demo models
(``demo``), and ``TwoStream`` with the one ``load_two_stream`` that every later stage uses
(``two_stream``)."""
