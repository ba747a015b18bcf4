"""Who the harness is and the fresh identifiers it hands out: patients in the affinity
domain under test, an unknown ("alt") patient, uniqueId OIDs and `urn:uuid:` ids.

Every run gets its own nonce, so a second run against the same server never reuses a patient
or a uniqueId (the query tests count objects per patient).
"""
from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

#: Patient identifier domain of the test patients; the server is started with it as its
#: `--patient-domain` (or must accept it).
PATIENT_ROOT = "1.3.6.1.4.1.21367.13.20.1000"
#: A domain the server is not configured with: patients here are unknown to it ("alt").
ALT_PATIENT_ROOT = "1.3.6.1.4.1.21367.13.20.3000"
HOME_COMMUNITY_ID = "urn:oid:1.3.6.1.4.1.21367.13.70.101"
REPOSITORY_UNIQUE_ID = "1.3.6.1.4.1.21367.13.71.101"
#: SubmissionSet.sourceId of everything the harness submits (`assign.source_id`).
SOURCE_ID = "1.3.6.1.4.1.21367.13.72.101"
#: Root of the uniqueIds the harness assigns (`assign.unique_ids`).
UNIQUE_ID_ROOT = "1.3.6.1.4.1.21367.13.73.101"

#: Patient slots that are the test's own patient rather than another one. The toolkit's test
#: 15818 ("pif") feeds the test session's patient, which is the default patient every toolkit
#: test assigns; e.g. 20000d submits a folder with the default patient and updates it with
#: 15818's, which only matches if the two are the same person.
MAIN_SLOTS = frozenset({"main", "15818"})


@dataclass(frozen=True)
class Identity:
    """The configuration of the harness and of the system under test."""

    patient_root: str = PATIENT_ROOT
    alt_patient_root: str = ALT_PATIENT_ROOT
    home_community_id: str = HOME_COMMUNITY_ID
    repository_unique_id: str = REPOSITORY_UNIQUE_ID
    source_id: str = SOURCE_ID
    unique_id_root: str = UNIQUE_ID_ROOT

    def params(self) -> dict[str, str]:
        """Values of `{"kind": "param"}` symbols."""
        return {"home_community_id": self.home_community_id, "repository_unique_id": self.repository_unique_id}


@dataclass
class IdSource:
    """Fresh patient ids, OIDs and UUIDs for one run; thread-safe."""

    identity: Identity = field(default_factory=Identity)
    nonce: int = field(default_factory=lambda: int(time.time() * 1000))

    #: called with every new patient in the domain under test (not the "alt" ones), e.g. to
    #: feed it to a registry that accepts only known patients
    on_patient: Callable[[str], None] | None = None

    def __post_init__(self) -> None:
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        self._slots: dict[str, str] = {}

    def _next(self) -> int:
        with self._lock:
            return next(self._counter)

    def patient(self) -> str:
        patient = self._cx(self.identity.patient_root)
        if self.on_patient is not None:
            self.on_patient(patient)
        return patient

    def alt_patient(self) -> str:
        return self._cx(self.identity.alt_patient_root)

    def _cx(self, root: str) -> str:
        return f"{self.nonce}{self._next():04d}^^^&{root}&ISO"

    def slot_patient(self, slot: str) -> str:
        """The patient of a toolkit feed test (`15817b`, `15820`, ...): one per run, shared by
        every test naming the slot (12361 loads data for 15819/15820 that 12364 queries)."""
        with self._lock:
            known = self._slots.get(slot)
        if known is None:
            known = self.patient()
            with self._lock:
                known = self._slots.setdefault(slot, known)
        return known

    def unique_id(self) -> str:
        return f"{self.identity.unique_id_root}.{self.nonce}.{self._next()}"

    @staticmethod
    def uuid() -> str:
        return f"urn:uuid:{uuid.uuid4()}"


@dataclass
class TestPatients:
    """The patients of one test: `main` (its first) and `current` (after new_patient_id)."""

    ids: IdSource
    main: str = ""
    current: str = ""

    __test__ = False

    def __post_init__(self) -> None:
        self.main = self.main or self.ids.patient()
        self.current = self.current or self.main

    def new_current(self) -> str:
        self.current = self.ids.patient()
        return self.current

    def slot(self, slot: str) -> str:
        return self.main if slot in MAIN_SLOTS else self.ids.slot_patient(slot)
