"""Test helpers: hardened parsing, SOAP body extraction and the IHE schemas from ../shared.

The shared data lives next to the repository (`<repo>/../shared`); tests that need it skip
cleanly when it is absent.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest
from lxml import etree

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = REPO_ROOT.parent / "shared"
IHE_SCHEMA = SHARED / "ihe" / "schema"
IHE_EXAMPLES = SHARED / "ihe" / "examples"
NIST = SHARED / "conformance" / "nist"

SOAP12_ENVELOPE = "{http://www.w3.org/2003/05/soap-envelope}Envelope"
SOAP12_BODY = "{http://www.w3.org/2003/05/soap-envelope}Body"

#: top-level schema per message, as /work/shared/ihe/README.md names them
SCHEMAS = {
    "lcm": "ebRS/lcm.xsd",
    "query": "ebRS/query.xsd",
    "rs": "ebRS/rs.xsd",
    "xdsb": "IHE/XDS.b_DocumentRepository.xsd",
    "rmd": "IHE/RMD.xsd",
}


def require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared data not present: {path}")
    return path


def safe_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def parse_file(path: Path) -> etree._Element:
    return etree.parse(str(path), safe_parser()).getroot()


def body_of(root: etree._Element) -> etree._Element:
    """The payload: the first element child of a SOAP 1.2 Body, or the root itself."""
    if root.tag != SOAP12_ENVELOPE:
        return root
    body = root.find(SOAP12_BODY)
    return next(child for child in body if isinstance(child.tag, str))


@lru_cache(maxsize=None)
def _schema(name: str) -> etree.XMLSchema:
    path = require(IHE_SCHEMA / SCHEMAS[name])
    return etree.XMLSchema(etree.parse(str(path), etree.XMLParser(no_network=True)))


def schema(name: str) -> etree.XMLSchema:
    return _schema(name)


def assert_valid(element: etree._Element, schema_name: str) -> None:
    """Validate a re-parsed copy, so what is checked is what goes on the wire."""
    validator = schema(schema_name)
    document = etree.fromstring(etree.tostring(element), safe_parser())
    if not validator.validate(document):
        raise AssertionError(f"not valid against {SCHEMAS[schema_name]}:\n{validator.error_log}")


def reparse(element: etree._Element) -> etree._Element:
    return etree.fromstring(etree.tostring(element), safe_parser())
