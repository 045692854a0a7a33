package io.dozor.server.ops;

import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The class of an agent for metrics: the leading ASCII letters of its id, lowercased and at most
 * {@link #MAX_LENGTH} long ({@code PC-01}, {@code pc17}: {@code pc}; {@code ACC-WS-3}: {@code acc}), so an
 * organisation that names its PCs by site or department sees its events by site or department. An id that starts
 * with no letter is {@link #OTHER}, and once {@link #MAX_CLASSES} classes were seen (one instance per metrics
 * registry, that is per server process) every new one is {@link #OTHER} too: the label stays bounded whatever ids
 * agents have.
 */
final class AgentClass {
    static final int MAX_CLASSES = 50;
    static final int MAX_LENGTH = 16;
    static final String OTHER = "other";

    private final Set<String> seen = ConcurrentHashMap.newKeySet();

    String of(String agentId) {
        int end = 0;
        while (end < agentId.length() && end < MAX_LENGTH && isAsciiLetter(agentId.charAt(end))) {
            end++;
        }
        if (end == 0) {
            return OTHER;
        }
        String candidate = agentId.substring(0, end).toLowerCase(Locale.ROOT);
        if (seen.contains(candidate)) {
            return candidate;
        }
        synchronized (seen) {
            if (seen.size() < MAX_CLASSES) {
                seen.add(candidate);
                return candidate;
            }
        }
        return seen.contains(candidate) ? candidate : OTHER;
    }

    private static boolean isAsciiLetter(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }
}
