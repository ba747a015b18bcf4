"""XDS error codes, response statuses, severities and the Issue type (ITI TF-3 4.2.4, ebRS 3.0).

Every enum value is the exact wire string. Validation everywhere returns lists of `Issue`;
`registry_error_list` (profiles.responses) writes them to a RegistryErrorList.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ErrorCode(StrEnum):
    """Error codes of ITI TF-3 Table 4.2.4.1-2 and the XCA, RMD and RMU supplements."""

    # General / XDS.b
    MISSING_DOCUMENT = "XDSMissingDocument"
    MISSING_DOCUMENT_METADATA = "XDSMissingDocumentMetadata"
    REGISTRY_NOT_AVAILABLE = "XDSRegistryNotAvailable"
    REGISTRY_ERROR = "XDSRegistryError"
    REPOSITORY_ERROR = "XDSRepositoryError"
    REGISTRY_DUPLICATE_UNIQUE_ID_IN_MESSAGE = "XDSRegistryDuplicateUniqueIdInMessage"
    REPOSITORY_DUPLICATE_UNIQUE_ID_IN_MESSAGE = "XDSRepositoryDuplicateUniqueIdInMessage"
    DUPLICATE_UNIQUE_ID_IN_REGISTRY = "XDSDuplicateUniqueIdInRegistry"
    NON_IDENTICAL_HASH = "XDSNonIdenticalHash"
    NON_IDENTICAL_SIZE = "XDSNonIdenticalSize"
    REGISTRY_BUSY = "XDSRegistryBusy"
    REPOSITORY_BUSY = "XDSRepositoryBusy"
    REGISTRY_OUT_OF_RESOURCES = "XDSRegistryOutOfResources"
    REPOSITORY_OUT_OF_RESOURCES = "XDSRepositoryOutOfResources"
    REGISTRY_METADATA_ERROR = "XDSRegistryMetadataError"
    REPOSITORY_METADATA_ERROR = "XDSRepositoryMetadataError"
    TOO_MANY_RESULTS = "XDSTooManyResults"
    EXTRA_METADATA_NOT_SAVED = "XDSExtraMetadataNotSaved"
    UNKNOWN_PATIENT_ID = "XDSUnknownPatientId"
    PATIENT_ID_DOES_NOT_MATCH = "XDSPatientIdDoesNotMatch"
    UNKNOWN_STORED_QUERY = "XDSUnknownStoredQuery"
    STORED_QUERY_MISSING_PARAM = "XDSStoredQueryMissingParam"
    STORED_QUERY_PARAM_NUMBER = "XDSStoredQueryParamNumber"
    REGISTRY_DEPRECATED_DOCUMENT_ERROR = "XDSRegistryDeprecatedDocumentError"
    UNKNOWN_REPOSITORY_ID = "XDSUnknownRepositoryId"
    DOCUMENT_UNIQUE_ID_ERROR = "XDSDocumentUniqueIdError"
    RESULT_NOT_SINGLE_PATIENT = "XDSResultNotSinglePatient"
    # Partial / on-demand
    PARTIAL_FOLDER_CONTENT_NOT_PROCESSED = "PartialFolderContentNotProcessed"
    PARTIAL_REPLACE_CONTENT_NOT_PROCESSED = "PartialReplaceContentNotProcessed"
    PARTIAL_TRANSFORM_NOT_PROCESSED = "PartialTransformNotProcessed"
    PARTIAL_APPEND_CONTENT_NOT_PROCESSED = "PartialAppendContentNotProcessed"
    PARTIAL_RELATIONSHIP_CONTENT_NOT_PROCESSED = "PartialRelationshipContentNotProcessed"
    PARTIAL_TRANSFORM_REPLACE_NOT_PROCESSED = "PartialTransformReplaceNotProcessed"
    DOCUMENT_QUEUED = "DocumentQueued"
    INVALID_DOCUMENT_CONTENT = "InvalidDocumentContent"
    # XCA
    UNKNOWN_COMMUNITY = "XDSUnknownCommunity"
    MISSING_HOME_COMMUNITY_ID = "XDSMissingHomeCommunityId"
    UNAVAILABLE_COMMUNITY = "XDSUnavailableCommunity"
    TRANSCODING_ERROR = "TranscodingError"
    # Metadata update / remove (ITI-57, ITI-62, ITI-86)
    METADATA_UPDATE_ERROR = "XDSMetadataUpdateError"
    PATIENT_ID_RECONCILIATION_ERROR = "XDSPatientIDReconciliationError"
    METADATA_UPDATE_OPERATION_ERROR = "XDSMetadataUpdateOperationError"
    METADATA_VERSION_ERROR = "XDSMetadataVersionError"
    REMOVE_DOCUMENTS_ERROR = "XDSRemoveDocumentsError"
    UNRESOLVED_REFERENCE = "UnresolvedReferenceException"
    REFERENCES_EXIST = "ReferencesExistException"
    UNREFERENCED_OBJECT = "XDSUnreferencedObjectException"
    REPLACE_FAILED = "XDSReplaceFailed"
    # Other
    OBJECT_TYPE_ERROR = "XDSObjectTypeError"
    METADATA_IDENTIFIER_ERROR = "XDSMetadataIdentifierError"
    INVALID_REQUEST = "XDSInvalidRequestException"
    UNMODIFIABLE_METADATA = "UnmodifiableMetadataError"
    LOCAL_POLICY_RESTRICTION = "LocalPolicyRestrictionError"
    METADATA_ANNOTATION_ERROR = "XDSMetadataAnnotationError"
    UNKNOWN_RECIPIENT = "UnknownRecipient"
    UNAVAILABLE_RECIPIENT = "UnavailableRecipient"
    FHIR_DOCUMENT_NOT_SUPPORTED = "FHIRDocumentNotSupported"


class Status(StrEnum):
    """RegistryResponse/@status values (ebRS 3.0; PartialSuccess from ITI TF-3 4.2.4)."""

    SUCCESS = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
    FAILURE = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure"
    PARTIAL_SUCCESS = "urn:ihe:iti:2007:ResponseStatusType:PartialSuccess"


class Severity(StrEnum):
    """RegistryError/@severity values (ebRS 3.0)."""

    ERROR = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"
    WARNING = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Warning"


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem found in a request: becomes one rs:RegistryError.

    `context` is the codeContext: it names the field, the value and what is allowed.
    `location` names the object (id or uniqueId) or, in XCA, the community.
    """

    code: ErrorCode
    context: str
    severity: Severity = Severity.ERROR
    location: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def as_warning(self) -> "Issue":
        return Issue(self.code, self.context, Severity.WARNING, self.location)


def overall_status(issues: list[Issue], *, partial: bool = False) -> Status:
    """Failure when any issue is an error (PartialSuccess when the caller got some results)."""
    if any(issue.is_error for issue in issues):
        return Status.PARTIAL_SUCCESS if partial else Status.FAILURE
    return Status.SUCCESS
