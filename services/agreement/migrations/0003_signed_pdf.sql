-- The signed agreement PDF: the lender's PAdES signature over the rendering of the canonical
-- document with the borrower's consent evidence attached (README "Signed agreements").
-- One per agreement, written once when the lender's signature activates it: a renegotiation
-- makes a new agreement with its own PDF; a signed PDF is never edited (the trigger refuses it).
create table signed_documents (
    agreement_id              text primary key references agreements (agreement_id),
    pdf                       bytea not null,
    pdf_sha256                text not null,
    -- sha256 of the rendering before the signature: reproducible from the canonical JSON,
    -- the consent record and the business date (domain/pdf.py)
    unsigned_pdf_sha256       text not null,
    document_sha256           text not null,
    signer                    text not null,
    signed_on                 date not null,
    signed_at                 timestamptz not null
);

create function signed_documents_immutable() returns trigger language plpgsql as $$
begin
    raise exception 'a signed agreement PDF is never edited (agreement %)', old.agreement_id;
end $$;

create trigger signed_documents_no_update before update on signed_documents
    for each row execute function signed_documents_immutable();
