-- The general ledger, with a small chart of accounts as reference data.
CREATE TABLE ledger_accounts (
    code      text PRIMARY KEY,
    name      text NOT NULL,
    kind      text NOT NULL CHECK (kind IN ('asset', 'liability', 'equity', 'revenue', 'expense')),
    parent    text REFERENCES ledger_accounts (code)
);

INSERT INTO ledger_accounts (code, name, kind, parent) VALUES
    ('1000', 'Assets', 'asset', NULL),
    ('1200', 'Receivables', 'asset', '1000'),
    ('1400', 'Inventory', 'asset', '1000'),
    ('2000', 'Liabilities', 'liability', NULL),
    ('2100', 'Payables', 'liability', '2000'),
    ('2200', 'VAT payable', 'liability', '2000'),
    ('3000', 'Equity', 'equity', NULL),
    ('4000', 'Revenue', 'revenue', NULL),
    ('5000', 'Cost of goods sold', 'expense', NULL);

CREATE TABLE journal_entries (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    company_id  integer     NOT NULL REFERENCES companies (id),
    posted_on   date        NOT NULL,
    description text        NOT NULL,
    invoice_id  bigint      REFERENCES invoices (id),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE journal_lines (
    journal_entry_id bigint        NOT NULL REFERENCES journal_entries (id) ON DELETE CASCADE,
    line_no          integer       NOT NULL,
    account_code     text          NOT NULL REFERENCES ledger_accounts (code),
    debit            numeric(14, 2) NOT NULL DEFAULT 0 CHECK (debit >= 0),
    credit           numeric(14, 2) NOT NULL DEFAULT 0 CHECK (credit >= 0),
    PRIMARY KEY (journal_entry_id, line_no),
    CHECK ((debit = 0) <> (credit = 0))
);

CREATE INDEX journal_lines_account_code_idx ON journal_lines (account_code);
