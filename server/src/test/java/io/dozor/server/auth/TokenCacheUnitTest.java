package io.dozor.server.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.dozor.testkit.Wait;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The cache's own rules, without a server: what it keeps, for whom, how long, and what an eviction spoils. */
class TokenCacheUnitTest {
    final TokenCache cache = TokenCache.of(Duration.ofMinutes(10));
    final UUID id = UUID.randomUUID();

    @Test
    void anEntryAnswersOnlyForItsSubjectAndKind() {
        cache.put(id, "pc-01", AgentTokens.Kind.AGENT, 60_000, cache.generation());
        assertThat(cache.active(id, "pc-01", AgentTokens.Kind.AGENT)).isTrue();
        assertThat(cache.active(id, "pc-02", AgentTokens.Kind.AGENT)).isFalse();
        assertThat(cache.active(id, "pc-01", AgentTokens.Kind.ADMIN)).isFalse();
        assertThat(cache.active(UUID.randomUUID(), "pc-01", AgentTokens.Kind.AGENT))
                .isFalse();
    }

    @Test
    void anAnswerThatCrossedAnEvictionIsNotKept() {
        long seen = cache.generation();
        cache.evict(id); // the revocation's notification arrives while the query is on its way
        cache.put(id, "pc-01", AgentTokens.Kind.AGENT, 60_000, seen);
        assertThat(cache.active(id, "pc-01", AgentTokens.Kind.AGENT)).isFalse();

        seen = cache.generation();
        cache.clear(); // the listener reconnected meanwhile
        cache.put(id, "pc-01", AgentTokens.Kind.AGENT, 60_000, seen);
        assertThat(cache.active(id, "pc-01", AgentTokens.Kind.AGENT)).isFalse();

        cache.put(id, "pc-01", AgentTokens.Kind.AGENT, 60_000, cache.generation());
        assertThat(cache.active(id, "pc-01", AgentTokens.Kind.AGENT)).isTrue();
        cache.evict(id);
        assertThat(cache.active(id, "pc-01", AgentTokens.Kind.AGENT)).isFalse();
    }

    @Test
    void anEntryEndsAtTheTokensExpiryOrTheCacheLifetime() {
        cache.put(id, "pc-01", AgentTokens.Kind.AGENT, 200, cache.generation());
        assertThat(cache.active(id, "pc-01", AgentTokens.Kind.AGENT)).isTrue();
        Wait.until("expiry", Duration.ofSeconds(5), () -> !cache.active(id, "pc-01", AgentTokens.Kind.AGENT));

        TokenCache brief = TokenCache.of(Duration.ofMillis(200));
        brief.put(id, "pc-01", AgentTokens.Kind.AGENT, 3_600_000, brief.generation());
        assertThat(brief.active(id, "pc-01", AgentTokens.Kind.AGENT)).isTrue();
        Wait.until("cache lifetime", Duration.ofSeconds(5), () -> !brief.active(id, "pc-01", AgentTokens.Kind.AGENT));

        cache.put(id, "pc-01", AgentTokens.Kind.AGENT, 0, cache.generation());
        assertThat(cache.active(id, "pc-01", AgentTokens.Kind.AGENT))
                .as("no time left")
                .isFalse();
    }

    @Test
    void aZeroLifetimeCachesNothing() {
        TokenCache off = TokenCache.of(Duration.ZERO);
        assertThat(off.enabled()).isFalse();
        off.put(id, "pc-01", AgentTokens.Kind.AGENT, 60_000, off.generation());
        assertThat(off.active(id, "pc-01", AgentTokens.Kind.AGENT)).isFalse();
        assertThat(off.size()).isZero();
    }
}
