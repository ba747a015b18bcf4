"""XCA gateway actors (ITI TF-2 3.38 Cross Gateway Query, 3.39 Cross Gateway Retrieve).

Responding Gateway: `responding` (ITI-38/39 answered from the community's registry and
repositories), `local` (the LocalRegistry/LocalRepository protocols and their SOAP adapters),
`retrieve_set` (RetrieveDocumentSet messages), `endpoints` (its SoapRouter). Initiating
Gateway: `communities` (the directory), `initiating` with its query/retrieve/outbound
modules and `initiating_endpoints`.
"""
