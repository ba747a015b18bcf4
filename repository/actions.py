"""The wsa:Action URIs the Document Repository serves and sends (ITI TF-2 Appendix V;
the XDS.b and RMD WSDLs). Response actions are the request's + "Response".
"""
from __future__ import annotations

#: ITI-41 Provide and Register Document Set-b (ITI TF-2 3.41)
PROVIDE_AND_REGISTER = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"
#: ITI-42 Register Document Set-b, sent to the registry (ITI TF-2 3.42)
REGISTER = "urn:ihe:iti:2007:RegisterDocumentSet-b"
#: ITI-43 Retrieve Document Set (ITI TF-2 3.43)
RETRIEVE = "urn:ihe:iti:2007:RetrieveDocumentSet"
#: ITI-86 Remove Documents (RMD supplement 3.86)
REMOVE_DOCUMENTS = "urn:ihe:iti:2017:RemoveDocuments"
