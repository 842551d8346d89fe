CREATE TABLE customers (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text NOT NULL CHECK (length(name) > 0),
    email        email_address NOT NULL UNIQUE,
    country_code char(2) NOT NULL REFERENCES countries (code),
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX customers_country_code_idx ON customers (country_code);
