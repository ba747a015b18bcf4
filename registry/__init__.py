"""Document Registry actor (ITI TF-2 3.42 Register Document Set-b, 3.18 Registry Stored Query).

Will hold: service (pure logic), checks (rules needing stored state), queries (one function
per stored query), store (SQL schema and access) and endpoints (SOAP handlers).
"""
