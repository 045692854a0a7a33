package io.dozor.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * This host's operating system as ECS names it: {@code host.os.type} (one of ECS's expected values: windows,
 * linux, macos; null for another system) and {@code host.os.family} (windows; on Linux the distribution family
 * from {@code /etc/os-release}, {@code ID_LIKE}'s first word, else {@code ID}: debian, rhel, ...; darwin).
 */
record HostOs(String type, String family) {

    static HostOs current() {
        return of(System.getProperty("os.name", ""), Path.of("/etc/os-release"));
    }

    static HostOs of(String osName, Path osRelease) {
        String name = osName.toLowerCase(Locale.ROOT);
        if (name.startsWith("windows")) {
            return new HostOs("windows", "windows");
        }
        if (name.startsWith("linux")) {
            return new HostOs("linux", linuxFamily(osRelease));
        }
        if (name.startsWith("mac")) {
            return new HostOs("macos", "darwin");
        }
        return new HostOs(null, null);
    }

    /** {@code ID_LIKE}'s first word, else {@code ID}, lowercased; null when the file cannot be read or says neither. */
    static String linuxFamily(Path osRelease) {
        List<String> lines;
        try {
            lines = Files.readAllLines(osRelease);
        } catch (IOException | RuntimeException e) {
            return null;
        }
        String like = value(lines, "ID_LIKE");
        if (like != null && !like.isBlank()) {
            return like.trim().split("\\s+")[0];
        }
        String id = value(lines, "ID");
        return id == null || id.isBlank() ? null : id.trim();
    }

    private static String value(List<String> lines, String key) {
        for (String line : lines) {
            if (line.startsWith(key + "=")) {
                String v = line.substring(key.length() + 1).trim();
                if (v.length() >= 2 && (v.startsWith("\"") || v.startsWith("'")) && v.endsWith(v.substring(0, 1))) {
                    v = v.substring(1, v.length() - 1);
                }
                return v.toLowerCase(Locale.ROOT);
            }
        }
        return null;
    }
}
