package io.dozor.server;

import io.dozor.server.auth.AgentTokens;
import io.dozor.server.config.ServerConfig;

/** What the ingest benchmark ({@code bench.IngestBenchmark}) needs from this package; not a test. */
public final class BenchAccess {
    private BenchAccess() {}

    /** An agent token exactly as {@code token create} makes it. */
    public static String agentToken(ServerConfig config, String agentId) {
        return TokenAdmin.create(config, agentId, AgentTokens.Kind.AGENT);
    }
}
