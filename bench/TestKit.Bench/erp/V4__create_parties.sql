-- Customers and suppliers, with their addresses and contacts.
CREATE TABLE customers (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    company_id       integer       NOT NULL REFERENCES companies (id),
    name             text          NOT NULL CHECK (length(name) > 0),
    email            email_address NOT NULL UNIQUE,
    payment_terms_id integer       NOT NULL REFERENCES payment_terms (id),
    created_at       timestamptz   NOT NULL DEFAULT now()
);

CREATE INDEX customers_company_id_idx ON customers (company_id);

CREATE TABLE customer_addresses (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id  bigint  NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    kind         text    NOT NULL CHECK (kind IN ('billing', 'shipping')),
    line1        text    NOT NULL,
    city         text    NOT NULL,
    postal_code  text    NOT NULL,
    country_code char(2) NOT NULL REFERENCES countries (code)
);

CREATE INDEX customer_addresses_customer_id_idx ON customer_addresses (customer_id);

CREATE TABLE suppliers (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name             text          NOT NULL UNIQUE,
    email            email_address,
    country_code     char(2)       NOT NULL REFERENCES countries (code),
    currency_code    char(3)       NOT NULL REFERENCES currencies (code),
    payment_terms_id integer       NOT NULL REFERENCES payment_terms (id)
);

CREATE TABLE supplier_contacts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    supplier_id bigint        NOT NULL REFERENCES suppliers (id) ON DELETE CASCADE,
    full_name   text          NOT NULL,
    email       email_address NOT NULL,
    phone       text
);

CREATE INDEX supplier_contacts_supplier_id_idx ON supplier_contacts (supplier_id);
