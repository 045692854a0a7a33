-- An enrolling agent's idempotency key: the SHA-256 of a random secret the agent generated and saved before its
-- first enrolment attempt and sends with every attempt. A retry of an enrolment that committed but whose answer
-- was lost (a 503 after the server's reply timeout, a dropped connection) finds its agent by it and gets a new
-- credential for that agent instead of spending another use and becoming a second agent
-- (auth.CredentialsVerticle, Sql.ENROLLMENT_REPLAY). Null for agents enrolled without one (older agents) and for
-- those given a token by `token create`. Not unique: the same key may come again from an installation whose
-- agent has since been used (a restored snapshot), which then enrols as a new agent.
ALTER TABLE agents ADD COLUMN enrollment_key bytea;
CREATE INDEX agents_enrollment_key_idx ON agents (enrollment_key) WHERE enrollment_key IS NOT NULL;
