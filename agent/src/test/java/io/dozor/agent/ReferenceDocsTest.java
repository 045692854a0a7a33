package io.dozor.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Keeps the operator's reference in {@code docs/} true to the agent: every INI key the agent reads (its
 * table of known keys, read by reflection) has a row in {@code docs/agent-settings.md} under its section, and
 * what {@code dozor-agent --help} prints is in {@code docs/cli.md} verbatim and names every command.
 */
class ReferenceDocsTest {
    static final Path DOCS = Path.of("..", "docs");
    static final Pattern SECTION_HEADING = Pattern.compile("^## `\\[([a-z]+)]`.*$");
    static final Pattern KEY_ROW = Pattern.compile("^\\|\\s*`([a-z0-9_]+)`\\s*\\|.*$");
    static final String HEADING = "### `dozor-agent`";

    @Test
    void everyIniKeyHasItsRowUnderItsSection() throws Exception {
        Path file = DOCS.resolve("agent-settings.md");
        Map<String, Set<String>> documented = documentedKeys(Files.readAllLines(file, StandardCharsets.UTF_8));
        Map<String, Set<String>> known = knownKeys();
        List<String> problems = new ArrayList<>();
        known.forEach((section, keys) -> {
            if (!documented.containsKey(section)) {
                problems.add("section [" + section + "] has no heading \"## `[" + section + "]`\" with a table of its keys");
                return;
            }
            for (String key : keys) {
                if (!documented.get(section).contains(key)) {
                    problems.add("[" + section + "] " + key + " is not documented; add the row | `" + key
                            + "` | DEFAULT | MEANING | under \"## `[" + section + "]`\"");
                }
            }
        });
        documented.forEach((section, keys) -> {
            for (String key : keys) {
                if (!known.getOrDefault(section, Set.of()).contains(key)) {
                    problems.add("[" + section + "] " + key + " is documented but the agent does not read it (remove it)");
                }
            }
        });
        assertThat(problems).as(file + " is out of step with AgentConfig's known keys").isEmpty();
    }

    @Test
    void helpIsInCliMdVerbatimAndNamesEveryCommand() throws Exception {
        Path file = DOCS.resolve("cli.md");
        String help = help("--help");
        String block = "```text\n" + help + (help.endsWith("\n") ? "" : "\n") + "```\n";
        String doc = Files.readString(file, StandardCharsets.UTF_8);
        int heading = doc.indexOf(HEADING + "\n");
        assertThat(heading).as(file + " has no heading " + HEADING + " followed by the agent's --help in a ```text block:\n"
                + block).isNotNegative();
        int start = doc.indexOf("```text\n", heading);
        int end = start < 0 ? -1 : doc.indexOf("\n```\n", start);
        String documented = start < 0 || end < 0 ? "" : doc.substring(start, end + 5);
        assertThat(documented).as(file + ": the block under " + HEADING + " differs from what dozor-agent --help prints"
                + " (agent/.../Main.java HELP); replace it by:\n" + block).isEqualTo(block);

        for (String command : commands()) {
            assertThat(help).as("dozor-agent --help names the command " + command).contains("  " + command + " ");
            assertThat(help(command, "--help")).as("dozor-agent " + command + " --help").isEqualTo(help);
        }
    }

    private static String help(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        assertThat(status).as(String.join(" ", args) + " exits 0 (stderr: " + err + ")").isZero();
        return out.toString();
    }

    /** The words of Main's commands (its private enum), so a command added later is checked too. */
    private static List<String> commands() throws ReflectiveOperationException {
        Class<?> type = Class.forName(Main.class.getName() + "$Command");
        Field word = type.getDeclaredField("word");
        word.setAccessible(true);
        List<String> words = new ArrayList<>();
        for (Object c : type.getEnumConstants()) {
            words.add((String) word.get(c));
        }
        assertThat(words).contains("run");
        return words;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Set<String>> knownKeys() throws ReflectiveOperationException {
        Field field = AgentConfig.class.getDeclaredField("KNOWN_KEYS");
        field.setAccessible(true);
        Map<String, Set<String>> known = (Map<String, Set<String>>) field.get(null);
        assertThat(known).containsKey("server");
        return known;
    }

    static Map<String, Set<String>> documentedKeys(List<String> lines) {
        Map<String, Set<String>> keys = new LinkedHashMap<>();
        String section = null;
        for (String line : lines) {
            Matcher heading = SECTION_HEADING.matcher(line);
            if (heading.matches()) {
                section = heading.group(1);
                keys.put(section, new LinkedHashSet<>());
            } else if (line.startsWith("## ")) {
                section = null;
            } else if (section != null) {
                Matcher row = KEY_ROW.matcher(line);
                if (row.matches()) {
                    keys.get(section).add(row.group(1));
                }
            }
        }
        return keys;
    }
}
