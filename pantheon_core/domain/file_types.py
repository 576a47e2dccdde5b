"""What an uploaded file is, decided by its bytes, never by its name (NFR-SEC-003).

:func:`detect_kind` answers one of the allowed :class:`FileKind` values or raises
``unsupported_file_type`` (not an allowed type, or damaged) or ``unsafe_file`` (an allowed
container that breaks a safety limit, e.g. a zip bomb posing as a Word document). The name only
breaks ties between text kinds (``.md`` → MD, ``.csv`` → CSV when the content is a table).

Order of the checks: the container formats by their magic bytes (PDF, ZIP/DOCX, legacy Office),
then known binaries (images, executables, archives, media), then text.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import zipfile
from collections.abc import Sequence

from pantheon_core.domain.files import FileKind, extension_of, unsafe_file, unsupported_file_type

# ZIP (DOCX) safety limits; equal to the ``ParseLimits`` defaults.
MAX_ZIP_ENTRIES = 2_000
MAX_ZIP_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
MAX_ZIP_RATIO = 100  # uncompressed / compressed, for entries larger than RATIO_CHECK_MIN_BYTES
RATIO_CHECK_MIN_BYTES = 1024 * 1024
MAX_CONTENT_TYPES_BYTES = 1024 * 1024

PDF_EOF_WINDOW = 2048
TEXT_MAX_CONTROL_SHARE = 0.01
TABULAR_SAMPLE_CHARS = 64 * 1024
TABULAR_SAMPLE_ROWS = 20
DELIMITERS = (",", ";", "\t", "|")

DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_DOCX_TEMPLATE = "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml"
_MACRO_TYPES = (
    "application/vnd.ms-word.document.macroEnabled.main+xml",
    "application/vnd.ms-word.template.macroEnabledTemplate.main+xml",
    "application/vnd.ms-office.vbaProject",
)
_OTHER_OOXML = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": "xlsx",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml": "xlsm",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": "pptx",
    "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml": "pptm",
}
_NOT_WORD = "a ZIP archive that is not a Word document"

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# (pattern at offset 0, detected, what it looks like); checked after PDF, ZIP and OLE.
_BINARIES: tuple[tuple[re.Pattern[bytes], str, str], ...] = tuple(
    (re.compile(pattern, re.DOTALL), detected, looks_like)
    for pattern, detected, looks_like in (
        (rb"\x89PNG\r\n\x1a\n", "png", "a PNG image"),
        (rb"\xff\xd8\xff", "jpeg", "a JPEG image"),
        (rb"GIF8[79]a", "gif", "a GIF image"),
        (rb"RIFF.{4}WEBP", "webp", "a WebP image"),
        (rb"II\*\x00|MM\x00\*", "tiff", "a TIFF image"),
        (rb"\x7fELF", "elf", "a Linux executable (ELF)"),
        (rb"MZ.{0,62}\x00", "exe", "a Windows executable"),
        (rb"\xfe\xed\xfa[\xce\xcf]|[\xce\xcf]\xfa\xed\xfe", "mach-o",
         "a macOS executable (Mach-O)"),
        (rb"\xca\xfe\xba\xbe", "mach-o", "a macOS executable or Java class"),
        (rb"\x00asm", "wasm", "a WebAssembly module"),
        (rb"\x1f\x8b", "gzip", "a gzip archive"),
        (rb"7z\xbc\xaf\x27\x1c", "7z", "a 7-Zip archive"),
        (rb"Rar!\x1a\x07", "rar", "a RAR archive"),
        (rb"\xfd7zXZ\x00", "xz", "an xz archive"),
        (rb"\x28\xb5\x2f\xfd", "zstd", "a Zstandard archive"),
        (rb"BZh[1-9]1AY&SY", "bzip2", "a bzip2 archive"),
        (rb"SQLite format 3\x00", "sqlite", "an SQLite database"),
        (rb"\x00\x00..ftyp", "mp4", "an MP4/QuickTime media file"),
        (rb"RIFF.{4}(WAVE|AVI )", "riff", "a WAV or AVI media file"),
        (rb"OggS|fLaC", "audio", "an Ogg or FLAC media file"),
        (rb"ID3[\x02-\x04]\x00|\xff[\xfb\xf3\xf2]", "mp3", "an MP3 audio file"),
    )
)

# Control characters other than \t \n \r \f (C0, DEL and C1).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
_CONTENT_TYPE = re.compile(r"""\bContentType\s*=\s*["']([^"']*)["']""")


def detect_kind(data: bytes, name: str) -> FileKind:
    """The kind of a file from its content; raises ``InvalidInput`` when it is not allowed."""
    if not data:
        raise unsupported_file_type("the file is empty")
    if data.startswith(b"%PDF-"):
        return _pdf(data)
    if data.startswith(_ZIP_MAGIC):
        return _docx(data)
    if data.startswith(_OLE_MAGIC):
        raise unsupported_file_type("legacy or encrypted Office document", detected="ole")
    _refuse_known_binary(data)
    if _is_zip(data):
        raise unsupported_file_type(_NOT_WORD, detected="zip")
    return _text(decode_text(data), extension_of(name))


def decode_text(data: bytes) -> str:
    """The text in ``data`` (UTF-8 with or without BOM, UTF-16 with BOM, else cp1252).

    Raises ``unsupported_file_type`` for an empty file or bytes that do not look like text:
    NUL bytes, or more than 1% control characters other than tab, newline, CR and form feed.
    """
    text: str | None
    if data.startswith(codecs.BOM_UTF8):
        text = _decode(data[len(codecs.BOM_UTF8):], "utf-8")
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = _decode(data, "utf-16")  # the codec reads and drops the BOM
    elif b"\x00" in data:
        text = None
    else:
        text = _decode(data, "utf-8")
        if text is None:
            text = _decode(data, "cp1252")
    if text == "":
        raise unsupported_file_type("the file is empty")
    if text is None or "\x00" in text or not _looks_like_text(text):
        raise unsupported_file_type("binary content that is not a supported document",
                                    detected="binary")
    return text


def sniff_delimiter(text: str, *, min_rows: int = 2) -> str | None:
    """The delimiter (``, ; \\t |``) that splits the first rows into ≥2 equal columns, if any."""
    sample = text[:TABULAR_SAMPLE_CHARS]
    cut = len(text) > len(sample)
    if cut:
        sample = sample[: sample.rfind("\n") + 1]
    for delimiter in DELIMITERS:
        if delimiter not in sample:
            continue
        try:
            rows = [row for row in csv.reader(io.StringIO(sample, newline=""),
                                              delimiter=delimiter) if row]
        except csv.Error:
            continue
        if cut:
            rows = rows[:-1]  # may be a record cut in the middle
        rows = rows[:TABULAR_SAMPLE_ROWS]
        widths = {len(row) for row in rows}
        if len(rows) >= min_rows and len(widths) == 1 and widths.pop() >= 2:
            return delimiter
    return None


def check_zip_limits(
    entries: Sequence[zipfile.ZipInfo],
    *,
    max_entries: int = MAX_ZIP_ENTRIES,
    max_uncompressed_bytes: int = MAX_ZIP_UNCOMPRESSED_BYTES,
    max_ratio: int = MAX_ZIP_RATIO,
) -> None:
    """Refuses (``unsafe_file``) an archive whose central directory breaks a limit.

    Reads only the directory, so nothing is decompressed; ``zipfile`` never returns more than
    the declared size of an entry, so a lying directory cannot expand past these limits.
    """
    if len(entries) > max_entries:
        raise unsafe_file(f"the archive has more than {max_entries} entries")
    total = 0
    for entry in entries:
        total += entry.file_size
        if total > max_uncompressed_bytes:
            raise unsafe_file(f"the archive expands to more than "
                              f"{max_uncompressed_bytes // (1024 * 1024)} MiB")
        if (entry.file_size > RATIO_CHECK_MIN_BYTES
                and entry.file_size > max_ratio * max(entry.compress_size, 1)):
            raise unsafe_file(f"an archive entry is compressed more than {max_ratio} to 1")
        path = entry.filename.replace("\\", "/")
        if path.startswith("/") or re.match(r"[A-Za-z]:", path) or ".." in path.split("/"):
            raise unsafe_file("an archive entry has an unsafe path")


def _pdf(data: bytes) -> FileKind:
    if _is_zip(data):
        raise unsupported_file_type("file matches more than one format", detected="pdf+zip")
    tail = data.rstrip(b" \t\r\n\f\x00")[-PDF_EOF_WINDOW:]
    if b"%%EOF" not in tail:
        raise unsupported_file_type("damaged or truncated PDF", detected="pdf")
    return FileKind.PDF


def _docx(data: bytes) -> FileKind:
    if b"%PDF-" in data[:1024]:
        raise unsupported_file_type("file matches more than one format", detected="pdf+zip")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            check_zip_limits(entries)
            names = {entry.filename for entry in entries}
            if "[Content_Types].xml" not in names:
                raise unsupported_file_type(_NOT_WORD, detected=_zip_flavour(names))
            with archive.open("[Content_Types].xml") as part:
                raw = part.read(MAX_CONTENT_TYPES_BYTES + 1)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError,
            NotImplementedError) as exc:
        raise unsupported_file_type("damaged ZIP archive", detected="zip") from exc
    except RuntimeError as exc:  # an encrypted entry
        raise unsupported_file_type("encrypted ZIP archive", detected="zip") from exc
    if len(raw) > MAX_CONTENT_TYPES_BYTES:
        raise unsafe_file("the document's content types part is too large")
    types = set(_CONTENT_TYPE.findall(_decode_xml(raw)))
    if types.intersection(_MACRO_TYPES):
        raise unsupported_file_type("macro-enabled Word document", detected="docm")
    if DOCX_MAIN in types and "word/document.xml" in names:
        return FileKind.DOCX
    if _DOCX_TEMPLATE in types:
        raise unsupported_file_type("a Word template, not a document", detected="dotx")
    flavour = next((kind for ct, kind in _OTHER_OOXML.items() if ct in types), None)
    raise unsupported_file_type(_NOT_WORD, detected=flavour or _zip_flavour(names))


def _zip_flavour(names: set[str]) -> str:
    return "jar" if "META-INF/MANIFEST.MF" in names else "zip"


def _decode_xml(raw: bytes) -> str:
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16", errors="replace")
    return raw.decode("utf-8-sig", errors="replace")


def _refuse_known_binary(data: bytes) -> None:
    head = data[:64]
    for pattern, detected, looks_like in _BINARIES:
        if pattern.match(head):
            raise unsupported_file_type(looks_like, detected=detected)


def _text(text: str, extension: str) -> FileKind:
    if extension in ("md", "markdown"):
        return FileKind.MD
    if extension in ("csv", "tsv"):
        return FileKind.CSV if sniff_delimiter(text, min_rows=1) else FileKind.TXT
    if extension not in ("txt", "text") and sniff_delimiter(text, min_rows=3):
        return FileKind.CSV
    return FileKind.TXT


def _looks_like_text(text: str) -> bool:
    limit = int(len(text) * TEXT_MAX_CONTROL_SHARE)
    over_limit = itertools.islice(_CONTROL.finditer(text), limit, None)  # match number limit+1
    return next(over_limit, None) is None


def _decode(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def _is_zip(data: bytes) -> bool:
    return zipfile.is_zipfile(io.BytesIO(data))
