-- Launch events: the source of truth. event_id makes a resent event a no-op.
CREATE TABLE events (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id      uuid        NOT NULL UNIQUE,
  "timestamp"   timestamptz NOT NULL,
  username      text        NOT NULL,
  process_name  text        NOT NULL,
  agent_id      text        NOT NULL,
  pid           bigint,
  executable    text,
  hostname      text,
  received_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_timestamp_idx ON events ("timestamp");

-- Work still owed to each sink (Elasticsearch, each Telegram chat, the log), written in the same
-- statement as the event: a crash between commit and delivery delays, never loses.
CREATE TABLE outbox (
  sink            text        NOT NULL,
  event_pk        bigint      NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  attempts        integer     NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error      text,
  PRIMARY KEY (sink, event_pk)
);
CREATE INDEX outbox_due_idx ON outbox (sink, next_attempt_at, event_pk);

-- Agent tokens: the JWT carries token_id as jti; revocation is a row update.
CREATE TABLE agent_tokens (
  token_id   uuid        PRIMARY KEY,
  agent_id   text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);
CREATE INDEX agent_tokens_agent_idx ON agent_tokens (agent_id);
