"""Document Registry actor (ITI TF-2 3.42 Register Document Set-b, 3.18 Registry Stored Query).

Modules: `service` (the transactions' logic, no SOAP), `checks` (rules needing stored state),
`ids` (entryUUID/lid/version assignment), `relationships` (what RPLC/XFRM_RPLC deprecate),
`folders` (Folder lastUpdateTime and replacements' Folder membership), `patients` (known
patients), `queries` (one function per stored query), `store` (SQL schema and access),
`endpoints` (SOAP handlers) and `admin` (the /admin/patients HTTP call).
"""
