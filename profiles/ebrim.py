"""The ebRIM 3.0 codec of XDS metadata (ITI TF-3 4.2.3 and 4.3.1; OASIS ebRIM 3.0).

One import point for both directions: lenient decoding (`profiles.ebrim_decode`) and
canonical, byte-stable encoding (`profiles.ebrim_encode`); the field placement both share
is in `profiles.ebrim_layout`.
"""
from __future__ import annotations

from .ebrim_decode import (
    decode_provide_and_register,
    decode_registry_object_list,
    decode_submit_objects_request,
)
from .ebrim_encode import (
    DocumentContent,
    IdMaker,
    canonical_bytes,
    encode_object,
    encode_provide_and_register,
    encode_registry_object_list,
    encode_submit_objects_request,
)
from .ebrim_layout import derived_id

__all__ = [
    "DocumentContent",
    "IdMaker",
    "canonical_bytes",
    "decode_provide_and_register",
    "decode_registry_object_list",
    "decode_submit_objects_request",
    "derived_id",
    "encode_object",
    "encode_provide_and_register",
    "encode_registry_object_list",
    "encode_submit_objects_request",
]
