"""Where the lab's files live (``paths``), the sample videos (``samples``), UCF101's classes
(``classes``). The first stage: everything else may import it; it imports nothing of the lab."""
