"""Self-checks for the code students write in the lab, and a re-rollable random pick.

Each ``check_*`` function compares the student's answer with what the lab's own code does and
returns a :class:`CheckResult`: true when right, and its text (``print(result)``, or the cell's
output in a notebook) says right or wrong and why: which channel or which case differs, what was
expected, and the likely mistake by name (``result.mistakes``).

:func:`check_flow_stack`
    Build the motion stream's 20-channel input from ``u`` and ``v`` in numpy
    (compared with :func:`twostream_lab.batching.prepare_stacks`).
:func:`check_tutorial_cast` and :func:`check_wrap_value`
    Write the tutorial's flow cast and find where it wraps around
    (compared with :func:`twostream_lab.flow.tutorial_cast` and
    :func:`twostream_lab.flow.quantize_flow`).
:func:`check_fusion_rule`
    Fuse two softmax vectors (compared with :func:`twostream_lab.fusion.fuse_scores`).
:func:`seeded_choice`
    A random choice (of a video, say) that can be reproduced, or re-rolled, by its seed.

Examples
--------
>>> def fuse(spatial, motion):
...     return (spatial + motion) / 2
>>> print(check_fusion_rule(fuse))  # doctest: +ELLIPSIS
RIGHT (fusion rule 'average'): your rule matches fuse_scores(..., method='average') in all 8 ...
"""

from __future__ import annotations

from twostream_lab.notebook.exercises._result import CheckResult
from twostream_lab.notebook.exercises.cast import check_tutorial_cast, check_wrap_value
from twostream_lab.notebook.exercises.choice import SeededChoice, seeded_choice
from twostream_lab.notebook.exercises.flow_stack import check_flow_stack
from twostream_lab.notebook.exercises.fusion import check_fusion_rule

__all__ = [
    "CheckResult",
    "SeededChoice",
    "check_flow_stack",
    "check_tutorial_cast",
    "check_wrap_value",
    "check_fusion_rule",
    "seeded_choice",
]

