"""The `norway` rule set: the IHE base rules (profiles.ihe) extended with the Norwegian
profile of IHE XDS metadata (HIS 1169; shared/norway/PROFILE.md §4).

Built as IHE_PROFILE with
- the three attribute-optionality rules replaced by ones reading the Norwegian overrides
  (rules_document; default practiceSettingCode R2, unsure),
- then the Norwegian rules: codes (rules_codes), patients and people (rules_parties), the
  document (rules_document).

Every added rule is `profile_only`: with `strict=False` its issues become warnings while the
IHE base rules stay errors. Options come from `ValidationContext.extras` (profiles.norway.options,
`norway_extras`).
"""
from __future__ import annotations

from functools import reduce

from ..ihe import IHE_PROFILE
from ..rules import Profile
from . import rules_codes, rules_document, rules_parties

NORWEGIAN_RULES = rules_codes.RULES + rules_parties.RULES + rules_document.RULES


def _with_norwegian_optionality(profile: Profile) -> Profile:
    return reduce(lambda p, r: p.replace(r.name, r), rules_document.OPTIONALITY_RULES, profile)


NORWAY_PROFILE = _with_norwegian_optionality(IHE_PROFILE).extend("norway", *NORWEGIAN_RULES)

__all__ = ["NORWAY_PROFILE", "NORWEGIAN_RULES"]
