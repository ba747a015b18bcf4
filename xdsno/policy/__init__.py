"""The access policy: who may see which documents (PROFILE.md §5 kjernejournalforskriften time
windows; §6 tjenstlig behov, sperring, confidentiality codes, XUA purposes of use and consent).

The policy is data (default_policy.toml, or the deployment's `policy_file`; config.py), judged
by a decision point without I/O (pdp.py, rules.py) over the XUA subject (subject.py) and the
DocumentEntries' facts (facts.py), with the patients' blocks (blocks.py, /admin/blocks in
admin.py, `xdsno blocks`). enforcement.py presents it to the actors as their
`profiles.access.DocumentAccess`; each decision is a plain `Decision` (decision.py) for the
audit. metadata.py asks the registry for what a retrieve is judged by. The actors never
import this package: the composition root (xdsno.policy_node) hands them the enforcement.
"""
from .blocks import Block, BlockError, BlockStore, new_block
from .config import DEFAULT_POLICY_FILE, Policy, PolicyError, TimeWindow, load_policy
from .decision import Decision
from .enforcement import DECISIONS_KEY, PolicyEnforcement
from .facts import DocumentFacts
from .pdp import PolicyDecisionPoint
from .subject import Subject, SubjectKind, from_assertion, subject_of

__all__ = [
    "DECISIONS_KEY", "DEFAULT_POLICY_FILE", "Block", "BlockError", "BlockStore", "Decision", "DocumentFacts",
    "Policy", "PolicyDecisionPoint", "PolicyEnforcement", "PolicyError", "Subject", "SubjectKind", "TimeWindow",
    "from_assertion", "load_policy", "new_block", "subject_of",
]
