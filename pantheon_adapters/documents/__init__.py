"""Document parsing: the ``DocumentParser`` port over pypdf, python-docx and the stdlib."""

from pantheon_adapters.documents.parser import LocalDocumentParser

__all__ = ["LocalDocumentParser"]
