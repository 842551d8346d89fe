-- Seed for one test of SeedTests, applied after the class's seed.
INSERT INTO products (sku, name, unit_price) VALUES ('SEED-1', 'Seeded tea', 4.20);
