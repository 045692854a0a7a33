package io.dozor.server.rules;

import com.fasterxml.jackson.databind.JsonNode;
import io.dozor.server.model.StoredEvent;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Which launches are notified, from {@code telegram.filters} in the YAML file (immutable; a reload swaps
 * the whole object). A launch passes when, for every field with an include list, one of its patterns
 * matches; when no exclude pattern matches; and, unless {@code exclude_system: false}, when neither the
 * user is a system account nor the program a Windows system process. Patterns are case-insensitive
 * globs ({@code *}, {@code ?}) or, prefixed {@code re:}, regular expressions (searched, not anchored).
 */
public final class Filters {
    /** The fields a pattern can look at. */
    enum Field {
        USER("user"),
        PROCESS("process"),
        AGENT("agent"),
        HOST("host");

        final String key;

        Field(String key) {
            this.key = key;
        }

        String of(StoredEvent e) {
            return switch (this) {
                case USER -> e.launch().username();
                case PROCESS -> e.launch().processName();
                case AGENT -> e.agentId();
                case HOST -> e.launch().hostname() == null ? "" : e.launch().hostname();
            };
        }
    }

    static final List<String> SYSTEM_ACCOUNTS = List.of(
            "system",
            "local service",
            "network service",
            "nt authority\\*",
            "*$",
            "dwm-*",
            "umfd-*",
            "defaultapppool",
            "iusr");
    static final List<String> SYSTEM_PROCESSES = List.of(
            "system",
            "idle",
            "registry",
            "smss.exe",
            "csrss.exe",
            "wininit.exe",
            "winlogon.exe",
            "services.exe",
            "lsass.exe",
            "lsaiso.exe",
            "svchost.exe",
            "dwm.exe",
            "fontdrvhost.exe",
            "conhost.exe",
            "dllhost.exe",
            "taskhostw.exe",
            "sihost.exe",
            "ctfmon.exe",
            "runtimebroker.exe",
            "searchindexer.exe",
            "searchhost.exe",
            "spoolsv.exe",
            "wmiprvse.exe",
            "audiodg.exe",
            "msmpeng.exe",
            "securityhealthservice.exe",
            "werfault.exe",
            "consent.exe",
            "userinit.exe",
            "logonui.exe",
            "trustedinstaller.exe",
            "tiworker.exe");

    public static final Filters DEFAULT = new Filters(Map.of(), Map.of(), true);

    private static final Matcher SYSTEM_USER = anyOf(SYSTEM_ACCOUNTS);
    private static final Matcher SYSTEM_PROCESS = anyOf(SYSTEM_PROCESSES);

    private final Map<Field, Matcher> include;
    private final Map<Field, Matcher> exclude;
    private final boolean excludeSystem;

    private Filters(Map<Field, Matcher> include, Map<Field, Matcher> exclude, boolean excludeSystem) {
        this.include = include;
        this.exclude = exclude;
        this.excludeSystem = excludeSystem;
    }

    public boolean passes(StoredEvent event) {
        if (excludeSystem
                && (SYSTEM_USER.test(userWithoutDomain(Field.USER.of(event)))
                        || SYSTEM_USER.test(Field.USER.of(event))
                        || SYSTEM_PROCESS.test(Field.PROCESS.of(event)))) {
            return false;
        }
        for (var e : include.entrySet()) {
            if (!e.getValue().test(e.getKey().of(event))) {
                return false;
            }
        }
        for (var e : exclude.entrySet()) {
            if (e.getValue().test(e.getKey().of(event))) {
                return false;
            }
        }
        return true;
    }

    private static String userWithoutDomain(String user) {
        int slash = user.lastIndexOf('\\');
        return slash < 0 ? user : user.substring(slash + 1);
    }

    /**
     * Reads the {@code telegram.filters} mapping (null or missing: the defaults).
     *
     * @throws IllegalArgumentException naming the bad key or pattern
     */
    public static Filters parse(JsonNode node) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return DEFAULT;
        }
        if (!node.isObject()) {
            throw new IllegalArgumentException(
                    "telegram.filters: must be a mapping of include, exclude, exclude_system");
        }
        Map<Field, Matcher> include = Map.of();
        Map<Field, Matcher> exclude = Map.of();
        boolean excludeSystem = true;
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            var field = it.next();
            String key = "telegram.filters." + field.getKey();
            switch (field.getKey()) {
                case "include" -> include = fields(key, field.getValue());
                case "exclude" -> exclude = fields(key, field.getValue());
                case "exclude_system" -> {
                    if (!field.getValue().isBoolean()) {
                        throw new IllegalArgumentException(key + ": must be true or false");
                    }
                    excludeSystem = field.getValue().booleanValue();
                }
                default ->
                    throw new IllegalArgumentException(key + ": unknown setting (include, exclude, exclude_system)");
            }
        }
        return new Filters(include, exclude, excludeSystem);
    }

    private static Map<Field, Matcher> fields(String key, JsonNode node) {
        if (node.isNull()) {
            return Map.of();
        }
        if (!node.isObject()) {
            throw new IllegalArgumentException(key + ": must be a mapping of user, process, agent, host");
        }
        Map<Field, Matcher> out = new EnumMap<>(Field.class);
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            var entry = it.next();
            String at = key + "." + entry.getKey();
            Field field = java.util.Arrays.stream(Field.values())
                    .filter(f -> f.key.equals(entry.getKey()))
                    .findFirst()
                    .orElseThrow(
                            () -> new IllegalArgumentException(at + ": unknown field (user, process, agent, host)"));
            JsonNode value = entry.getValue();
            List<String> patterns = new ArrayList<>();
            if (value.isArray()) {
                for (JsonNode v : value) {
                    if (!v.isValueNode() || v.isNull()) {
                        throw new IllegalArgumentException(at + ": patterns must be strings");
                    }
                    patterns.add(v.asText());
                }
            } else if (value.isValueNode() && !value.isNull()) {
                patterns.add(value.asText());
            } else {
                throw new IllegalArgumentException(at + ": must be a pattern or a list of patterns");
            }
            if (!patterns.isEmpty()) {
                out.put(field, compile(at, patterns));
            }
        }
        return Map.copyOf(out);
    }

    /** True when any of the patterns matches the whole value. */
    @FunctionalInterface
    interface Matcher {
        boolean test(String value);
    }

    private static Matcher compile(String at, List<String> patterns) {
        List<Matcher> compiled = new ArrayList<>();
        for (String p : patterns) {
            if (p.isBlank() || "re:".equals(p)) {
                throw new IllegalArgumentException(at + ": empty pattern");
            }
            try {
                if (p.startsWith("re:")) {
                    Pattern re = Pattern.compile(p.substring(3), Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);
                    compiled.add(value -> re.matcher(value).find());
                } else {
                    Pattern g = glob(p);
                    compiled.add(value -> g.matcher(value).matches());
                }
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException(
                        at + ": bad regular expression \"" + p + "\": " + e.getDescription());
            }
        }
        return value -> compiled.stream().anyMatch(m -> m.test(value));
    }

    private static Matcher anyOf(List<String> globs) {
        List<Pattern> compiled = globs.stream().map(Filters::glob).toList();
        return value -> compiled.stream().anyMatch(p -> p.matcher(value).matches());
    }

    /** A glob as a whole-value, case-insensitive pattern. */
    static Pattern glob(String glob) {
        StringBuilder re = new StringBuilder();
        for (char c : glob.toCharArray()) {
            switch (c) {
                case '*' -> re.append(".*");
                case '?' -> re.append('.');
                default -> re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(re.toString(), Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);
    }
}
