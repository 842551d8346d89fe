CREATE TABLE members (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name      text NOT NULL CHECK (length(name) > 0),
    email     text NOT NULL UNIQUE CHECK (email ~ '^[^@\s]+@[^@\s]+$'),
    joined_on date NOT NULL DEFAULT current_date
);
