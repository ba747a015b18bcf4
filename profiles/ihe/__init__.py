"""The IHE base rule set: XDS metadata as ITI TF-3 (Rev. 20) requires it of a submission
(ITI-41, ITI-42, ITI-57) and of registry metadata in a query response.

`IHE_PROFILE` runs, in order: the shape of the submission (structure), attribute optionality
(Table 4.3.1-3), value formats (4.2.3), patients and authors (parties), associations (4.2.2)
and, for ITI-41, documents against DocumentEntries. National profiles are built from it with
`extend`, `replace` and `drop` (profiles.rules.Profile).
"""
from __future__ import annotations

from ..rules import Profile
from . import associations, formats, optionality, parties, structure
from .optionality import IHE_OPTIONALITY, OptionalityTable, load_optionality, optionality_rule

IHE_PROFILE = Profile(
    "ihe",
    structure.RULES + optionality.RULES + formats.RULES + parties.RULES + associations.RULES
    + structure.DOCUMENT_RULES,
)

__all__ = ["IHE_PROFILE", "IHE_OPTIONALITY", "OptionalityTable", "load_optionality", "optionality_rule"]
