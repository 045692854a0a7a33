package io.dozor.agent;

import io.dozor.common.PrivateFiles;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.ini4j.Config;
import org.ini4j.Ini;
import org.ini4j.InvalidFileFormatException;
import org.ini4j.Profile;

/**
 * One setting of the agent's INI file: where it is ({@code [section] key}), its default, what it means (its row in
 * docs/agent-settings.md) and how its value is read into an {@link AgentConfig.Builder}. {@link AgentConfig#SETTINGS}
 * declares them all; {@link #load} reads an INI text against that table.
 *
 * @param defaultText the value taken when the key is absent, written as in the INI file ({@code ""}: empty), or null
 *                    when there is none (then the reader gets null)
 * @param defaultDoc  the default cell of the documentation row when {@code defaultText} is null, in words
 * @param doc         the meaning cell of the documentation row (Markdown)
 */
record Setting(String section, String key, String defaultText, String defaultDoc, String doc, Reader reader) {

    /** Reads the value of its setting into the builder, which holds the settings read before it. */
    @FunctionalInterface
    interface Reader {
        void read(Value value, AgentConfig.Builder into) throws ConfigException;
    }

    /** A setting whose absent key means {@code defaultText}, parsed like a written one. */
    static Setting of(String section, String key, String defaultText, String doc, Reader reader) {
        return new Setting(section, key, defaultText, null, doc, reader);
    }

    /** A setting without a default value: its reader gets null when the key is absent. */
    static Setting withoutDefault(String section, String key, String defaultDoc, String doc, Reader reader) {
        return new Setting(section, key, null, defaultDoc, doc, reader);
    }

    /** The setting's row in docs/agent-settings.md: {@code | `key` | default | meaning |}. */
    String docRow() {
        String defaults = defaultText == null ? defaultDoc : defaultText.isEmpty() ? "empty" : "`" + defaultText + "`";
        return "| `" + key + "` | " + defaults + " | " + doc + " |";
    }

    /**
     * Parses INI text and reads every setting of {@code settings} in their order, which is the order of the checks:
     * the first bad setting is the one reported. Unknown sections and keys are refused first.
     */
    static AgentConfig.Builder load(List<Setting> settings, String text, Path baseDir) throws ConfigException {
        if (text.startsWith("\uFEFF")) { // Notepad's UTF-8 byte order mark
            text = text.substring(1);
        }
        Ini ini = new Ini();
        Config config = new Config();
        config.setEscape(false); // C:\dozor\ca.pem must stay as written
        config.setMultiOption(false); // a repeated key: the last one wins
        config.setMultiSection(false);
        config.setEmptyOption(true);
        ini.setConfig(config);
        try {
            ini.load(new StringReader(text));
        } catch (InvalidFileFormatException e) {
            throw new ConfigException("--config: not a valid INI file: " + e.getMessage());
        } catch (IOException e) {
            throw new ConfigException("--config: cannot parse: " + e.getMessage(), e);
        }
        rejectUnknown(ini, knownKeys(settings));
        AgentConfig.Builder builder = AgentConfig.builder();
        for (Setting s : settings) {
            String written = raw(ini, s.section, s.key);
            s.reader.read(new Value(s, written == null ? s.defaultText : written, ini, baseDir), builder);
        }
        return builder;
    }

    /** Section to keys, sections in the order of their first setting. */
    static Map<String, Set<String>> knownKeys(List<Setting> settings) {
        Map<String, Set<String>> known = new LinkedHashMap<>();
        for (Setting s : settings) {
            known.computeIfAbsent(s.section, section -> new LinkedHashSet<>()).add(s.key);
        }
        return known;
    }

    private static void rejectUnknown(Ini ini, Map<String, Set<String>> known) throws ConfigException {
        for (String section : ini.keySet()) {
            Set<String> keys = known.get(section);
            if (keys == null) {
                throw new ConfigException("[" + section + "]: unknown section (expected one of "
                        + String.join(
                                ", ",
                                known.keySet().stream().map(s -> "[" + s + "]").toList()) + ")");
            }
            for (String key : ini.get(section).keySet()) {
                if (!keys.contains(key)) {
                    throw ConfigException.of(section, key, "unknown setting");
                }
            }
        }
    }

    /** The written value without its trailing comment, trimmed; null when absent. */
    private static String raw(Ini ini, String section, String key) {
        Profile.Section s = ini.get(section);
        String raw = s == null ? null : s.get(key);
        return raw == null ? null : stripComment(raw);
    }

    private static String stripComment(String raw) {
        for (int i = 1; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if ((c == ';' || c == '#') && Character.isWhitespace(raw.charAt(i - 1))) {
                return raw.substring(0, i).trim();
            }
        }
        String trimmed = raw.trim();
        return trimmed.startsWith(";") || trimmed.startsWith("#") ? "" : trimmed;
    }

    /**
     * The value of one setting as written (or its default), with typed readings whose failures name the setting.
     *
     * @param text    the value, or null when neither written nor defaulted
     * @param baseDir the directory relative paths are resolved against, or null to keep them as written
     */
    record Value(Setting setting, String text, Ini ini, Path baseDir) {

        /** A problem with this setting: {@code [section] key: problem}. */
        ConfigException invalid(String problem) {
            return ConfigException.of(setting.section, setting.key, problem);
        }

        /** The written value of another setting, null when absent (not defaulted). */
        String other(String section, String key) {
            return raw(ini, section, key);
        }

        /** The value, or null when absent or empty. */
        String orNull() {
            return text == null || text.isEmpty() ? null : text;
        }

        String required() throws ConfigException {
            if (orNull() == null) {
                throw invalid("missing");
            }
            return text;
        }

        /** Comma-separated items, trimmed, empty ones left out. */
        List<String> list() {
            return Arrays.stream(text.split(","))
                    .map(String::trim)
                    .filter(s -> !s.isEmpty())
                    .toList();
        }

        long positiveLong() throws ConfigException {
            try {
                long n = Long.parseLong(text);
                if (n > 0) {
                    return n;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw invalid("must be a positive integer, got \"" + text + "\"");
        }

        /** A positive number of megabytes ({@code 64}, {@code 0.5}) as bytes, at least 1 KiB. */
        long megabytes() throws ConfigException {
            long mb = 1024 * 1024;
            try {
                double n = Double.parseDouble(text);
                if (Double.isFinite(n) && n * mb >= 1024 && n <= 1_000_000 && !text.matches(".*[a-zA-Z].*")) {
                    return (long) (n * mb);
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw invalid("must be a number of megabytes between 0.001 and 1000000, got \"" + text + "\"");
        }

        boolean bool() throws ConfigException {
            return switch (text.toLowerCase(Locale.ROOT)) {
                case "true", "yes", "on", "1" -> true;
                case "false", "no", "off", "0" -> false;
                default -> throw invalid("must be true or false, got \"" + text + "\"");
            };
        }

        /** {@code host:port}, null when absent or empty. */
        String hostPort(String what) throws ConfigException {
            if (orNull() == null) {
                return null;
            }
            int colon = text.lastIndexOf(':');
            String host = colon > 0 ? text.substring(0, colon) : "";
            String port = colon > 0 ? text.substring(colon + 1) : "";
            if (!host.matches("[A-Za-z0-9.-]+|\\[[0-9A-Fa-f:.]+]")
                    || !port.matches("[0-9]{1,5}")
                    || Integer.parseInt(port) < 1
                    || Integer.parseInt(port) > 65535) {
                throw invalid("must be host:port of " + what + ", got \"" + text + "\"");
            }
            return text;
        }

        /** The path, resolved against the base directory; null when absent or empty. */
        Path path() throws ConfigException {
            if (orNull() == null) {
                return null;
            }
            try {
                Path p = Path.of(text);
                return (baseDir == null ? p : baseDir.resolve(p)).normalize();
            } catch (InvalidPathException e) {
                throw invalid("not a valid path: \"" + text + "\"");
            }
        }

        /** {@link #path()}, created when missing (see {@link #createDirectory}); null when absent or empty. */
        Path directory() throws ConfigException {
            Path dir = path();
            return dir == null ? null : createDirectory(dir);
        }

        /** Creates {@code dir} when missing, private to the agent's user when new (see {@link PrivateFiles}). */
        Path createDirectory(Path dir) throws ConfigException {
            try {
                PrivateFiles.createDirectories(dir);
            } catch (IOException e) {
                throw invalid("cannot create directory " + dir + ": " + e);
            }
            return dir;
        }
    }
}
