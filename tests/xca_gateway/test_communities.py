"""The communities file (xca_gateway.communities): the format the federation scripts write."""
from __future__ import annotations

import re

import pytest

from xca_gateway.communities import (
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_TIMEOUT_SECONDS,
    CommunitiesFileError,
    load_communities,
)

GOOD = """
[[community]]
home_community_id = "urn:oid:2.16.578.1.12.4.1.7.1.2"
name = "Helse Nord"
query_url = "https://xca.helse-nord.example/xca"
retrieve_url = "https://xca.helse-nord.example/xca/retrieve"
timeout_seconds = 2.5
max_connections = 3

[[community]]
home_community_id = "urn:oid:2.16.578.1.12.4.1.7.1.3"
name = "Helse Vest"
query_url = "http://127.0.0.1:8082/xca"
"""

ENTRY = """
[[community]]
home_community_id = "urn:oid:2.16.578.1.12.4.1.7.1.2"
name = "Helse Nord"
query_url = "http://127.0.0.1:8081/xca"
"""


def write(tmp_path, text: str):
    path = tmp_path / "communities.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_in_file_order_with_defaults(tmp_path):
    directory = load_communities(write(tmp_path, GOOD))
    assert directory.ids == ("urn:oid:2.16.578.1.12.4.1.7.1.2", "urn:oid:2.16.578.1.12.4.1.7.1.3")
    nord = directory.get("urn:oid:2.16.578.1.12.4.1.7.1.2")
    assert (nord.name, nord.retrieve_url, nord.timeout_seconds, nord.max_connections) == (
        "Helse Nord", "https://xca.helse-nord.example/xca/retrieve", 2.5, 3)
    vest = directory.get(" urn:oid:2.16.578.1.12.4.1.7.1.3 ")
    assert vest.retrieve_url == vest.query_url == "http://127.0.0.1:8082/xca"
    assert (vest.timeout_seconds, vest.max_connections) == (DEFAULT_TIMEOUT_SECONDS, DEFAULT_MAX_CONNECTIONS)
    assert vest.label == "Helse Vest (urn:oid:2.16.578.1.12.4.1.7.1.3)"
    assert "urn:oid:2.16.578.1.12.4.1.7.1.9" not in directory and len(directory) == 2


def test_an_empty_file_is_an_empty_directory(tmp_path):
    assert len(load_communities(write(tmp_path, "# nobody yet\n"))) == 0


@pytest.mark.parametrize("text, complaint", [
    ("[[community]\n", "not valid TOML"),
    ("[community]\nname = 'x'\n", "array of tables"),
    ("[[communities]]\nname = 'x'\n", "unknown top-level key(s) communities"),
    ("[[community]]\nname = 'Helse Nord'\nquery_url = 'http://h/xca'\n", "missing required key(s) home_community_id"),
    (ENTRY.replace('"urn:oid:2.16.578.1.12.4.1.7.1.2"', '"2.16.578.1.12.4.1.7.1.2"'), "is not urn:oid:<OID>"),
    (ENTRY.replace('"urn:oid:2.16.578.1.12.4.1.7.1.2"', '"urn:oid:2.16.x"'), "is not urn:oid:<OID>"),
    (ENTRY.replace("http://127.0.0.1:8081/xca", "ftp://h/xca"), "query_url 'ftp://h/xca' is not an http"),
    (ENTRY + "retrieve_url = 'xca'\n", "retrieve_url 'xca' is not an http"),
    (ENTRY + "timeout_seconds = 0\n", "timeout_seconds must be a positive number"),
    (ENTRY + "timeout_seconds = 'soon'\n", "timeout_seconds must be a positive number"),
    (ENTRY + "max_connections = 0\n", "max_connections must be a positive integer"),
    (ENTRY + "timeout = 5\n", "unknown key(s) timeout"),
    (ENTRY.replace('"Helse Nord"', "''"), "name must be a non-empty string"),
    (ENTRY + ENTRY, "home_community_id 'urn:oid:2.16.578.1.12.4.1.7.1.2' is listed twice"),
    (ENTRY + ENTRY.replace("7.1.2", "7.1.3"), "name 'Helse Nord' is listed twice"),
])
def test_bad_files_are_refused_naming_the_problem(tmp_path, text, complaint):
    with pytest.raises(CommunitiesFileError, match=re.escape(complaint)) as caught:
        load_communities(write(tmp_path, text))
    assert "communities.toml" in str(caught.value)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(CommunitiesFileError, match="does not exist"):
        load_communities(tmp_path / "nowhere.toml")
