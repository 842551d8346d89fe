-- Repeatable: re-applied by Evolve whenever its checksum changes.
CREATE OR REPLACE VIEW open_sales_orders AS
SELECT o.id, o.customer_id, c.name AS customer_name, o.status, o.ordered_at, sales_order_total(o.id) AS total
FROM sales_orders o
JOIN customers c ON c.id = o.customer_id
WHERE o.status NOT IN ('invoiced', 'cancelled');

CREATE OR REPLACE VIEW customer_balances AS
SELECT c.id AS customer_id,
       c.name,
       coalesce((SELECT sum(l.quantity * l.unit_price) FROM invoices i JOIN invoice_lines l ON l.invoice_id = i.id
                 WHERE i.customer_id = c.id AND i.status <> 'void'), 0)
     - coalesce((SELECT sum(p.amount) FROM payments p WHERE p.customer_id = c.id), 0) AS balance
FROM customers c;

CREATE OR REPLACE VIEW stock_value AS
SELECT w.code AS warehouse, p.sku, sum(s.quantity) AS quantity
FROM stock_levels s
JOIN storage_locations l ON l.id = s.location_id
JOIN warehouses w ON w.id = l.warehouse_id
JOIN products p ON p.id = s.product_id
GROUP BY w.code, p.sku;
