-- Reference data: the shelves of the library, filled by this migration. Every book stands on one.
CREATE TABLE genres (
    code text PRIMARY KEY CHECK (code ~ '^[a-z-]+$'),
    name text NOT NULL UNIQUE
);

INSERT INTO genres (code, name) VALUES
    ('fiction', 'Fiction'),
    ('history', 'History'),
    ('science', 'Science'),
    ('children', 'Children''s books');

ALTER TABLE books ADD COLUMN genre_code text NOT NULL REFERENCES genres (code);
