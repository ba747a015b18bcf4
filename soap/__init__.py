"""SOAP 1.2 + WS-Addressing 1.0 + MTOM/XOP on lxml: WSGI router, HTTP client, hardened XML.

Knows nothing of XDS. Import from the modules (nothing is re-exported here, so that a
server importing `soap.router` does not pay for the HTTP client):
  soap.xml         the one hardened parse (`parse_xml`, `XmlRejected`) and namespaces
  soap.faults      `SoapFault`, fault codes, WS-Addressing fault subcodes and actions
  soap.addressing  `Addressing`, `read_addressing`, request/reply headers, `response_action`
  soap.envelope    `read_envelope`, `build_envelope`, `check_must_understand`
  soap.mime        streaming multipart reader/writer primitives, `parse_media_type`
  soap.mtom        XOP packages: `parse_multipart`, `build_multipart`, `resolve_xop`, ...
  soap.message     one message on the wire, read/written alike by router and client
  soap.router      `SoapRouter`, `SoapRequest`, `SoapResponse`
  soap.mount       `PathDispatcher`
  soap.client      `SoapClient`, `SoapReply`, `SoapTransportError`
"""
