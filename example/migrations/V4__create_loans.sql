-- A loan of one book to one member. A book is out on at most one open loan at a time.
CREATE TABLE loans (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    book_id     bigint NOT NULL REFERENCES books (id),
    member_id   bigint NOT NULL REFERENCES members (id),
    borrowed_on date NOT NULL DEFAULT current_date,
    due_on      date NOT NULL,
    returned_on date,
    CHECK (due_on >= borrowed_on),
    CHECK (returned_on IS NULL OR returned_on >= borrowed_on)
);

CREATE UNIQUE INDEX loans_one_open_loan_per_book ON loans (book_id) WHERE returned_on IS NULL;
CREATE INDEX loans_member_id_idx ON loans (member_id);
