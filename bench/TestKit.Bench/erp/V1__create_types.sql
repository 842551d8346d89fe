-- Shared types of the ERP schema: document life cycles as enums, and checked domains.
CREATE TYPE sales_order_status AS ENUM ('draft', 'confirmed', 'picking', 'shipped', 'invoiced', 'cancelled');
CREATE TYPE purchase_order_status AS ENUM ('draft', 'sent', 'partially_received', 'received', 'cancelled');
CREATE TYPE invoice_status AS ENUM ('draft', 'issued', 'partially_paid', 'paid', 'void');
CREATE TYPE stock_movement_kind AS ENUM ('receipt', 'shipment', 'transfer', 'adjustment');
CREATE TYPE lead_stage AS ENUM ('new', 'contacted', 'qualified', 'won', 'lost');

CREATE DOMAIN email_address AS text
    CHECK (VALUE ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$');

CREATE DOMAIN money_amount AS numeric(14, 2)
    CHECK (VALUE >= 0);
