-- Enrollment tokens: one per name (the token itself is a JWT naming token_id; only its id is stored).
-- Uses, expiry and revocation are checked and counted by one UPDATE, so racing agents cannot overspend it.
CREATE TABLE enrollment_tokens (
  name       text        PRIMARY KEY,
  token_id   uuid        NOT NULL UNIQUE,
  max_uses   integer     NOT NULL CHECK (max_uses > 0),
  uses       integer     NOT NULL DEFAULT 0 CHECK (uses >= 0 AND uses <= max_uses),
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);

-- How and when each agent enrolled (null for agents given a token by `token create`).
ALTER TABLE agents ADD COLUMN enrolled_via text, ADD COLUMN enrolled_at timestamptz, ADD COLUMN os text;

-- Every token expires. An enrolled agent's row is its session: the access tokens carry its token_id as
-- jti, and its refresh credential is kept as a SHA-256 (the current one and the one before it, so an
-- answer lost on the way does not lock the agent out). Tokens issued before this version get 90 days.
ALTER TABLE agent_tokens ADD COLUMN expires_at timestamptz, ADD COLUMN refresh_hash bytea,
  ADD COLUMN refresh_prev bytea, ADD COLUMN refreshed_at timestamptz;
UPDATE agent_tokens SET expires_at = now() + interval '90 days' WHERE expires_at IS NULL;
ALTER TABLE agent_tokens ALTER COLUMN expires_at SET NOT NULL;
CREATE UNIQUE INDEX agent_tokens_refresh_idx ON agent_tokens (refresh_hash) WHERE refresh_hash IS NOT NULL;
CREATE INDEX agent_tokens_refresh_prev_idx ON agent_tokens (refresh_prev) WHERE refresh_prev IS NOT NULL;
