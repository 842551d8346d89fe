CREATE TABLE purchase_orders (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    supplier_id   bigint                NOT NULL REFERENCES suppliers (id),
    warehouse_id  integer               NOT NULL REFERENCES warehouses (id),
    currency_code char(3)               NOT NULL REFERENCES currencies (code),
    status        purchase_order_status NOT NULL DEFAULT 'draft',
    ordered_at    timestamptz           NOT NULL DEFAULT now()
);

CREATE INDEX purchase_orders_supplier_id_idx ON purchase_orders (supplier_id);

CREATE TABLE purchase_order_lines (
    purchase_order_id bigint         NOT NULL REFERENCES purchase_orders (id) ON DELETE CASCADE,
    line_no           integer        NOT NULL,
    product_id        integer        NOT NULL REFERENCES products (id),
    quantity          numeric(12, 3) NOT NULL CHECK (quantity > 0),
    unit_price        money_amount   NOT NULL,
    PRIMARY KEY (purchase_order_id, line_no)
);

CREATE TABLE goods_receipts (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    purchase_order_id bigint      NOT NULL REFERENCES purchase_orders (id),
    received_at       timestamptz NOT NULL DEFAULT now(),
    received_by       bigint      REFERENCES employees (id)
);

CREATE TABLE goods_receipt_lines (
    goods_receipt_id  bigint         NOT NULL REFERENCES goods_receipts (id) ON DELETE CASCADE,
    purchase_order_id bigint         NOT NULL,
    line_no           integer        NOT NULL,
    location_id       integer        NOT NULL REFERENCES storage_locations (id),
    quantity          numeric(12, 3) NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (goods_receipt_id, purchase_order_id, line_no),
    FOREIGN KEY (purchase_order_id, line_no) REFERENCES purchase_order_lines (purchase_order_id, line_no)
);
