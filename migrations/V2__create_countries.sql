-- Reference data: the countries the shop delivers to, filled by this migration.
CREATE TABLE countries (
    code char(2) PRIMARY KEY,
    name text NOT NULL UNIQUE
);

INSERT INTO countries (code, name) VALUES
    ('DE', 'Germany'),
    ('FR', 'France'),
    ('GB', 'United Kingdom'),
    ('NL', 'Netherlands'),
    ('US', 'United States');
