package io.dozor.server;

import io.dozor.server.auth.AgentTokens;
import io.dozor.server.config.ServerConfig;

/** What the growth benchmark ({@code bench.GrowthBenchmark}) needs from this package; not a test. */
public final class GrowthAccess {
    private GrowthAccess() {}

    /** An admin token exactly as {@code token create --admin} makes it. */
    public static String adminToken(ServerConfig config, String name) {
        return TokenAdmin.create(config, name, AgentTokens.Kind.ADMIN);
    }
}
