"""XDS metadata vocabulary (ITI TF-3 4.2.5, Tables 4.2.5.1-1 and 4.2.5.2-1; ebRIM 3.0).

Every classification-scheme, external-identifier, classification-node, object-type,
association-type and status URN the codec and the rules use, and the namespace URIs.
Enum values are the exact wire strings.
"""
from __future__ import annotations

from enum import StrEnum

# --- namespaces -----------------------------------------------------------------------
RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
RS = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0"
LCM = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
QUERY = "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"
XDSB = "urn:ihe:iti:xds-b:2007"
RMD = "urn:ihe:iti:rmd:2017"
XML_NS = "http://www.w3.org/XML/1998/namespace"
NSMAP = {"rim": RIM, "rs": RS, "lcm": LCM, "query": QUERY, "xdsb": XDSB}


class ObjectType(StrEnum):
    """RegistryObject/@objectType values."""

    STABLE_DOCUMENT = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"
    ON_DEMAND_DOCUMENT = "urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248"
    REGISTRY_PACKAGE = "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:RegistryPackage"
    ASSOCIATION = "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Association"
    CLASSIFICATION = "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Classification"
    EXTERNAL_IDENTIFIER = "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:ExternalIdentifier"


class AvailabilityStatus(StrEnum):
    """RegistryObject/@status values (ITI TF-3 4.2.3.1.4)."""

    SUBMITTED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Submitted"
    APPROVED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
    DEPRECATED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated"


class AssociationType(StrEnum):
    """Association/@associationType values (ITI TF-3 4.2.2)."""

    HAS_MEMBER = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"
    REPLACE = "urn:ihe:iti:2007:AssociationType:RPLC"
    TRANSFORM = "urn:ihe:iti:2007:AssociationType:XFRM"
    APPEND = "urn:ihe:iti:2007:AssociationType:APND"
    TRANSFORM_AND_REPLACE = "urn:ihe:iti:2007:AssociationType:XFRM_RPLC"
    SIGNS = "urn:ihe:iti:2007:AssociationType:signs"
    IS_SNAPSHOT_OF = "urn:ihe:iti:2010:AssociationType:IsSnapshotOf"
    UPDATE_AVAILABILITY_STATUS = "urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus"
    SUBMIT_ASSOCIATION = "urn:ihe:iti:2010:AssociationType:SubmitAssociation"


#: Document relationships (ITI TF-3 4.2.2.2): source is the new document, target the old one.
DOCUMENT_RELATIONSHIPS = frozenset({
    AssociationType.REPLACE, AssociationType.TRANSFORM, AssociationType.APPEND,
    AssociationType.TRANSFORM_AND_REPLACE, AssociationType.SIGNS,
})
#: Relationships that deprecate their target.
REPLACING_RELATIONSHIPS = frozenset({AssociationType.REPLACE, AssociationType.TRANSFORM_AND_REPLACE})

#: Short names some senders still use (ebRIM 2.1 style, and the IHE example messages).
LEGACY_ASSOCIATION_TYPES = {t.value.rsplit(":", 1)[1]: t for t in AssociationType}


class DocumentAvailability(StrEnum):
    ONLINE = "urn:ihe:iti:2010:DocumentAvailability:Online"
    OFFLINE = "urn:ihe:iti:2010:DocumentAvailability:Offline"


class SubmissionSetStatus(StrEnum):
    """HasMember slot SubmissionSetStatus (ITI TF-3 4.2.2.1.1)."""

    ORIGINAL = "Original"
    REFERENCE = "Reference"


class DocumentEntryScheme(StrEnum):
    """Classification schemes and identification schemes of a DocumentEntry."""

    AUTHOR = "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d"
    CLASS_CODE = "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a"
    CONFIDENTIALITY_CODE = "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f"
    EVENT_CODE = "urn:uuid:2c6b8cb7-8b2a-4051-b291-b1ae6a575ef4"
    FORMAT_CODE = "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d"
    HEALTHCARE_FACILITY_TYPE_CODE = "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1"
    PRACTICE_SETTING_CODE = "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead"
    TYPE_CODE = "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983"
    PATIENT_ID = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427"
    UNIQUE_ID = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"
    LIMITED_METADATA = "urn:uuid:ab9b591b-83ab-4d03-8f5d-f93b1fb92e85"


class SubmissionSetScheme(StrEnum):
    """Classification node and schemes of a SubmissionSet."""

    NODE = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"
    AUTHOR = "urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d"
    CONTENT_TYPE_CODE = "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500"
    PATIENT_ID = "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446"
    SOURCE_ID = "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832"
    UNIQUE_ID = "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8"
    LIMITED_METADATA = "urn:uuid:5003a9db-8d8d-49e6-bf0c-990e34ac7707"


class FolderScheme(StrEnum):
    """Classification node and schemes of a Folder."""

    NODE = "urn:uuid:d9d542f3-6cc4-48b6-8870-ea235fbc94c2"
    CODE_LIST = "urn:uuid:1ba97051-7806-41a8-a48b-8fce7af683c5"
    PATIENT_ID = "urn:uuid:f64ffdf0-4b97-4e06-b79f-a52b38ec2f8a"
    UNIQUE_ID = "urn:uuid:75df8f67-9973-4fbe-a900-df66cefecc5a"
    LIMITED_METADATA = "urn:uuid:2c144a76-29a9-4b7c-af54-b25409fe7d03"


# Wire names of ExternalIdentifier/Name values (ITI TF-3 4.2.3.2 / 4.2.3.3 / 4.2.3.4).
EXTERNAL_ID_NAMES = {
    DocumentEntryScheme.PATIENT_ID: "XDSDocumentEntry.patientId",
    DocumentEntryScheme.UNIQUE_ID: "XDSDocumentEntry.uniqueId",
    SubmissionSetScheme.PATIENT_ID: "XDSSubmissionSet.patientId",
    SubmissionSetScheme.SOURCE_ID: "XDSSubmissionSet.sourceId",
    SubmissionSetScheme.UNIQUE_ID: "XDSSubmissionSet.uniqueId",
    FolderScheme.PATIENT_ID: "XDSFolder.patientId",
    FolderScheme.UNIQUE_ID: "XDSFolder.uniqueId",
}


class SlotName(StrEnum):
    """Slot names of XDS metadata (ITI TF-3 4.2.3)."""

    CREATION_TIME = "creationTime"
    HASH = "hash"
    LANGUAGE_CODE = "languageCode"
    LEGAL_AUTHENTICATOR = "legalAuthenticator"
    REPOSITORY_UNIQUE_ID = "repositoryUniqueId"
    SERVICE_START_TIME = "serviceStartTime"
    SERVICE_STOP_TIME = "serviceStopTime"
    SIZE = "size"
    SOURCE_PATIENT_ID = "sourcePatientId"
    SOURCE_PATIENT_INFO = "sourcePatientInfo"
    URI = "URI"
    DOCUMENT_AVAILABILITY = "documentAvailability"
    REFERENCE_ID_LIST = "urn:ihe:iti:xds:2013:referenceIdList"
    SUBMISSION_TIME = "submissionTime"
    INTENDED_RECIPIENT = "intendedRecipient"
    LAST_UPDATE_TIME = "lastUpdateTime"
    SUBMISSION_SET_STATUS = "SubmissionSetStatus"
    PREVIOUS_VERSION = "PreviousVersion"
    ORIGINAL_STATUS = "OriginalStatus"
    NEW_STATUS = "NewStatus"
    CODING_SCHEME = "codingScheme"
    AUTHOR_PERSON = "authorPerson"
    AUTHOR_INSTITUTION = "authorInstitution"
    AUTHOR_ROLE = "authorRole"
    AUTHOR_SPECIALTY = "authorSpecialty"
    AUTHOR_TELECOMMUNICATION = "authorTelecommunication"
