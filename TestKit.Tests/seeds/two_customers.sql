-- Seed for SeedTests: two customers on top of the migrated head.
INSERT INTO customers (name, email, country_code) VALUES
    ('Seeded Ann', 'seeded.ann@example.com', 'DE'),
    ('Seeded Ben', 'seeded.ben@example.com', 'FR');
