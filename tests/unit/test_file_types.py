"""Content sniffing (NFR-SEC-003, AT-007): the bytes decide the type, never the name."""

from __future__ import annotations

import codecs
import zipfile
from collections.abc import Callable

import pytest

from pantheon_core.domain.file_types import decode_text, detect_kind, sniff_delimiter
from pantheon_core.domain.files import ALLOWED_KINDS, FileKind
from pantheon_core.errors import InvalidInput
from tests import documents as docs

PDF = docs.make_pdf(["Quarterly report", "Page two"])
DOCX = docs.make_docx(["Hello"], table=[["a", "b"], ["1", "2"]])
CSV = docs.make_csv([["name", "qty"], ["apple", "3"], ["pear", "5"]])


def refused(data: bytes, name: str) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        detect_kind(data, name)
    return caught.value


def unsupported(data: bytes, name: str, *, detected: str | None = None) -> InvalidInput:
    error = refused(data, name)
    assert error.code == "unsupported_file_type", error.message
    assert error.details["allowed"] == list(ALLOWED_KINDS)
    assert error.details["reason"]
    if detected is not None:
        assert error.details["detected"] == detected
    return error


def unsafe(data: bytes, name: str) -> InvalidInput:
    error = refused(data, name)
    assert error.code == "unsafe_file", error.message
    return error


# --- every allowed type, from real bytes ------------------------------------------------------


@pytest.mark.parametrize(("data", "name", "kind"), [
    (PDF, "report.pdf", FileKind.PDF),
    (DOCX, "letter.docx", FileKind.DOCX),
    (b"Just some notes.\nSecond line.\n", "notes.txt", FileKind.TXT),
    (b"# Title\n\nSome *markdown*.\n", "readme.md", FileKind.MD),
    (b"# Title\n\nSome *markdown*.\n", "readme.markdown", FileKind.MD),
    (CSV, "stock.csv", FileKind.CSV),
    (docs.make_csv([["a", "b"], ["1", "2"]], delimiter="\t"), "data.tsv", FileKind.CSV),
    (docs.make_csv([["a", "b", "c"], ["1", "2", "3"]], delimiter=";"), "eu.csv", FileKind.CSV),
])
def test_allowed_types_are_recognised_from_their_bytes(data: bytes, name: str,
                                                       kind: FileKind) -> None:
    assert detect_kind(data, name) is kind


def test_a_pdf_with_an_encrypt_entry_is_left_to_the_parser() -> None:
    data = docs.make_encrypted_pdf(["secret"])
    assert b"/Encrypt" in data
    assert detect_kind(data, "locked.pdf") is FileKind.PDF


def test_a_pdf_with_trailing_whitespace_and_nuls_after_eof_is_accepted() -> None:
    assert detect_kind(PDF + b"\r\n\x00\x00  \n", "report.pdf") is FileKind.PDF


# --- the name never decides ------------------------------------------------------------------


@pytest.mark.parametrize(("data", "name", "kind"), [
    (PDF, "notes.txt", FileKind.PDF),
    (PDF, "no-extension", FileKind.PDF),
    (DOCX, "image.png", FileKind.DOCX),
    (b"plain words, not a PDF at all\n", "report.pdf", FileKind.TXT),
    (b"plain words\n", "letter.docx", FileKind.TXT),
    (CSV, "notes.txt", FileKind.TXT),  # the user said text: kept as text
    (CSV, "export", FileKind.CSV),  # no extension, clearly a table
    (CSV, "export.dat", FileKind.CSV),
    (b"one, two\n", "short.dat", FileKind.TXT),  # one line is not clearly a table
    (b"Dear Sam,\nthanks for lunch.\n", "letter.csv", FileKind.TXT),
    (b"name,qty\r\n", "empty-table.csv", FileKind.CSV),  # a header alone, named .csv
    (b"# Title\n", "readme.csv", FileKind.TXT),
])
def test_content_wins_over_the_name(data: bytes, name: str, kind: FileKind) -> None:
    assert detect_kind(data, name) is kind


@pytest.mark.parametrize(("data", "detected"), [
    (docs.ELF, "elf"), (docs.PNG, "png"), (docs.JPEG, "jpeg"), (docs.EXE, "exe"),
    (docs.make_gzip(), "gzip"), (b"GIF89a\x01\x00\x01\x00\x80\x00\x00", "gif"),
    (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "webp"), (b"\x00\x00\x00\x18ftypmp42\x00\x00", "mp4"),
    (b"7z\xbc\xaf\x27\x1c\x00\x04", "7z"), (b"Rar!\x1a\x07\x01\x00", "rar"),
    (b"\xcf\xfa\xed\xfe\x07\x00\x00\x01", "mach-o"), (b"\x00asm\x01\x00\x00\x00", "wasm"),
    (b"ID3\x04\x00\x00\x00\x00\x00\x00", "mp3"),
])
@pytest.mark.parametrize("name", ["evil.pdf", "notes.txt", "data.csv", "readme.md"])
def test_known_binaries_are_refused_whatever_their_name(data: bytes, detected: str,
                                                        name: str) -> None:
    unsupported(data, name, detected=detected)


def test_binary_with_nul_bytes_is_refused() -> None:
    error = unsupported(b"abc\x00def\x00" * 100, "notes.txt", detected="binary")
    assert "binary" in error.details["reason"]


def test_text_with_too_many_control_characters_is_refused() -> None:
    unsupported(b"hello \x1b\x02 world " * 50, "notes.txt", detected="binary")
    assert detect_kind(b"x" * 200 + b"\x1b", "notes.txt") is FileKind.TXT  # 1 in 201 is fine


def test_empty_file_is_refused() -> None:
    error = unsupported(b"", "notes.txt")
    assert error.details["reason"] == "the file is empty"
    unsupported(codecs.BOM_UTF8, "notes.txt")


# --- PDF -------------------------------------------------------------------------------------


def test_a_pdf_that_is_also_a_zip_is_refused() -> None:
    error = unsupported(docs.make_pdf_zip_polyglot(), "report.pdf", detected="pdf+zip")
    assert error.details["reason"] == "file matches more than one format"


def test_a_zip_that_also_claims_to_be_a_pdf_is_refused() -> None:
    data = docs.make_zip({"%PDF-1.4 fake": b"x", "b.txt": b"y"})
    unsupported(data, "a.docx", detected="pdf+zip")


def test_a_truncated_pdf_is_refused() -> None:
    error = unsupported(docs.make_truncated_pdf(), "report.pdf", detected="pdf")
    assert error.details["reason"] == "damaged or truncated PDF"
    unsupported(b"%PDF-1.7\n" + b"x" * 5000, "report.pdf", detected="pdf")
    unsupported(PDF + b"x" * 3000, "report.pdf", detected="pdf")  # %%EOF too far from the end


# --- DOCX and other ZIP archives ---------------------------------------------------------------


@pytest.mark.parametrize(("data", "detected"), [
    (docs.make_xlsx_like_zip(), "xlsx"),
    (docs.make_pptx_like_zip(), "pptx"),
    (docs.make_jar(), "jar"),
    (docs.make_plain_zip(), "zip"),
    (docs.make_prefixed_docx(), "zip"),
    (docs.make_ooxml_like_zip(docs.DOCX_MAIN, "word/other.xml"), "zip"),  # no word/document.xml
    (docs.make_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<x/>"}), "zip"),
])
def test_zips_that_are_not_word_documents_are_refused(data: bytes, detected: str) -> None:
    error = unsupported(data, "letter.docx", detected=detected)
    assert error.details["reason"] == "a ZIP archive that is not a Word document"


def test_a_macro_enabled_word_document_is_refused() -> None:
    error = unsupported(docs.make_docm_like_zip(), "letter.docx", detected="docm")
    assert error.details["reason"] == "macro-enabled Word document"


def test_legacy_or_encrypted_office_documents_are_refused() -> None:
    error = unsupported(docs.OLE, "letter.docx", detected="ole")
    assert error.details["reason"] == "legacy or encrypted Office document"


def test_a_damaged_zip_is_refused() -> None:
    unsupported(DOCX[: len(DOCX) // 2], "letter.docx", detected="zip")


@pytest.fixture
def no_decompression(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fails the test if anything in the archive is opened (read) at all."""
    def forbidden(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("an archive entry was opened")
    monkeypatch.setattr(zipfile.ZipFile, "open", forbidden)


@pytest.mark.parametrize(("build", "reason"), [
    (docs.make_zip_bomb, "the archive expands to more than 50 MiB"),
    (lambda: docs.make_zip_bomb(10), "an archive entry is compressed more than 100 to 1"),
    (docs.make_many_entries_zip, "the archive has more than 2000 entries"),
    (docs.make_traversal_docx, "an archive entry has an unsafe path"),
])
def test_zip_bombs_are_refused_before_decompressing(build: Callable[[], bytes], reason: str,
                                                    request: pytest.FixtureRequest) -> None:
    data = build()  # built before the patch: building needs ZipFile.open
    request.getfixturevalue("no_decompression")
    error = unsafe(data, "letter.docx")
    assert error.details["reason"] == reason


# --- text ------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_text_with_a_bom_is_text(encoding: str) -> None:
    bom = codecs.BOM_UTF16_LE if encoding.endswith("le") else codecs.BOM_UTF16_BE
    data = bom + "Grüße aus Köln\nzweite Zeile\n".encode(encoding)
    assert detect_kind(data, "notes.txt") is FileKind.TXT
    assert decode_text(data) == "Grüße aus Köln\nzweite Zeile\n"


def test_utf8_with_and_without_bom() -> None:
    assert decode_text("café ☕\n".encode()) == "café ☕\n"
    assert decode_text(codecs.BOM_UTF8 + "café\n".encode()) == "café\n"


def test_cp1252_text_is_text() -> None:
    data = "Price: 5 € – naïve “quotes”\n".encode("cp1252")
    assert detect_kind(data, "notes.txt") is FileKind.TXT
    assert decode_text(data) == "Price: 5 € – naïve “quotes”\n"


def test_sniff_delimiter() -> None:
    assert sniff_delimiter("a|b|c\n1|2|3\n") == "|"
    assert sniff_delimiter('name,notes\nx,"one; two"\n') == ","
    assert sniff_delimiter("a,b\n1,2,3\n") is None  # inconsistent
    assert sniff_delimiter("no delimiters here\nat all\n") is None
