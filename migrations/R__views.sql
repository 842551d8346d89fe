-- Repeatable: re-applied by Evolve whenever its checksum changes.
CREATE OR REPLACE VIEW customer_order_summary AS
SELECT c.id              AS customer_id,
       c.name            AS customer_name,
       count(o.id)       AS order_count,
       coalesce(sum(order_total(o.id)), 0) AS lifetime_value
FROM customers c
LEFT JOIN orders o ON o.customer_id = c.id AND o.status <> 'cancelled'
GROUP BY c.id, c.name;
