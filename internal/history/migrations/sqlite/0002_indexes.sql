-- Version 2: indexes for the queries of history, diff, evidence and serve.
CREATE INDEX scans_scope ON scans (scope, id);
CREATE INDEX scans_recorded ON scans (recorded_at);
CREATE INDEX scan_resources_resource ON scan_resources (resource_id, scan_id);
CREATE INDEX findings_open ON findings (resolved_at, rule_id);
CREATE INDEX findings_resource ON findings (resource_id);
CREATE INDEX finding_intervals_time ON finding_intervals (opened_at, resolved_at);
