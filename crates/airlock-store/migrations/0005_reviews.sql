-- Reviews and grants (docs/reviews.md). As in 0001: INTEGER unix
-- milliseconds, JSON arrays in TEXT, nothing SQLite-only.

-- When several identities are one person's, the person's name; NULL when
-- the identity is its own person. Nobody approves their own person's request.
ALTER TABLE identities ADD COLUMN person TEXT;

-- No foreign key to identities: like sessions, a review is part of the
-- record of what happened and outlives the identities it names.
CREATE TABLE reviews (
    id                TEXT    NOT NULL PRIMARY KEY,
    requester         TEXT    NOT NULL,
    connection        TEXT    NOT NULL,
    session_id        TEXT    NOT NULL,
    command           TEXT    NOT NULL,
    fingerprint       TEXT    NOT NULL,
    -- JSON arrays: only ever read with their review.
    rules             TEXT    NOT NULL DEFAULT '[]',
    reviewers         TEXT    NOT NULL DEFAULT '[]',
    approvals_needed  INTEGER NOT NULL,
    reason            TEXT    NOT NULL,
    state             TEXT    NOT NULL
                      CHECK (state IN ('pending', 'approved', 'denied', 'expired', 'cancelled')),
    created_at        INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL,
    decided_at        INTEGER
);

-- Listing by state (the pending queue, and expiring it) and listing all,
-- both newest first.
CREATE INDEX reviews_by_state ON reviews (state, created_at, id);
CREATE INDEX reviews_by_created_at ON reviews (created_at, id);

CREATE TABLE review_decisions (
    review_id       TEXT    NOT NULL REFERENCES reviews (id) ON DELETE CASCADE,
    -- The decision's place among its review's decisions: `at` comes from
    -- the caller and can tie or arrive out of order.
    seq             INTEGER NOT NULL,
    reviewer        TEXT    NOT NULL,
    decision        TEXT    NOT NULL CHECK (decision IN ('approve', 'deny')),
    reason          TEXT,
    at              INTEGER NOT NULL,
    grant_for_secs  INTEGER,
    PRIMARY KEY (review_id, seq),
    -- One decision per reviewer: a second approval must not count twice.
    UNIQUE (review_id, reviewer)
);

CREATE TABLE grants (
    id            TEXT    NOT NULL PRIMARY KEY,
    review_id     TEXT    NOT NULL REFERENCES reviews (id) ON DELETE CASCADE,
    identity      TEXT    NOT NULL,
    connection    TEXT    NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('once', 'window')),
    fingerprint   TEXT,
    -- JSON arrays.
    rules         TEXT    NOT NULL DEFAULT '[]',
    approved_by   TEXT    NOT NULL DEFAULT '[]',
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    uses          INTEGER NOT NULL DEFAULT 0,
    last_used_at  INTEGER,
    revoked_at    INTEGER,
    -- A once grant without a fingerprint could never match; refuse it
    -- rather than keep a grant that looks live.
    CHECK (kind <> 'once' OR fingerprint IS NOT NULL)
);

-- Every gated command looks up its identity's grants on its connection.
CREATE INDEX grants_by_identity ON grants (identity, connection);
-- Listing, newest first.
CREATE INDEX grants_by_created_at ON grants (created_at, id);
