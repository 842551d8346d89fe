CREATE TABLE invoices (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number         text           NOT NULL UNIQUE,
    customer_id    bigint         NOT NULL REFERENCES customers (id),
    sales_order_id bigint         REFERENCES sales_orders (id),
    currency_code  char(3)        NOT NULL REFERENCES currencies (code),
    status         invoice_status NOT NULL DEFAULT 'draft',
    issued_on      date,
    due_on         date,
    CHECK (due_on IS NULL OR issued_on IS NULL OR due_on >= issued_on)
);

CREATE INDEX invoices_customer_id_idx ON invoices (customer_id);

CREATE TABLE invoice_lines (
    invoice_id  bigint         NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
    line_no     integer        NOT NULL,
    description text           NOT NULL,
    quantity    numeric(12, 3) NOT NULL,
    unit_price  money_amount   NOT NULL,
    tax_rate_id integer        NOT NULL REFERENCES tax_rates (id),
    PRIMARY KEY (invoice_id, line_no)
);

CREATE TABLE payments (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id   bigint       NOT NULL REFERENCES customers (id),
    currency_code char(3)      NOT NULL REFERENCES currencies (code),
    amount        money_amount NOT NULL,
    received_on   date         NOT NULL DEFAULT current_date,
    reference     text
);

CREATE TABLE payment_allocations (
    payment_id bigint       NOT NULL REFERENCES payments (id) ON DELETE CASCADE,
    invoice_id bigint       NOT NULL REFERENCES invoices (id),
    amount     money_amount NOT NULL,
    PRIMARY KEY (payment_id, invoice_id)
);
