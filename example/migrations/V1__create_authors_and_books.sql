-- The books the library owns, and who wrote them.
CREATE TABLE authors (
    id   integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE CHECK (length(name) > 0)
);

CREATE TABLE books (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    isbn           text NOT NULL UNIQUE CHECK (isbn ~ '^[0-9]{13}$'),
    title          text NOT NULL CHECK (length(title) > 0),
    author_id      integer NOT NULL REFERENCES authors (id),
    published_year smallint NOT NULL CHECK (published_year BETWEEN 1450 AND 2100)
);

CREATE INDEX books_author_id_idx ON books (author_id);
