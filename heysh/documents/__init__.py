"""Documents as heysh sees them: decoding, normalisation, size limits, windows."""

from heysh.documents.decoding import DecodedText, decode_document_bytes
from heysh.documents.normalise import normalise_text
from heysh.documents.windows import split_into_windows

__all__ = [
    "DecodedText",
    "decode_document_bytes",
    "normalise_text",
    "split_into_windows",
]
