"""The Norwegian profile of IHE XDS metadata (HIS 1169, NHN "Norsk profil for IHE XDS metadata";
facts in shared/norway/PROFILE.md).

- `codesets`: the Volven/FinnKode code lists and format codes as data files
  (`data/*.json`), a loader that lets a deployment override or extend them, and an importer
  for Helsedirektoratet's published exports.
- `identifiers`: fødselsnummer, D-nummer, FH-nummer and H-nummer (with the check-digit rule
  swappable for the 2032 change), HPR-nummer, organisasjonsnummer, RESH-id and HER-id.

The rule set built on these lives beside them and is layered on the IHE base rules:
`profile.NORWAY_PROFILE` = IHE_PROFILE with `rules_codes` (Volven code bindings),
`rules_parties` (patients, authors, legal authenticator) and `rules_document` (languageCode,
Stable only, optionality overrides), all reading `options` from ValidationContext.extras.
"""
