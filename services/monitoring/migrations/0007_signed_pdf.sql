-- The signed agreement PDF as agreement.activated names it (the PDF itself stays in the agreement
-- service): its sha256 and where the agreement service serves it, for the legal dossier.
alter table agreements add column signed_pdf_sha256 text, add column signed_pdf_href text;
