package io.dozor.server.auth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The positive answers of the token registration check ({@code Sql.TOKEN_ACTIVE}), shared by every ingest
 * verticle of the process: a token id found active for its subject and kind is trusted without a query until
 * {@code auth.token_cache_ttl} has passed or the token's own {@code expires_at} has come, whichever is first.
 * Refusals are never cached. A revocation drops the token at once ({@link #evict}, called by
 * {@link RevocationListener} when PostgreSQL notifies it); when notifications may have been missed (the listener
 * reconnected) everything is dropped ({@link #clear}). At most {@link #MAX_ENTRIES} tokens (beyond, Caffeine drops
 * the least often used). Keyed by the token id alone (the primary key of {@code agent_tokens}, what a revocation
 * names): the subject and kind found with it must match the request's too.
 *
 * <p>A check that was sent to the database before a revocation may answer after it: {@link #put} is given the
 * {@link #generation()} read before the query and keeps nothing if any eviction happened since.
 */
public final class TokenCache {
    /** A fleet of 10 000 agents uses one token each; 100 000 entries of ~200 bytes stay under 20 MB. */
    public static final int MAX_ENTRIES = 100_000;

    private record Entry(String subject, AgentTokens.Kind kind, long lifetimeNanos) {}

    private final Cache<UUID, Entry> cache;
    private final long ttlNanos;
    /** Counts evictions and clears: a put that saw an older value may have raced with one. */
    private final AtomicLong generation = new AtomicLong();

    private TokenCache(Duration ttl) {
        this.ttlNanos = ttl.toNanos();
        this.cache = ttl.isZero()
                ? null
                : Caffeine.newBuilder()
                        .maximumSize(MAX_ENTRIES)
                        .expireAfter(Expiry.<UUID, Entry>writing((id, entry) -> Duration.ofNanos(entry.lifetimeNanos)))
                        .build();
    }

    /** A cache whose entries live at most {@code ttl}; {@code 0}: no cache, every check is a query. */
    public static TokenCache of(Duration ttl) {
        return new TokenCache(ttl);
    }

    public boolean enabled() {
        return cache != null;
    }

    /** Whether {@code tokenId} was found active for this subject and kind, and may still be trusted. */
    public boolean active(UUID tokenId, String subject, AgentTokens.Kind kind) {
        if (cache == null) {
            return false;
        }
        Entry entry = cache.getIfPresent(tokenId);
        return entry != null && entry.kind == kind && entry.subject.equals(subject);
    }

    /** Read before a check is sent to the database; given back to {@link #put} with its answer. */
    public long generation() {
        return generation.get();
    }

    /**
     * Remembers that the database found {@code tokenId} active, with {@code remainingMillis} left until its
     * {@code expires_at}; nothing if an eviction happened after {@code seenGeneration} was read.
     */
    public void put(UUID tokenId, String subject, AgentTokens.Kind kind, long remainingMillis, long seenGeneration) {
        long lifetime = Math.min(ttlNanos, Duration.ofMillis(remainingMillis).toNanos());
        if (cache == null || lifetime <= 0 || generation.get() != seenGeneration) {
            return;
        }
        cache.put(tokenId, new Entry(subject, kind, lifetime));
        // an eviction between the check above and the put: it may have run before the put and missed it
        if (generation.get() != seenGeneration) {
            cache.invalidate(tokenId);
        }
    }

    /** Drops one token (revoked, deleted, shortened): its next request is checked in the database. */
    public void evict(UUID tokenId) {
        generation.incrementAndGet();
        if (cache != null) {
            cache.invalidate(tokenId);
        }
    }

    /** Drops every token: revocations may have been missed. */
    public void clear() {
        generation.incrementAndGet();
        if (cache != null) {
            cache.invalidateAll();
        }
    }

    /** Tokens held (an estimate: expired entries may not have been removed yet). */
    public long size() {
        return cache == null ? 0 : cache.estimatedSize();
    }
}
