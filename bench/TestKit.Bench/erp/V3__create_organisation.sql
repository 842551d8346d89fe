CREATE TABLE companies (
    id            integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text    NOT NULL UNIQUE,
    country_code  char(2) NOT NULL REFERENCES countries (code),
    currency_code char(3) NOT NULL REFERENCES currencies (code),
    vat_number    text
);

INSERT INTO companies (name, country_code, currency_code, vat_number) VALUES
    ('Acme Trading GmbH', 'DE', 'EUR', 'DE123456789'),
    ('Acme Trading Ltd', 'GB', 'GBP', 'GB987654321');

CREATE TABLE departments (
    id         integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    company_id integer NOT NULL REFERENCES companies (id),
    name       text    NOT NULL,
    UNIQUE (company_id, name)
);

CREATE TABLE employees (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    department_id integer       NOT NULL REFERENCES departments (id),
    manager_id    bigint        REFERENCES employees (id),
    full_name     text          NOT NULL,
    email         email_address NOT NULL UNIQUE,
    hired_on      date          NOT NULL DEFAULT current_date
);

CREATE INDEX employees_department_id_idx ON employees (department_id);
CREATE INDEX employees_manager_id_idx ON employees (manager_id);
