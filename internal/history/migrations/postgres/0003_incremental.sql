-- Version 3: incremental rescans (scan --since). A scan that carried
-- resources forward from an earlier one says which scan it started from,
-- and each carried resource names the scan its verdict was read in.
CREATE TABLE scan_incremental (
  scan_id   BIGINT NOT NULL PRIMARY KEY REFERENCES scans(id),
  base_scan BIGINT NOT NULL,
  since     TEXT NOT NULL,
  info      TEXT NOT NULL
);

CREATE TABLE scan_carried (
  scan_id     BIGINT NOT NULL REFERENCES scans(id),
  resource_id BIGINT NOT NULL REFERENCES resources(id),
  from_scan   BIGINT NOT NULL,
  PRIMARY KEY (scan_id, resource_id)
);
