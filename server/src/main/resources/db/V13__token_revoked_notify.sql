-- The servers cache the positive answers of the token registration check (Sql.TOKEN_ACTIVE) for at most
-- auth.token_cache_ttl; they LISTEN on dozor_token_revoked (auth.RevocationListener) and drop a token id from the
-- cache when it arrives. A NOTIFY is sent at the commit of whatever ends or changes a token's registration, by
-- whichever client does it (`token revoke` from another process, an enrolment replay revoking a lost session,
-- an operator's hand-written UPDATE or DELETE): a revocation, a shorter lifetime, another subject or kind, a
-- deleted row. The payload is the token id; '*' (after TRUNCATE) drops every cached token.
CREATE FUNCTION agent_tokens_notify_revoked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    PERFORM pg_notify('dozor_token_revoked', '*');
    RETURN NULL;
  END IF;
  PERFORM pg_notify('dozor_token_revoked', OLD.token_id::text);
  RETURN NULL;
END $$;

CREATE TRIGGER agent_tokens_revoked AFTER UPDATE ON agent_tokens FOR EACH ROW
  WHEN ((OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL) OR NEW.expires_at < OLD.expires_at
        OR NEW.token_id <> OLD.token_id OR NEW.agent_id <> OLD.agent_id OR NEW.kind <> OLD.kind)
  EXECUTE FUNCTION agent_tokens_notify_revoked();
CREATE TRIGGER agent_tokens_deleted AFTER DELETE ON agent_tokens FOR EACH ROW
  WHEN (OLD.revoked_at IS NULL)
  EXECUTE FUNCTION agent_tokens_notify_revoked();
CREATE TRIGGER agent_tokens_truncated AFTER TRUNCATE ON agent_tokens FOR EACH STATEMENT
  EXECUTE FUNCTION agent_tokens_notify_revoked();
