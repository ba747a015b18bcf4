"""Document Registry actor (ITI TF-2 3.42 Register Document Set-b, 3.18 Registry Stored Query,
3.51 Multi-Patient Stored Query; RMD supplement 3.62 Remove Metadata).

Modules: `service` (the transactions' logic, no SOAP), `checks` (rules needing stored state),
`ids` (entryUUID/lid/version assignment), `relationships` (what RPLC/XFRM_RPLC deprecate),
`folders` (Folder lastUpdateTime and replacements' Folder membership), `removal` (what an
ITI-62 request names and whether removing it leaves the registry consistent), `patients`
(known patients), `queries` (one function per stored query, ITI-18 and ITI-51), `store` (SQL
schema and access), `endpoints` (SOAP handlers) and `admin` (the /admin/patients HTTP call).
"""
