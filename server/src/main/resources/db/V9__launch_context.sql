-- What newer agents report about a launch beyond the first seven fields (all optional: older agents send
-- none of them): the parent process, the account's domain (Windows DOMAIN\user), the host's OS, and the
-- agent's version. Indexed into Elasticsearch as process.parent.*, user.domain, host.os.*, agent.version.
ALTER TABLE events
  ADD COLUMN parent_pid    bigint,
  ADD COLUMN parent_name   text,
  ADD COLUMN user_domain   text,
  ADD COLUMN os_type       text,
  ADD COLUMN os_family     text,
  ADD COLUMN agent_version text;

-- Every heartbeat, kept until the server has indexed it into Elasticsearch (dozor-heartbeats-YYYY.MM):
-- written in the same statement that updates agents, so a heartbeat the agent got a 2xx for reaches ES
-- (index.HeartbeatIndexer: retried with backoff while ES is out; a row ES refuses waits with
-- next_attempt_at = 'infinity' and its error). Rows older than retention.days are deleted by the indexer.
CREATE TABLE heartbeats (
  id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  agent_id         text        NOT NULL,
  received_at      timestamptz NOT NULL DEFAULT now(),
  hostname         text,
  version          text,
  spool_depth      bigint,
  dropped_events   bigint,
  unpersisted_events bigint,
  spool_error      text,
  attempts         integer     NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  last_error       text
);
CREATE INDEX heartbeats_due_idx ON heartbeats (next_attempt_at, id);
CREATE INDEX heartbeats_received_idx ON heartbeats (received_at);
