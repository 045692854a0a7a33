-- Notifications (issue 5): state that must survive a restart so a restarted server decides the same.

-- Mutes set through the bot, per chat. kind: all | user | process | agent | any (a bare name).
CREATE TABLE notify_mutes (
  id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  chat_id    bigint      NOT NULL,
  kind       text        NOT NULL CHECK (kind IN ('all', 'user', 'process', 'agent', 'any')),
  value      text        NOT NULL DEFAULT '',
  until      timestamptz NOT NULL,
  created_by bigint,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notify_mutes_chat_idx ON notify_mutes (chat_id, until);

-- Cooldown: the launch time of the last notification per chat and (user, process).
CREATE TABLE notify_pairs (
  chat_id       bigint      NOT NULL,
  username      text        NOT NULL,
  process_name  text        NOT NULL,
  last_notified timestamptz NOT NULL,
  PRIMARY KEY (chat_id, username, process_name)
);

-- Outbox rows held by quiet hours: when released they go out as one digest.
CREATE TABLE notify_held (
  sink     text   NOT NULL,
  event_pk bigint NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  PRIMARY KEY (sink, event_pk)
);

-- The bot's small durable state (the getUpdates offset).
CREATE TABLE bot_state (
  key   text   PRIMARY KEY,
  value bigint NOT NULL
);

-- Agents announced as silent; the row goes when the agent is heard from again.
CREATE TABLE agent_alerts (
  agent_id     text        PRIMARY KEY REFERENCES agents (agent_id) ON DELETE CASCADE,
  silent_since timestamptz NOT NULL
);

-- Thresholds count a (user, process) pair's launches within a window.
CREATE INDEX events_pair_time_idx ON events (username, process_name, "timestamp");
