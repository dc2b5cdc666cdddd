from forbear_intake.domain.evidence_files import FileRefusal, MediaType, check_evidence_file, sniff_media_type

LIMIT = 10 * 1024 * 1024
PDF = b"%PDF-1.7\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00"


def test_pdf_jpeg_and_png_are_recognised_by_their_first_bytes():
    assert sniff_media_type(PDF) is MediaType.PDF
    assert sniff_media_type(JPEG) is MediaType.JPEG
    assert sniff_media_type(PNG) is MediaType.PNG


def test_an_executable_named_scan_pdf_is_refused_whatever_it_claims():
    check = check_evidence_file(b"MZ\x90\x00", 4096, "application/pdf", LIMIT)
    assert check.refusal is FileRefusal.UNSUPPORTED_FILE_TYPE


def test_a_declared_type_that_contradicts_the_bytes_is_refused():
    assert check_evidence_file(PNG, 100, "application/pdf", LIMIT).refusal is FileRefusal.CONTENT_TYPE_MISMATCH


def test_a_generic_or_aliased_declared_type_is_fine():
    assert check_evidence_file(PDF, 100, "application/octet-stream", LIMIT).media_type is MediaType.PDF
    assert check_evidence_file(JPEG, 100, "image/jpg", LIMIT).accepted
    assert check_evidence_file(PNG, 100, None, LIMIT).accepted
    assert check_evidence_file(PDF, 100, "application/pdf; charset=binary", LIMIT).accepted


def test_empty_and_oversized_files_are_refused():
    assert check_evidence_file(b"", 0, "application/pdf", LIMIT).refusal is FileRefusal.EMPTY_FILE
    assert check_evidence_file(PDF, LIMIT + 1, "application/pdf", LIMIT).refusal is FileRefusal.FILE_TOO_LARGE
    assert check_evidence_file(PDF, LIMIT, "application/pdf", LIMIT).accepted
