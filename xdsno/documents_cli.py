"""`xdsno publish` and `xdsno retrieve`: documents in and out of a Document Repository, for people.

- `xdsno publish FILE... --patient CX [--repository URL] [--metadata FILE.json] [code options]`
  builds one complete submission (xdsno.publish_metadata: defaults per profile) and sends a
  real ITI-41 (ITI TF-2 3.41) as MTOM, each file streamed from disk as its own part (never
  read whole), with a progress bar on stderr for large files; prints each document's uniqueId,
  size and SHA-1, or the repository's errors.
- `xdsno retrieve UNIQUEID --out FILE [--repository URL] [--repository-unique-id OID]` sends
  ITI-43 (ITI TF-2 3.43) and streams the MTOM answer's document straight into FILE (written
  as FILE.part, renamed when complete); prints size, SHA-1 and mimeType.

The repository URL defaults to this node's (`base_url` + /repository) and the
repositoryUniqueId to the node's setting; https presents the node's client certificate and
verifies the server against its CAs (xdsno.tls, ATNA ITI-19). `--assertion FILE` sends a
signed SAML 2.0 assertion (e.g. from `xdsno xua assertion`) in a wsse:Security header, as
an XUA X-Service User (ITI-40). Exit status: 0 success, 1 the repository refused or
could not be reached, 2 bad arguments.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from lxml import etree

from profiles.ebrim import encode_provide_and_register
from profiles.errors import Issue, Status
from profiles.responses import read_registry_response
from profiles.vocabulary import RS, XDSB
from soap.mtom import OutgoingAttachment, include_element, new_content_id
from soap.xml import XmlRejected, parse_xml

from .publish_metadata import KEYS, LIST_KEYS, MetadataError, PublishedFile, build_submission
from .settings import Settings, SettingsError
from .tls import outbound_tls
from .transfer import FileSink, Progress, file_chunks
from .xua.issuer import security_header
from .xua.names import ASSERTION

PROVIDE_AND_REGISTER = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"
RETRIEVE = "urn:ihe:iti:2007:RetrieveDocumentSet"
REPOSITORY_PATH = "/repository"

_OPTIONS = {  # option → (metadata key, help)
    "--title": ("title", "document title (default: the file name)"),
    "--comments": ("comments", "document comments"),
    "--mime-type": ("mime_type", "mimeType of every file (default: from the file name)"),
    "--class-code": ("class_code", "classCode as code^codingScheme[^display]"),
    "--type-code": ("type_code", "typeCode as code^codingScheme[^display]"),
    "--format-code": ("format_code", "formatCode as code^codingScheme[^display]"),
    "--confidentiality-code": ("confidentiality_codes", "confidentialityCode (repeatable)"),
    "--event-code": ("event_codes", "eventCodeList entry (repeatable)"),
    "--facility-code": ("facility_code", "healthcareFacilityTypeCode"),
    "--practice-setting-code": ("practice_setting_code", "practiceSettingCode"),
    "--content-type-code": ("content_type_code", "SubmissionSet contentTypeCode (default: the classCode)"),
    "--language": ("language", "languageCode (default: en-US, norway nb-NO)"),
    "--author-person": ("author_person", "author as XCN, e.g. 565505933^Lege^Kari^^^^^^&2.16.578.1.12.4.1.4.4&ISO"),
    "--author-institution": ("author_institutions", "author institution as XON (repeatable)"),
    "--author-role": ("author_roles", "author role (repeatable)"),
    "--author-specialty": ("author_specialties", "author specialty (repeatable)"),
    "--legal-authenticator": ("legal_authenticator", "legalAuthenticator as XCN"),
    "--source-id": ("source_id", "SubmissionSet sourceId OID (default: one stable for this machine)"),
    "--source-patient-id": ("source_patient_id", "sourcePatientId CX (default: --patient)"),
    "--source-patient-info": ("source_patient_info", "sourcePatientInfo line, e.g. PID-5|Doe^John (repeatable)"),
    "--creation-time": ("creation_time", "creationTime DTM (default: now, UTC)"),
    "--submission-title": ("submission_title", "SubmissionSet title"),
}


def add_commands(commands, add_node_options) -> None:
    publish = commands.add_parser("publish", help="send files to a Document Repository (ITI-41)")
    publish.add_argument("files", nargs="+", metavar="FILE", help="documents to publish, in one submission")
    publish.add_argument("--patient", required=True, metavar="CX",
                         help="patient id, e.g. 13116900216^^^&2.16.578.1.12.4.1.4.1&ISO")
    publish.add_argument("--repository", metavar="URL", help="ITI-41 endpoint (default: this node's /repository)")
    publish.add_argument("--metadata", metavar="FILE.json", help="JSON object of metadata keys (options override it)")
    for option, (key, text) in _OPTIONS.items():
        publish.add_argument(option, dest=key, help=text, action="append" if key in LIST_KEYS else "store")
    _transfer_options(publish)
    add_node_options(publish)
    publish.set_defaults(command=run_publish)

    retrieve = commands.add_parser("retrieve", help="fetch a document from a Document Repository (ITI-43)")
    retrieve.add_argument("unique_id", metavar="UNIQUEID", help="the document's uniqueId")
    retrieve.add_argument("--out", required=True, metavar="FILE", help="where to write the document")
    retrieve.add_argument("--repository", metavar="URL", help="ITI-43 endpoint (default: this node's /repository)")
    _transfer_options(retrieve)
    add_node_options(retrieve)
    retrieve.set_defaults(command=run_retrieve)


def _transfer_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the repository")
    parser.add_argument("--progress", choices=("auto", "always", "never"), default="auto",
                        help="progress bar on stderr (auto: for large files on a terminal)")
    parser.add_argument("--assertion", metavar="FILE", help="signed SAML 2.0 assertion sent in wsse:Security "
                        "(XUA, ITI-40; e.g. from `xdsno xua assertion`)")


def security_headers(path: str | None) -> list[etree._Element]:
    """The wsse:Security header carrying the assertion in file `path` (none without a path)."""
    if not path:
        return []
    try:
        assertion = parse_xml(Path(path).read_bytes())
    except XmlRejected as exc:
        raise ValueError(f"{path}: {exc.reason}") from None
    if assertion.tag != ASSERTION:
        raise ValueError(f"{path}: holds {assertion.tag}, not a SAML 2.0 saml:Assertion")
    return [security_header(assertion)]


def run_publish(settings: Settings, args: argparse.Namespace) -> int:
    from soap.client import SoapClient, SoapTransportError

    try:
        files, given = _publish_inputs(args)
        submission = build_submission(files, args.patient, settings.profile, given)
        headers = security_headers(args.assertion)
    except (OSError, MetadataError, ValueError) as exc:
        print(f"xdsno publish: {exc}", file=sys.stderr)
        return 2
    hashes = {f.entry_id: hashlib.sha1() for f in files}
    progress = Progress(sum(f.path.stat().st_size for f in files), args.progress)
    attachments = [OutgoingAttachment(new_content_id(), entry.mime_type,
                                      file_chunks(f.path, hashes[f.entry_id], progress), f.path.stat().st_size)
                   for f, entry in zip(files, submission.document_entries)]
    body = encode_provide_and_register(submission, [(f.entry_id, include_element(a.content_id))
                                                    for f, a in zip(files, attachments)])
    url = args.repository or settings.base_url + REPOSITORY_PATH
    try:
        with SoapClient(url, timeout=args.timeout, verify=outbound_tls(settings)) as client:
            reply = client.call(PROVIDE_AND_REGISTER, body, attachments=attachments, mtom=True, headers=headers)
    except (SoapTransportError, SettingsError) as exc:
        progress.done()
        print(f"xdsno publish: {url}: {exc}", file=sys.stderr)
        return 1
    progress.done()
    return _report_publish(reply, files, hashes, submission)


def _publish_inputs(args: argparse.Namespace) -> tuple[list[PublishedFile], dict]:
    files = [PublishedFile(Path(name), f"Document{n:02d}") for n, name in enumerate(args.files, 1)]
    for f in files:
        if not f.path.is_file():
            raise OSError(f"{f.path}: no such file")
    given = {}
    if args.metadata:
        given = json.loads(Path(args.metadata).read_text(encoding="utf-8"))
        if not isinstance(given, dict):
            raise MetadataError(f"{args.metadata}: must hold a JSON object of metadata keys")
    given.update({key: getattr(args, key) for key in KEYS if getattr(args, key, None)})
    return files, given


def _report_publish(reply, files, hashes, submission) -> int:
    if reply.fault is not None:
        print(f"xdsno publish: SOAP fault {reply.fault.code}: {reply.fault.reason}", file=sys.stderr)
        return 1
    status, issues = read_registry_response(reply.body)
    _print_issues(issues)
    if status is Status.FAILURE:
        print("xdsno publish: the repository refused the submission; nothing was stored", file=sys.stderr)
        return 1
    print(f"submission set {submission.submission_set.unique_id}: {status.value.rsplit(':', 1)[-1]}")
    for f, entry in zip(files, submission.document_entries):
        print(f"{entry.unique_id}  {f.path}  {f.path.stat().st_size} bytes  sha1 {hashes[f.entry_id].hexdigest()}")
    return 0


def run_retrieve(settings: Settings, args: argparse.Namespace) -> int:
    from soap.client import SoapClient, SoapTransportError

    out = Path(args.out)
    try:
        headers = security_headers(args.assertion)
    except (OSError, ValueError) as exc:
        print(f"xdsno retrieve: {exc}", file=sys.stderr)
        return 2
    sinks: list[FileSink] = []

    def sink_factory(_content_id: str, _content_type: str) -> FileSink:
        sinks.append(FileSink(out, Progress(None, args.progress)))
        return sinks[-1]

    url = args.repository or settings.base_url + REPOSITORY_PATH
    try:
        with SoapClient(url, timeout=args.timeout, sink_factory=sink_factory,
                        verify=outbound_tls(settings)) as client:
            reply = client.call(RETRIEVE, _retrieve_request(settings.repository_unique_id, args.unique_id),
                                mtom=True, headers=headers)
            return _save_retrieved(reply, out)
    except (SoapTransportError, SettingsError) as exc:
        print(f"xdsno retrieve: {url}: {exc}", file=sys.stderr)
        return 1
    finally:
        for sink in sinks:
            sink.discard()  # whatever was not renamed into place


def _retrieve_request(repository_unique_id: str, unique_id: str) -> etree._Element:
    request = etree.Element(f"{{{XDSB}}}RetrieveDocumentSetRequest", nsmap={"xdsb": XDSB})
    document = etree.SubElement(request, f"{{{XDSB}}}DocumentRequest")
    etree.SubElement(document, f"{{{XDSB}}}RepositoryUniqueId").text = repository_unique_id
    etree.SubElement(document, f"{{{XDSB}}}DocumentUniqueId").text = unique_id
    return request


def _save_retrieved(reply, out: Path) -> int:
    if reply.fault is not None:
        print(f"xdsno retrieve: SOAP fault {reply.fault.code}: {reply.fault.reason}", file=sys.stderr)
        return 1
    response = reply.body.find(f"{{{RS}}}RegistryResponse")
    status, issues = read_registry_response(response if response is not None else reply.body)
    _print_issues(issues)
    document = reply.body.find(f"{{{XDSB}}}DocumentResponse")
    if status is Status.FAILURE or document is None:
        print("xdsno retrieve: no document retrieved", file=sys.stderr)
        return 1
    content = reply.content_of(document.find(f"{{{XDSB}}}Document"))
    size, sha1 = FileSink.save(content, out)
    mime_type = (document.findtext(f"{{{XDSB}}}mimeType") or "").strip()
    print(f"{out}: {size} bytes, sha1 {sha1}, mimeType {mime_type}")
    return 0


def _print_issues(issues: list[Issue]) -> None:
    for issue in issues:
        kind = "error" if issue.is_error else "warning"
        where = f" [{issue.location}]" if issue.location else ""
        print(f"{kind}: {issue.code}{where}: {issue.context}", file=sys.stderr)
