"""The offline lab: synthetic action clips where each stream alone must fail (``synthetic``),
and training and evaluating the demo models on them (``training``)."""
