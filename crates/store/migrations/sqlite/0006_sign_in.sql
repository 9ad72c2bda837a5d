-- Sign-in attempts, shared by every server process. One row per normalised username and client
-- address, plus one per username for all addresses together (client '*'). `failures` counts the
-- attempts being checked and the failed ones; a success removes its own. The row (and its lock)
-- is forgotten at `expires_at`, which each counted attempt moves to now + the lockout time.
CREATE TABLE sign_in_attempts (
    username TEXT NOT NULL,
    client TEXT NOT NULL,
    failures INTEGER NOT NULL,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (username, client)
);
CREATE INDEX sign_in_attempts_expiry ON sign_in_attempts(expires_at);

-- The per-user counter is replaced by the table above.
ALTER TABLE users DROP COLUMN failed_logins;
ALTER TABLE users DROP COLUMN locked_until;
