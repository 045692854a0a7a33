package io.dozor.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Keeps the operator's reference in {@code docs/} true to the agent: every INI setting the agent reads
 * ({@link AgentConfig#SETTINGS}) has its row, as declared there, in {@code docs/agent-settings.md} under its
 * section, and what {@code dozor-agent --help} prints is in {@code docs/cli.md} verbatim and names every command.
 *
 * <p>To rewrite the settings' rows of {@code docs/agent-settings.md} from the table (then review the diff):
 * {@value #REGENERATE_HINT}
 */
class ReferenceDocsTest {
    static final Path DOCS = Path.of("..", "docs");
    static final Pattern SECTION_HEADING = Pattern.compile("^## `\\[([a-z]+)]`.*$");
    static final Pattern KEY_ROW = Pattern.compile("^\\|\\s*`([a-z0-9_]+)`\\s*\\|.*$");
    static final String HEADING = "### `dozor-agent`";
    static final String REGENERATE_HINT = "mvn -B -q -pl testkit,agent verify -Dtest=ReferenceDocsTest"
            + " -Dsurefire.failIfNoSpecifiedTests=false -Ddozor.docs.regenerate=true";

    @Test
    void everyIniSettingHasItsRowUnderItsSection() throws Exception {
        Path file = DOCS.resolve("agent-settings.md");
        if (Boolean.getBoolean("dozor.docs.regenerate")) {
            List<String> lines = regenerate(Files.readAllLines(file, StandardCharsets.UTF_8));
            Files.writeString(file, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
        }
        Map<String, Map<String, String>> documented = documentedRows(Files.readAllLines(file, StandardCharsets.UTF_8));
        List<String> problems = new ArrayList<>();
        for (Setting s : AgentConfig.SETTINGS) {
            Map<String, String> rows = documented.get(s.section());
            if (rows == null) {
                problems.add("section [" + s.section() + "] has no heading \"## `[" + s.section() + "]`\" with a table"
                        + " of its keys");
            } else if (!rows.containsKey(s.key())) {
                problems.add("[" + s.section() + "] " + s.key() + " is not documented; add the row " + s.docRow()
                        + " under \"## `[" + s.section() + "]`\"");
            } else if (!rows.get(s.key()).equals(s.docRow())) {
                problems.add("[" + s.section() + "] " + s.key() + ": its row differs from its declaration in"
                        + " AgentConfig.SETTINGS, which says:\n" + s.docRow());
            }
        }
        Map<String, Set<String>> known = Setting.knownKeys(AgentConfig.SETTINGS);
        documented.forEach((section, rows) -> {
            for (String key : rows.keySet()) {
                if (!known.getOrDefault(section, Set.of()).contains(key)) {
                    problems.add(
                            "[" + section + "] " + key + " is documented but the agent does not read it (remove it)");
                }
            }
        });
        assertThat(problems)
                .as(file + " is out of step with AgentConfig.SETTINGS (fix it by hand or regenerate its"
                        + " rows with: " + REGENERATE_HINT + ", then review the diff)")
                .isEmpty();
    }

    @Test
    void helpIsInCliMdVerbatimAndNamesEveryCommand() throws Exception {
        Path file = DOCS.resolve("cli.md");
        String help = help("--help");
        String block = "```text\n" + help + (help.endsWith("\n") ? "" : "\n") + "```\n";
        String doc = Files.readString(file, StandardCharsets.UTF_8);
        int heading = doc.indexOf(HEADING + "\n");
        assertThat(heading)
                .as(file + " has no heading " + HEADING + " followed by the agent's --help in a ```text block:\n"
                        + block)
                .isNotNegative();
        int start = doc.indexOf("```text\n", heading);
        int end = start < 0 ? -1 : doc.indexOf("\n```\n", start);
        String documented = start < 0 || end < 0 ? "" : doc.substring(start, end + 5);
        assertThat(documented)
                .as(file + ": the block under " + HEADING + " differs from what dozor-agent --help prints"
                        + " (agent/.../Main.java HELP); replace it by:\n" + block)
                .isEqualTo(block);

        for (String command : commands()) {
            assertThat(help)
                    .as("dozor-agent --help names the command " + command)
                    .contains("  " + command + " ");
            assertThat(help(command, "--help"))
                    .as("dozor-agent " + command + " --help")
                    .isEqualTo(help);
        }
    }

    private static String help(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        assertThat(status)
                .as(String.join(" ", args) + " exits 0 (stderr: " + err + ")")
                .isZero();
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

    /** Section to key to its table row, as written under the headings {@code ## `[section]`}. */
    static Map<String, Map<String, String>> documentedRows(List<String> lines) {
        Map<String, Map<String, String>> rows = new LinkedHashMap<>();
        String section = null;
        for (String line : lines) {
            Matcher heading = SECTION_HEADING.matcher(line);
            if (heading.matches()) {
                section = heading.group(1);
                rows.put(section, new LinkedHashMap<>());
            } else if (line.startsWith("## ")) {
                section = null;
            } else if (section != null) {
                Matcher row = KEY_ROW.matcher(line);
                if (row.matches()) {
                    rows.get(section).put(row.group(1), line);
                }
            }
        }
        return rows;
    }

    /**
     * The lines with each setting's row as declared: rows in place are rewritten, rows of keys the agent does not
     * read are dropped, and missing rows are added at the end of their section's table.
     */
    static List<String> regenerate(List<String> lines) {
        List<String> out = new ArrayList<>();
        Map<String, Setting> pending = new LinkedHashMap<>(); // the current section's rows not written yet
        String section = null;
        boolean inTable = false;
        for (String line : lines) {
            if (inTable && !line.startsWith("|")) {
                pending.values().forEach(s -> out.add(s.docRow()));
                pending.clear();
            }
            inTable = section != null && line.startsWith("|");
            Matcher heading = SECTION_HEADING.matcher(line);
            if (line.startsWith("## ")) {
                section = heading.matches() ? heading.group(1) : null;
                pending.clear();
                for (Setting s : AgentConfig.SETTINGS) {
                    if (s.section().equals(section)) {
                        pending.put(s.key(), s);
                    }
                }
            }
            Matcher row = KEY_ROW.matcher(line);
            if (section != null && row.matches()) {
                Setting s = pending.remove(row.group(1));
                if (s != null) {
                    out.add(s.docRow());
                }
            } else {
                out.add(line);
            }
        }
        pending.values().forEach(s -> out.add(s.docRow()));
        return out;
    }
}
