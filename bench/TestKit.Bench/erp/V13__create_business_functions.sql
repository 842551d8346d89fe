-- Totals, stock on hand, and a trigger that keeps stock levels in step with movements.
CREATE FUNCTION sales_order_total(p_sales_order_id bigint) RETURNS numeric
    LANGUAGE sql STABLE
AS $$
    SELECT coalesce(sum(l.quantity * l.unit_price * (1 + t.rate)), 0)
    FROM sales_order_lines l
    JOIN tax_rates t ON t.id = l.tax_rate_id
    WHERE l.sales_order_id = p_sales_order_id
$$;

CREATE FUNCTION stock_on_hand(p_product_id integer, p_warehouse_id integer) RETURNS numeric
    LANGUAGE sql STABLE
AS $$
    SELECT coalesce(sum(s.quantity), 0)
    FROM stock_levels s
    JOIN storage_locations l ON l.id = s.location_id
    WHERE s.product_id = p_product_id AND l.warehouse_id = p_warehouse_id
$$;

CREATE FUNCTION apply_stock_movement() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.from_location_id IS NOT NULL THEN
        INSERT INTO stock_levels (product_id, location_id, quantity) VALUES (NEW.product_id, NEW.from_location_id, -NEW.quantity)
        ON CONFLICT (product_id, location_id) DO UPDATE SET quantity = stock_levels.quantity - NEW.quantity, updated_at = now();
    END IF;
    IF NEW.to_location_id IS NOT NULL THEN
        INSERT INTO stock_levels (product_id, location_id, quantity) VALUES (NEW.product_id, NEW.to_location_id, NEW.quantity)
        ON CONFLICT (product_id, location_id) DO UPDATE SET quantity = stock_levels.quantity + NEW.quantity, updated_at = now();
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER stock_movements_apply AFTER INSERT ON stock_movements
    FOR EACH ROW EXECUTE FUNCTION apply_stock_movement();

CREATE FUNCTION touch_updated_at() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

CREATE TRIGGER sales_orders_touch_updated_at BEFORE UPDATE ON sales_orders
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
