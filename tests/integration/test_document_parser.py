"""``LocalDocumentParser`` on real files: pypdf, python-docx and the stdlib behind the port."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pantheon_adapters.documents import LocalDocumentParser
from pantheon_adapters.documents import parser as parser_module
from pantheon_core.domain.files import FileKind
from pantheon_core.errors import InvalidInput, Unavailable
from pantheon_core.ports.documents import DocumentParser, ExtractedText, ParseLimits
from tests import documents as docs

LIMITS = ParseLimits()
PAGES = ["Alpha apples on page one", "Bravo bananas on page two\nand a second line",
         "Charlie cherries on page three"]


async def extract(kind: FileKind, data: bytes, limits: ParseLimits = LIMITS) -> ExtractedText:
    parser: DocumentParser = LocalDocumentParser()
    return await parser.extract(kind, data, limits=limits)


async def refused(kind: FileKind, data: bytes, limits: ParseLimits = LIMITS) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        await extract(kind, data, limits)
    return caught.value


async def test_pdf_text_comes_page_by_page() -> None:
    result = await extract(FileKind.PDF, docs.make_pdf(PAGES))
    assert len(result.page_offsets) == 3
    assert result.page_offsets[0] == 0
    assert not result.truncated
    for offset, word in zip(result.page_offsets, ["Alpha", "Bravo", "Charlie"], strict=True):
        assert result.text[offset:].startswith(word)
    assert "and a second line" in result.text
    assert result.text[result.page_offsets[1] - 2: result.page_offsets[1]] == "\n\n"


async def test_pdf_with_more_pages_than_the_limit_is_unsafe() -> None:
    error = await refused(FileKind.PDF, docs.make_pdf(["x"] * 6), replace(LIMITS, max_pages=5))
    assert error.code == "unsafe_file"
    assert "6 pages" in error.message


async def test_encrypted_pdf_is_unreadable() -> None:
    error = await refused(FileKind.PDF, docs.make_encrypted_pdf(["secret plans"]))
    assert error.code == "file_unreadable"
    assert "encrypted" in error.details["reason"]


async def test_pdf_with_only_an_owner_password_is_read() -> None:
    result = await extract(FileKind.PDF, docs.make_encrypted_pdf(["open plans"],
                                                                  user_password=""))
    assert "open plans" in result.text


@pytest.mark.parametrize("data", [
    docs.make_truncated_pdf(PAGES),
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage\n%%EOF\n",
    b"%PDF-",
])
async def test_damaged_pdf_is_a_typed_error_not_a_crash(data: bytes) -> None:
    error = await refused(FileKind.PDF, data)
    assert error.code == "file_unreadable"


async def test_docx_paragraphs_and_tables_in_document_order() -> None:
    data = docs.make_docx(["Intro paragraph", "Second paragraph"],
                          table=[["Name", "Qty"], ["Apple", "3"]], after=["Closing words"])
    result = await extract(FileKind.DOCX, data)
    assert result.text == ("Intro paragraph\nSecond paragraph\nName | Qty\nApple | 3\n"
                           "Closing words")
    assert result.page_offsets == ()


async def test_docx_zip_limits_are_checked_again_before_opening() -> None:
    error = await refused(FileKind.DOCX, docs.make_zip_bomb(10))
    assert error.code == "unsafe_file"
    small = replace(LIMITS, docx_max_entries=3)
    error = await refused(FileKind.DOCX, docs.make_docx(["fine"]), small)
    assert error.code == "unsafe_file"


async def test_damaged_docx_is_unreadable() -> None:
    error = await refused(FileKind.DOCX, docs.make_xlsx_like_zip())
    assert error.code == "file_unreadable"


async def test_csv_rows_become_lines_with_the_header_first() -> None:
    data = docs.make_csv([["name", "notes"], ["apple", '"red; sweet"'], ["pear", "green"]])
    result = await extract(FileKind.CSV, data)
    assert result.text == "name | notes\napple | red; sweet\npear | green"


async def test_csv_with_semicolons_is_sniffed() -> None:
    result = await extract(FileKind.CSV, docs.make_csv([["a", "b"], ["1", "2"]], delimiter=";"))
    assert result.text == "a | b\n1 | 2"


@pytest.mark.parametrize(("limits", "data", "words"), [
    (replace(LIMITS, csv_max_rows=2), docs.make_csv([["a", "b"]] * 3), "rows"),
    (replace(LIMITS, csv_max_columns=3), docs.make_csv([["a"] * 4]), "columns"),
    (replace(LIMITS, csv_max_field_chars=10), docs.make_csv([["a", "x" * 11]]), "cell"),
])
async def test_csv_over_a_limit_is_unsafe(limits: ParseLimits, data: bytes, words: str) -> None:
    error = await refused(FileKind.CSV, data, limits)
    assert error.code == "unsafe_file"
    assert words in error.message


async def test_markdown_and_text_come_back_as_written() -> None:
    markdown = "# Title\n\n- one\n- two\n"
    assert (await extract(FileKind.MD, markdown.encode())).text == markdown
    utf16 = "Grüße\n".encode("utf-16")
    assert (await extract(FileKind.TXT, utf16)).text == "Grüße\n"


async def test_text_is_cut_at_max_chars() -> None:
    result = await extract(FileKind.TXT, b"0123456789" * 10, replace(LIMITS, max_chars=25))
    assert result.text == "0123456789012345678901234"
    assert result.truncated


async def test_pdf_cut_at_max_chars_keeps_only_the_pages_it_reached() -> None:
    result = await extract(FileKind.PDF, docs.make_pdf(PAGES), replace(LIMITS, max_chars=30))
    assert result.truncated
    assert len(result.text) == 30
    assert result.page_offsets == (0, len(PAGES[0]) + 2)


async def test_a_run_over_the_deadline_is_unsafe() -> None:
    tiny = replace(LIMITS, max_seconds=1e-9)
    for kind, data in [(FileKind.PDF, docs.make_pdf(PAGES)),
                       (FileKind.DOCX, docs.make_docx(["a", "b"])),
                       (FileKind.CSV, docs.make_csv([["a", "b"]] * 100))]:
        error = await refused(kind, data, tiny)
        assert error.code == "unsafe_file"
        assert "took longer than" in error.message


async def test_an_unexpected_failure_is_parser_unavailable(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(data: bytes, limits: ParseLimits, tick: object) -> ExtractedText:
        raise MemoryError("boom")  # not an error a bad file can cause on purpose
    monkeypatch.setitem(parser_module._EXTRACTORS, FileKind.TXT, broken)
    with pytest.raises(Unavailable) as caught:
        await extract(FileKind.TXT, b"hello")
    assert caught.value.code == "parser_unavailable"
