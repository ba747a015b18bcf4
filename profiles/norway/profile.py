"""The `norway` rule set: the IHE base rules (profiles.ihe) extended with the Norwegian
profile of IHE XDS metadata (HIS 1169; shared/norway/PROFILE.md §4).
"""
from __future__ import annotations

from ..ihe import IHE_PROFILE

NORWAY_PROFILE = IHE_PROFILE.renamed("norway")
