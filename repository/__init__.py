"""Document Repository actor (ITI TF-2 3.41 Provide and Register, 3.43 Retrieve, 3.86 Remove).

Will hold: service, blob stores (local folder and S3 through minio) and SOAP endpoints.
"""
