-- What an agent's heartbeat says of its spool: why it cannot store launches now (null while it works) and how
-- many launches it lost because of that (neither stored nor delivered).
ALTER TABLE agents ADD COLUMN spool_error text, ADD COLUMN unpersisted_events bigint;

-- One row per agent whose spool error was announced (Telegram), removed when the recovery is announced;
-- written in the same transaction as the check, like agent_alerts.
CREATE TABLE agent_spool_alerts (
  agent_id text        PRIMARY KEY REFERENCES agents (agent_id) ON DELETE CASCADE,
  reason   text        NOT NULL,
  since    timestamptz NOT NULL
);
