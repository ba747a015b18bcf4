"""`xdsno publish` / `xdsno retrieve`: the submission built from files (defaults per profile),
the progress bar and file sink, and both commands against a real Norwegian-profile node."""
import hashlib
import io
import json
import re
from pathlib import Path

import pytest

from profiles.catalog import load_profile
from profiles.rules import Transaction, ValidationContext
from soap.mtom import Attachment
from tests.repository.nodes import cli
from tests.server import running_server
from xdsno.publish_metadata import MetadataError, PublishedFile, build_submission, parse_code
from xdsno.transfer import LARGE, FileSink, Progress

NORWEGIAN_PATIENT = "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO"
IHE_PATIENT = "ST-1000^^^&1.3.6.1.4.1.21367.2003.3.9&ISO"


def files(*names):
    return [PublishedFile(Path(name), f"Document{n:02d}") for n, name in enumerate(names, 1)]


@pytest.mark.parametrize("profile,patient", [("ihe", IHE_PATIENT), ("norway", NORWEGIAN_PATIENT)])
def test_defaults_make_a_valid_submission_for_the_profile(profile, patient):
    built = build_submission(files("report.pdf", "note.txt", "scan.png"), patient, profile, {})
    context = ValidationContext(Transaction.PROVIDE_AND_REGISTER, patient_domains=(patient.split("&")[1],),
                                documents_attached=frozenset(e.id for e in built.document_entries))
    assert load_profile(profile).validate(built, context) == []
    assert [e.mime_type for e in built.document_entries] == ["application/pdf", "text/plain", "image/png"]
    assert [e.title for e in built.document_entries] == ["report.pdf", "note.txt", "scan.png"]
    assert len({e.unique_id for e in built.document_entries}) == 3
    assert len(built.associations) == 3


def test_norwegian_format_code_follows_the_mime_type():
    built = build_submission(files("a.pdf", "b.txt", "c.jpg", "d.bin"), NORWEGIAN_PATIENT, "norway", {})
    assert [e.format_code.code for e in built.document_entries] == [
        "urn:no:ehelse:document:pdf", "urn:no:ehelse:document:text", "urn:no:ehelse:document:image",
        "urn:ihe:iti:xds:2017:mimeTypeSufficient"]


def test_given_values_override_the_defaults():
    built = build_submission(files("a.pdf"), NORWEGIAN_PATIENT, "norway", {
        "class_code": "J00-1^2.16.578.1.12.4.1.1.9602^Attester", "title": "Attest",
        "confidentiality_codes": ["NORS^2.16.578.1.12.4.1.1.9603"], "author_person": "565505933^Lege^Kari",
        "mime_type": "text/plain"})
    entry = built.document_entries[0]
    assert (entry.class_code.code, entry.class_code.display_name, entry.title) == ("J00-1", "Attester", "Attest")
    assert [c.code for c in entry.confidentiality_codes] == ["NORS"]
    assert entry.authors[0].person == "565505933^Lege^Kari" and entry.mime_type == "text/plain"
    assert built.submission_set.content_type_code.code == "J00-1"


def test_bad_values_name_what_is_wrong():
    with pytest.raises(MetadataError, match="class code"):
        parse_code("A00-1", "class code")
    with pytest.raises(MetadataError, match="unknown metadata key"):
        build_submission(files("a.pdf"), NORWEGIAN_PATIENT, "norway", {"colour": "blue"})


def test_progress_bar_draws_and_ends_with_a_newline():
    out = io.StringIO()
    progress = Progress(LARGE, "always", out)
    progress.advance(LARGE // 2)
    progress._last = 0
    progress.advance(LARGE // 2)
    progress.done()
    assert "100%" in out.getvalue() and out.getvalue().endswith("\n") and "#" * 30 in out.getvalue()


def test_progress_auto_is_silent_when_not_a_terminal_or_small():
    out = io.StringIO()
    progress = Progress(LARGE * 10, "auto", out)
    progress.advance(LARGE * 10)
    progress.done()
    assert out.getvalue() == ""


def test_file_sink_writes_beside_the_target_and_is_renamed_into_place(tmp_path):
    out = tmp_path / "doc.bin"
    sink = FileSink(out, Progress(None, "never"))
    sink.write(b"hello ")
    sink.write(b"world")
    sink.close_part()
    assert not out.exists()
    assert FileSink.save(Attachment("c", "text/plain", sink, 11), out) == (11, hashlib.sha1(b"hello world").hexdigest())
    assert out.read_bytes() == b"hello world" and list(tmp_path.iterdir()) == [out]


# --- against a real node (norway profile, the default) --------------------------------------


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("cli") / "data") as server:
        yield server


def test_publish_with_norwegian_defaults_and_retrieve(node, tmp_path):
    report = tmp_path / "epikrise.pdf"
    report.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 40)
    metadata = tmp_path / "metadata.json"
    metadata.write_text(json.dumps({"title": "Epikrise", "author_institutions": [
        "Finnmarkssykehuset HF^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^983974880"]}))
    published = cli("publish", str(report), "--patient", NORWEGIAN_PATIENT, "--metadata", str(metadata),
                    "--repository", node.url("/repository"))
    assert published.returncode == 0, published.stderr
    unique_id = re.search(r"^(\S+)  ", published.stdout.splitlines()[-1]).group(1)
    out = tmp_path / "back.pdf"
    retrieved = cli("retrieve", unique_id, "--out", str(out), "--repository", node.url("/repository"))
    assert retrieved.returncode == 0, retrieved.stderr
    assert out.read_bytes() == report.read_bytes() and "mimeType application/pdf" in retrieved.stdout


def test_publish_refused_prints_the_errors_and_exits_1(node, tmp_path):
    report = tmp_path / "x.pdf"
    report.write_bytes(b"%PDF")
    published = cli("publish", str(report), "--patient", "12345678901^^^&2.16.578.1.12.4.1.4.1&ISO",
                    "--repository", node.url("/repository"))
    assert published.returncode == 1
    assert "error: XDS" in published.stderr and "nothing was stored" in published.stderr


def test_publish_of_a_missing_file_exits_2(node, tmp_path):
    published = cli("publish", str(tmp_path / "absent.pdf"), "--patient", NORWEGIAN_PATIENT)
    assert published.returncode == 2 and "no such file" in published.stderr


def test_unreachable_repository_exits_1(tmp_path):
    from tests.server import free_port

    report = tmp_path / "x.pdf"
    report.write_bytes(b"%PDF")
    published = cli("publish", str(report), "--patient", NORWEGIAN_PATIENT,
                    "--repository", f"http://127.0.0.1:{free_port()}/repository", "--timeout", "5")
    assert published.returncode == 1 and "ConnectError" in published.stderr
