package io.dozor.server.bus;

/** Every event-bus address of the server; no address literal appears anywhere else. */
public final class Addresses {
    /** Request {@link Messages.StoreEvents}, reply {@link Messages.StoreResult} after the commit. */
    public static final String EVENTS_STORE = "dozor.events.store";
    /** Request {@link Messages.Heartbeat}, reply empty once stored. */
    public static final String AGENTS_HEARTBEAT = "dozor.agents.heartbeat";
    /** Request {@link Messages.TokenCheck}, reply {@link Messages.TokenStatus}. */
    public static final String TOKENS_CHECK = "dozor.tokens.check";
    /** Request {@link Messages.EnrollRequest}, reply {@link Messages.Credential}. */
    public static final String CREDENTIALS_ENROLL = "dozor.credentials.enroll";
    /** Request {@link Messages.RefreshRequest}, reply {@link Messages.Credential}. */
    public static final String CREDENTIALS_REFRESH = "dozor.credentials.refresh";
    /** Request (no body), reply {@link Messages.Health} of PostgreSQL. */
    public static final String HEALTH_POSTGRES = "dozor.health.postgres";
    /** Request (no body), reply {@link Messages.Health} of Elasticsearch. */
    public static final String HEALTH_ELASTICSEARCH = "dozor.health.elasticsearch";
    /** Request {@link Messages.EventsQuery}, reply a JSON page of events. */
    public static final String ADMIN_EVENTS = "dozor.admin.events";
    /** Request (no body), reply JSON {@code {"agents": [...]}}. */
    public static final String ADMIN_AGENTS = "dozor.admin.agents";
    /** Published (no body) after new events were committed: outbox workers wake up. */
    public static final String OUTBOX_WAKE = "dozor.outbox.wake";

    private Addresses() {}
}
