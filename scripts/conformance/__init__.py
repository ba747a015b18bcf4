"""Conformance harness: replays the converted NIST XDS Toolkit test plans
(`../shared/conformance/nist`, format in its README) against a running xdsno server and
reports pass / fail / not-served per test and step. The command is `nist.py` beside this file.

Modules: `plans` (manifests and the index), `identities` (patients and fresh ids),
`rewrite` (symbol replacement and the `assign` pass), `checks` (every `expect` kind),
`runner` (executing steps over SOAP), `results` (step/test outcomes, table, JSON, the
expected-pass file). The harness judges the server only through the wire, so it imports
nothing of the actors or `profiles`; `soap` is used as the client.
"""
