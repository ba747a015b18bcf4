"""XDS metadata (ITI TF-3 4.1-4.3): model, ebRIM 3.0 codec, vocabulary, HL7v2 datatypes,
error codes, stored-query table and the rule sets (ihe base, norway layered on ihe).

Depends only on lxml; knows nothing of SOAP or of any actor.
"""
