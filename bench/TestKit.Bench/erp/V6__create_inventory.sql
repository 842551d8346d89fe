CREATE TABLE warehouses (
    id           integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    company_id   integer NOT NULL REFERENCES companies (id),
    code         text    NOT NULL UNIQUE,
    country_code char(2) NOT NULL REFERENCES countries (code)
);

INSERT INTO warehouses (company_id, code, country_code)
SELECT id, 'MAIN-' || country_code, country_code FROM companies;

CREATE TABLE storage_locations (
    id           integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    warehouse_id integer NOT NULL REFERENCES warehouses (id),
    code         text    NOT NULL,
    UNIQUE (warehouse_id, code)
);

CREATE TABLE stock_levels (
    product_id  integer       NOT NULL REFERENCES products (id),
    location_id integer       NOT NULL REFERENCES storage_locations (id),
    quantity    numeric(12, 3) NOT NULL DEFAULT 0,
    updated_at  timestamptz   NOT NULL DEFAULT now(),
    PRIMARY KEY (product_id, location_id)
);

CREATE TABLE stock_movements (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id       integer             NOT NULL REFERENCES products (id),
    from_location_id integer             REFERENCES storage_locations (id),
    to_location_id   integer             REFERENCES storage_locations (id),
    kind             stock_movement_kind NOT NULL,
    quantity         numeric(12, 3)      NOT NULL CHECK (quantity > 0),
    moved_at         timestamptz         NOT NULL DEFAULT now(),
    CHECK (from_location_id IS NOT NULL OR to_location_id IS NOT NULL)
);

CREATE INDEX stock_movements_product_id_idx ON stock_movements (product_id, moved_at);
