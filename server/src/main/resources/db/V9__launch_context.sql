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
