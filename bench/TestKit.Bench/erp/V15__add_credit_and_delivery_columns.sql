-- A later change to existing tables, as real schemas grow: new columns, a backfill, an index.
ALTER TABLE customers ADD COLUMN credit_limit money_amount NOT NULL DEFAULT 0;
ALTER TABLE products ADD COLUMN weight_kg numeric(10, 3);
ALTER TABLE sales_orders ADD COLUMN requested_delivery date;
ALTER TABLE invoices ADD COLUMN payment_terms_id integer REFERENCES payment_terms (id);

UPDATE invoices i SET payment_terms_id = c.payment_terms_id FROM customers c WHERE c.id = i.customer_id;

CREATE INDEX sales_orders_requested_delivery_idx ON sales_orders (requested_delivery) WHERE requested_delivery IS NOT NULL;
