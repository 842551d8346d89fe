-- Reference data that every environment needs: filled here, read by the rest of the schema.
CREATE TABLE currencies (
    code        char(3) PRIMARY KEY,
    name        text     NOT NULL,
    minor_units smallint NOT NULL DEFAULT 2
);

INSERT INTO currencies (code, name, minor_units) VALUES
    ('EUR', 'Euro', 2),
    ('GBP', 'Pound sterling', 2),
    ('USD', 'US dollar', 2),
    ('CHF', 'Swiss franc', 2),
    ('JPY', 'Yen', 0);

CREATE TABLE countries (
    code          char(2) PRIMARY KEY,
    name          text    NOT NULL UNIQUE,
    currency_code char(3) NOT NULL REFERENCES currencies (code)
);

INSERT INTO countries (code, name, currency_code) VALUES
    ('DE', 'Germany', 'EUR'),
    ('FR', 'France', 'EUR'),
    ('NL', 'Netherlands', 'EUR'),
    ('GB', 'United Kingdom', 'GBP'),
    ('CH', 'Switzerland', 'CHF'),
    ('US', 'United States', 'USD'),
    ('JP', 'Japan', 'JPY');

CREATE TABLE units_of_measure (
    code text PRIMARY KEY,
    name text NOT NULL
);

INSERT INTO units_of_measure (code, name) VALUES
    ('pcs', 'Piece'),
    ('kg', 'Kilogram'),
    ('m', 'Metre'),
    ('l', 'Litre'),
    ('box', 'Box');

CREATE TABLE tax_rates (
    id           integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    country_code char(2)      NOT NULL REFERENCES countries (code),
    code         text         NOT NULL,
    rate         numeric(5, 4) NOT NULL CHECK (rate >= 0 AND rate < 1),
    UNIQUE (country_code, code)
);

INSERT INTO tax_rates (country_code, code, rate) VALUES
    ('DE', 'standard', 0.19), ('DE', 'reduced', 0.07),
    ('FR', 'standard', 0.20), ('FR', 'reduced', 0.055),
    ('NL', 'standard', 0.21), ('GB', 'standard', 0.20),
    ('CH', 'standard', 0.081), ('US', 'none', 0), ('JP', 'standard', 0.10);

CREATE TABLE payment_terms (
    id        integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code      text     NOT NULL UNIQUE,
    due_days  smallint NOT NULL CHECK (due_days >= 0),
    discount  numeric(4, 3) NOT NULL DEFAULT 0
);

INSERT INTO payment_terms (code, due_days, discount) VALUES
    ('immediate', 0, 0), ('net15', 15, 0), ('net30', 30, 0), ('2-10-net30', 30, 0.02);
