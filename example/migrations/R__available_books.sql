-- Repeatable: re-applied by Evolve whenever its checksum changes. The books on the shelf now.
CREATE OR REPLACE VIEW available_books AS
SELECT b.id,
       b.isbn,
       b.title,
       a.name AS author_name,
       b.genre_code
FROM books b
JOIN authors a ON a.id = b.author_id
WHERE NOT EXISTS (SELECT 1 FROM loans l WHERE l.book_id = b.id AND l.returned_on IS NULL);
