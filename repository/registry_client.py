"""How the Document Repository reaches the Document Registry: ITI-42 Register Document Set-b
(ITI TF-2 3.42), sent while answering ITI-41 (ITI TF-2 3.41.4.1.3: "forward the metadata to
the Document Registry using [ITI-42]").

`RegistryClient.register(submit_objects_request) -> rs:RegistryResponse` has two
implementations (DESIGN.md §2, actors never import each other):

- `SoapRegistryClient(url, observer=None)`: ITI-42 over SOAP 1.2/HTTP; `observer` hears of
  each request sent (soap.observed; the deployment audits it as the Document Source side,
  ITI TF-2 3.42.5.1.1). A registry that cannot be reached or
  answers no readable SOAP reply becomes a Failure response with XDSRegistryNotAvailable; a
  SOAP fault or an answer that is no RegistryResponse becomes Failure with XDSRegistryError.
- `InProcessRegistryClient(register, register_submission=None)`: calls the co-located
  registry service's `register` callable, handed over by the composition root; an exception
  becomes XDSRegistryError. Given the service's `register_submission` too, it also takes the
  decoded submission itself (`register_submission(submission, judged)`), so the registry
  neither decodes the metadata again nor, when `judged` names its own rule set, re-runs the
  profile rules the repository ran (registry.service).

`send_submission(client, submission, judged)` is what the repository calls for a submission
it found clean (repository.provide): the model to a client that takes one, else its
lcm:SubmitObjectsRequest to `register`.

Either way the caller always gets an rs:RegistryResponse element, never an exception.
"""
from __future__ import annotations

import logging
import ssl
from collections.abc import Callable
from typing import Protocol

from lxml import etree

from profiles.ebrim import encode_submit_objects_request
from profiles.errors import ErrorCode, Issue, Status
from profiles.model import Submission
from profiles.responses import registry_response
from profiles.rules import Profile, ValidationContext
from profiles.vocabulary import RS

from .actions import REGISTER

log = logging.getLogger(__name__)

_REGISTRY_RESPONSE = f"{{{RS}}}RegistryResponse"


class RegistryClient(Protocol):
    """Sends an lcm:SubmitObjectsRequest to a Document Registry (ITI-42)."""

    def register(self, submit_objects_request: etree._Element) -> etree._Element:
        """The registry's rs:RegistryResponse; failures to reach it are Failure responses."""
        ...


#: the profile and context that found no issue at all in a submission (registry.service)
Judgement = tuple[Profile, ValidationContext]


def send_submission(client: RegistryClient, submission: Submission,
                    judged: Judgement | None = None) -> etree._Element:
    """ITI-42 of `submission`: the model itself to a client that takes one (in-process), else
    its lcm:SubmitObjectsRequest."""
    register_submission = getattr(client, "register_submission", None)
    if register_submission is not None:
        return register_submission(submission, judged)
    return client.register(encode_submit_objects_request(submission))


def failure(code: ErrorCode, context: str, location: str = "") -> etree._Element:
    """An rs:RegistryResponse with status Failure and one error."""
    return registry_response([Issue(code, context, location=location)], status=Status.FAILURE)


class InProcessRegistryClient:
    """The co-located registry, called directly: `register` is its service's register method,
    `register_submission` (optional) its register_submission method."""

    def __init__(self, register: Callable[[etree._Element], etree._Element],
                 register_submission: Callable[[Submission, Judgement | None], etree._Element] | None = None):
        self._register = register
        self._register_submission = register_submission

    def register(self, submit_objects_request: etree._Element) -> etree._Element:
        return self._called(self._register, submit_objects_request)

    def register_submission(self, submission: Submission, judged: Judgement | None = None) -> etree._Element:
        if self._register_submission is None:
            return self.register(encode_submit_objects_request(submission))
        return self._called(self._register_submission, submission, judged)

    @staticmethod
    def _called(method: Callable[..., etree._Element], *args) -> etree._Element:
        try:
            response = method(*args)
        except Exception:  # the registry's own bug must not leave the repository half-done
            log.exception("in-process registry failed on ITI-42")
            return failure(ErrorCode.REGISTRY_ERROR, "the registry failed while registering the submission")
        return _checked(response)

    def close(self) -> None:
        pass


class SoapRegistryClient:
    """A remote registry reached with ITI-42 over SOAP; one keep-alive HTTP client, thread-safe."""

    def __init__(self, url: str, *, timeout: float = 60.0, verify: bool | str | ssl.SSLContext = True,
                 cert: str | tuple[str, str] | None = None, http_client=None, observer=None):
        from soap.client import SoapClient  # the HTTP client is only needed for a remote registry
        from soap.observed import ObservedClient

        self.url = url
        self._http = SoapClient(url, timeout=timeout, verify=verify, cert=cert, http_client=http_client)
        self._client = ObservedClient(self._http, observer=observer) if observer else self._http

    def register(self, submit_objects_request: etree._Element) -> etree._Element:
        from soap.client import SoapTransportError

        try:
            reply = self._client.call(REGISTER, submit_objects_request)
        except SoapTransportError as exc:
            log.warning("registry %s not available: %s", self.url, exc)
            return failure(ErrorCode.REGISTRY_NOT_AVAILABLE, f"registry {self.url} not available: {exc}")
        try:
            if reply.fault is not None:
                return failure(ErrorCode.REGISTRY_ERROR,
                               f"registry {self.url} answered a SOAP fault: {reply.fault.reason}")
            return _checked(reply.body)
        finally:
            reply.close()

    def close(self) -> None:
        self._http.close()


def _checked(response: etree._Element) -> etree._Element:
    if not isinstance(response, etree._Element) or response.tag != _REGISTRY_RESPONSE:
        tag = getattr(response, "tag", type(response).__name__)
        return failure(ErrorCode.REGISTRY_ERROR, f"the registry answered {tag}, not rs:RegistryResponse")
    return response
