"""Document Repository actor (ITI TF-2 3.41 Provide and Register, 3.43 Retrieve, RMD 3.86 Remove).

  service          `RepositoryService`: the actor's logic, built from plain values
  provide          ITI-41: documents stored as they arrive, checked, registered; all or nothing
  documents        the MTOM sink writing each document part into the blob store
  retrieve         ITI-43 (documents streamed from the store) and ITI-86
  requests         DocumentRequest bodies and the RetrieveDocumentSetResponse
  index            the repository's SQL index: uniqueId → blob key, size, SHA-1, mimeType
  registry_client  ITI-42 to the registry: SOAP, or in-process when co-located
  endpoints        the SOAP router of ITI-41, ITI-43, ITI-86
  store/           blob stores: local folder, S3 (minio), in-memory fake
"""
