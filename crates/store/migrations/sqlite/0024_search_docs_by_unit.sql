-- PostgreSQL only (the unit inside its trigram index); SQLite's lookup is unchanged. Kept so
-- that both stores number their migrations alike.
SELECT 1;
