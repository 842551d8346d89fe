CREATE TABLE sales_orders (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id         bigint             NOT NULL REFERENCES customers (id),
    shipping_address_id bigint             REFERENCES customer_addresses (id),
    currency_code       char(3)            NOT NULL REFERENCES currencies (code),
    status              sales_order_status NOT NULL DEFAULT 'draft',
    ordered_at          timestamptz        NOT NULL DEFAULT now(),
    updated_at          timestamptz        NOT NULL DEFAULT now()
);

CREATE INDEX sales_orders_customer_id_idx ON sales_orders (customer_id);
CREATE INDEX sales_orders_open_idx ON sales_orders (ordered_at) WHERE status NOT IN ('invoiced', 'cancelled');

CREATE TABLE sales_order_lines (
    sales_order_id bigint         NOT NULL REFERENCES sales_orders (id) ON DELETE CASCADE,
    line_no        integer        NOT NULL,
    product_id     integer        NOT NULL REFERENCES products (id),
    quantity       numeric(12, 3) NOT NULL CHECK (quantity > 0),
    unit_price     money_amount   NOT NULL,
    tax_rate_id    integer        NOT NULL REFERENCES tax_rates (id),
    PRIMARY KEY (sales_order_id, line_no)
);

CREATE INDEX sales_order_lines_product_id_idx ON sales_order_lines (product_id);
