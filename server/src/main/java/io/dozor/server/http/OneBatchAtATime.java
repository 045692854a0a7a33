package io.dozor.server.http;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * At most one event batch per agent in flight in a server process: the agent sends its batches one after
 * another, so a second batch while the first is being stored comes from a client that does not wait (a flood on
 * parallel connections, or a retry of a batch the server is still storing), and is refused with 429 before it
 * costs a parse or a database connection. One object is shared by every {@link IngestVerticle} instance.
 * Bounded by the requests in flight (at most {@code http.max_connections}): an agent leaves it when its
 * batch is answered or its connection closes.
 */
final class OneBatchAtATime {
    private final boolean on;
    private final Set<String> busy = ConcurrentHashMap.newKeySet();

    /** {@code on = false}: every batch enters (the limits are off, {@code ingest.rate_per_agent: 0}). */
    OneBatchAtATime(boolean on) {
        this.on = on;
    }

    /** True when the agent had no batch in flight; it then has one until {@link #leave}. */
    boolean enter(String agentId) {
        return !on || busy.add(agentId);
    }

    void leave(String agentId) {
        busy.remove(agentId);
    }

    int inFlight() {
        return busy.size();
    }
}
