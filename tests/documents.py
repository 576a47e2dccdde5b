"""Real bytes of uploaded files, for tests: documents of every allowed kind and hostile ones.

Builders return ``bytes``; the expensive ones are cached (call them as often as you like).
"""

from __future__ import annotations

import functools
import gzip
import io
import zipfile
from collections.abc import Sequence

import docx
from pypdf import PdfReader, PdfWriter

DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
PPTX_MAIN = "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
DOCM_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"

# A 1×1 PNG, the start of an x86-64 ELF, a gzip stream.
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
       b"\x00\x00\x00\x00IEND\xaeB`\x82")
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00>\x00\x01\x00\x00\x00" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 32
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504


def make_gzip(payload: bytes = b"hello world\n" * 10) -> bytes:
    return gzip.compress(payload, mtime=0)


# --- PDF -------------------------------------------------------------------------------------


def make_pdf(pages: Sequence[str]) -> bytes:
    """A valid PDF with one Helvetica text stream per page (``\\n`` starts a new line)."""
    count = len(pages)
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(count))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    for i, text in enumerate(pages):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>".encode())
        ops = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"]
        for j, line in enumerate(text.split("\n")):
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops.append(("T* " if j else "") + f"({escaped}) Tj")
        ops.append("ET")
        stream = "\n".join(ops).encode("cp1252")
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def make_encrypted_pdf(pages: Sequence[str], *, user_password: str = "secret") -> bytes:
    """A PDF that needs ``user_password`` to open (RC4-128, no extra dependency)."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(pages))))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_truncated_pdf(pages: Sequence[str] = ("cut short",)) -> bytes:
    data = make_pdf(pages)
    return data[: len(data) // 2]


def make_pdf_zip_polyglot() -> bytes:
    """A PDF with a ZIP appended: both a PDF reader and ``zipfile`` accept it."""
    data = make_pdf(["innocent"])
    return data + make_plain_zip()


# --- DOCX and other ZIP archives ---------------------------------------------------------------


def make_docx(paragraphs: Sequence[str], table: Sequence[Sequence[str]] | None = None,
              after: Sequence[str] = ()) -> bytes:
    """A Word document: ``paragraphs``, then ``table`` (rows of cells), then ``after``."""
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=max(len(row) for row in table))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    for text in after:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def content_types(main_content_type: str, part: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/{part}" ContentType="{main_content_type}"/>'
        '</Types>').encode()


def make_zip(entries: dict[str, bytes], *, prefix: bytes = b"") -> bytes:
    out = io.BytesIO()
    out.write(prefix)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def make_ooxml_like_zip(main_content_type: str, part: str) -> bytes:
    return make_zip({"[Content_Types].xml": content_types(main_content_type, part),
                     part: b"<?xml version='1.0'?><root/>"})


def make_xlsx_like_zip() -> bytes:
    return make_ooxml_like_zip(XLSX_MAIN, "xl/workbook.xml")


def make_pptx_like_zip() -> bytes:
    return make_ooxml_like_zip(PPTX_MAIN, "ppt/presentation.xml")


def make_docm_like_zip() -> bytes:
    return make_ooxml_like_zip(DOCM_MAIN, "word/document.xml")


def make_jar() -> bytes:
    return make_zip({"META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\r\n\r\n",
                     "Main.class": b"\xca\xfe\xba\xbe\x00\x00\x00\x34"})


def make_plain_zip() -> bytes:
    return make_zip({"notes.txt": b"just some notes\n"})


def make_prefixed_docx() -> bytes:
    """A real Word document behind a shell-script prefix (a self-extracting archive trick)."""
    return b"#!/bin/sh\nexit 0\n" + make_docx(["hidden"])


def make_traversal_docx() -> bytes:
    return make_zip({"[Content_Types].xml": content_types(DOCX_MAIN, "word/document.xml"),
                     "word/document.xml": b"<w:document/>", "../../evil.sh": b"rm -rf /\n"})


@functools.cache
def make_zip_bomb(mib: int = 60) -> bytes:
    """A docx-looking archive with one entry of ``mib`` MiB of zeros (about 1000:1)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", content_types(DOCX_MAIN, "word/document.xml"))
        with archive.open("word/document.xml", "w", force_zip64=True) as entry:
            chunk = bytes(1024 * 1024)
            for _ in range(mib):
                entry.write(chunk)
    return out.getvalue()


@functools.cache
def make_many_entries_zip(count: int = 3000) -> bytes:
    entries = {"[Content_Types].xml": content_types(DOCX_MAIN, "word/document.xml"),
               "word/document.xml": b"<w:document/>"}
    entries.update({f"word/media/{i}.txt": b"x" for i in range(count)})
    return make_zip(entries)


# --- CSV -------------------------------------------------------------------------------------


def make_csv(rows: Sequence[Sequence[str]], delimiter: str = ",") -> bytes:
    return "".join(delimiter.join(row) + "\r\n" for row in rows).encode()
