-- What the server knows of each agent: last contact (any authenticated request) and its last heartbeat.
CREATE TABLE agents (
  agent_id       text        PRIMARY KEY,
  hostname       text,
  version        text,
  spool_depth    bigint,
  dropped_events bigint,
  first_seen     timestamptz NOT NULL DEFAULT now(),
  last_seen      timestamptz NOT NULL DEFAULT now(),
  last_heartbeat timestamptz
);
