-- Version 1: scans, the resources and policies they saw, findings and
-- their lifecycle. Times are UTC text, RFC 3339 with nanoseconds, so
-- they sort as text and hash the same on every backend.
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE scans (
  id              INTEGER PRIMARY KEY,
  recorded_at     TEXT NOT NULL,
  started_at      TEXT NOT NULL,
  finished_at     TEXT NOT NULL,
  caller          TEXT NOT NULL,
  accounts        TEXT NOT NULL, -- JSON array
  regions         TEXT NOT NULL, -- JSON array
  scope           TEXT NOT NULL,
  complete        INTEGER NOT NULL,
  covered         INTEGER NOT NULL,
  errors          TEXT NOT NULL, -- JSON array
  tool_version    TEXT NOT NULL,
  catalog_version TEXT NOT NULL,
  api_calls       INTEGER NOT NULL,
  summary         TEXT NOT NULL, -- JSON object
  skipped_rules   TEXT NOT NULL, -- JSON array: rules this scan did not run
  content_hash    TEXT NOT NULL,
  prev_hash       TEXT NOT NULL,
  chain_hash      TEXT NOT NULL
);

-- Each distinct policy text once, however many scans and resources use it.
CREATE TABLE policies (
  id     INTEGER PRIMARY KEY,
  sha256 TEXT NOT NULL UNIQUE,
  text   TEXT NOT NULL
);

CREATE TABLE resources (
  id      INTEGER PRIMARY KEY,
  arn     TEXT NOT NULL UNIQUE,
  kind    TEXT NOT NULL,
  account TEXT NOT NULL,
  region  TEXT NOT NULL
);

CREATE TABLE scan_resources (
  scan_id            INTEGER NOT NULL REFERENCES scans(id),
  resource_id        INTEGER NOT NULL REFERENCES resources(id),
  status             TEXT NOT NULL,
  unknown_reason     TEXT NOT NULL,
  exposure           TEXT NOT NULL,
  url_auth           TEXT NOT NULL,
  url                TEXT NOT NULL,
  policy_id          INTEGER REFERENCES policies(id),
  function_policy_id INTEGER REFERENCES policies(id),
  revision_id        TEXT NOT NULL,
  PRIMARY KEY (scan_id, resource_id)
) WITHOUT ROWID;

-- A finding's identity across scans: resource ARN, rule, statement.
CREATE TABLE findings (
  id             INTEGER PRIMARY KEY,
  key            TEXT NOT NULL UNIQUE,
  resource_id    INTEGER NOT NULL REFERENCES resources(id),
  rule_id        TEXT NOT NULL,
  title          TEXT NOT NULL,
  severity       TEXT NOT NULL,
  exposure       TEXT NOT NULL,
  sid            TEXT NOT NULL,
  statement_ref  TEXT NOT NULL,
  explanation    TEXT NOT NULL,
  hipaa          TEXT NOT NULL, -- JSON array
  first_scan     INTEGER NOT NULL,
  first_seen     TEXT NOT NULL,
  last_scan      INTEGER NOT NULL,
  last_seen      TEXT NOT NULL,
  resolved_scan  INTEGER,
  resolved_at    TEXT,
  reopened       INTEGER NOT NULL DEFAULT 0,
  reopened_at    TEXT,
  not_rechecked  INTEGER NOT NULL DEFAULT 0,
  suppressed     INTEGER NOT NULL DEFAULT 0,
  suppressed_by  TEXT NOT NULL DEFAULT ''
);

-- Each stretch of time a finding was open.
CREATE TABLE finding_intervals (
  finding_id    INTEGER NOT NULL REFERENCES findings(id),
  opened_scan   INTEGER NOT NULL,
  opened_at     TEXT NOT NULL,
  resolved_scan INTEGER,
  resolved_at   TEXT,
  PRIMARY KEY (finding_id, opened_scan)
) WITHOUT ROWID;

-- Which findings each scan had, with their state then.
CREATE TABLE scan_findings (
  scan_id       INTEGER NOT NULL REFERENCES scans(id),
  finding_id    INTEGER NOT NULL REFERENCES findings(id),
  severity      TEXT NOT NULL,
  exposure      TEXT NOT NULL,
  suppressed    INTEGER NOT NULL,
  suppressed_by TEXT NOT NULL,
  PRIMARY KEY (scan_id, finding_id)
) WITHOUT ROWID;
