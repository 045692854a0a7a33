-- Deliveries that can never succeed as they are (an ES mapping error, a chat that does not exist):
-- moved out of the outbox with the reason, so the pipeline keeps flowing and an operator can act.
CREATE TABLE dead_letters (
  sink      text        NOT NULL,
  event_pk  bigint      NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  attempts  integer     NOT NULL,
  reason    text        NOT NULL,
  failed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (sink, event_pk)
);

-- Admin tokens (for the admin API) live beside agent tokens; the JWT audience tells them apart too.
ALTER TABLE agent_tokens ADD COLUMN kind text NOT NULL DEFAULT 'agent' CHECK (kind IN ('agent', 'admin'));
