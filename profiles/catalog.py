"""The metadata profiles a deployment can choose (DESIGN.md §7: `--profile ihe|norway`).

`ihe` is the IHE base rule set (ITI TF-3); `norway` layers the Norwegian profile on it.
"""
from __future__ import annotations

from .rules import Profile

PROFILE_NAMES = ("ihe", "norway")


def load_profile(name: str) -> Profile:
    """The rule set named `name`; ValueError for an unknown name."""
    if name == "ihe":
        from .ihe import IHE_PROFILE

        return IHE_PROFILE
    if name == "norway":
        from .norway.profile import NORWAY_PROFILE

        return NORWAY_PROFILE
    raise ValueError(f"unknown metadata profile {name!r}; known: {', '.join(PROFILE_NAMES)}")
