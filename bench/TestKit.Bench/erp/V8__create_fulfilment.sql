CREATE TABLE carriers (
    id   integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code text NOT NULL UNIQUE,
    name text NOT NULL
);

INSERT INTO carriers (code, name) VALUES ('DHL', 'DHL Express'), ('UPS', 'United Parcel Service'), ('PICKUP', 'Customer pick-up');

CREATE TABLE shipments (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sales_order_id  bigint      NOT NULL REFERENCES sales_orders (id),
    warehouse_id    integer     NOT NULL REFERENCES warehouses (id),
    carrier_id      integer     NOT NULL REFERENCES carriers (id),
    tracking_number text,
    shipped_at      timestamptz
);

CREATE INDEX shipments_sales_order_id_idx ON shipments (sales_order_id);

CREATE TABLE shipment_lines (
    shipment_id    bigint         NOT NULL REFERENCES shipments (id) ON DELETE CASCADE,
    sales_order_id bigint         NOT NULL,
    line_no        integer        NOT NULL,
    quantity       numeric(12, 3) NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (shipment_id, sales_order_id, line_no),
    FOREIGN KEY (sales_order_id, line_no) REFERENCES sales_order_lines (sales_order_id, line_no)
);
