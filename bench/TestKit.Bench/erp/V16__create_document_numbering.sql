-- Numbering of documents per company and kind, seeded for each company.
CREATE TABLE document_sequences (
    company_id  integer NOT NULL REFERENCES companies (id),
    kind        text    NOT NULL CHECK (kind IN ('sales_order', 'invoice', 'purchase_order')),
    prefix      text    NOT NULL,
    next_number bigint  NOT NULL DEFAULT 1,
    PRIMARY KEY (company_id, kind)
);

INSERT INTO document_sequences (company_id, kind, prefix)
SELECT c.id, k.kind, k.prefix || c.country_code
FROM companies c
CROSS JOIN (VALUES ('sales_order', 'SO-'), ('invoice', 'INV-'), ('purchase_order', 'PO-')) AS k (kind, prefix);

CREATE FUNCTION next_document_number(p_company_id integer, p_kind text) RETURNS text
    LANGUAGE sql
AS $$
    UPDATE document_sequences SET next_number = next_number + 1
    WHERE company_id = p_company_id AND kind = p_kind
    RETURNING prefix || lpad((next_number - 1)::text, 6, '0')
$$;
