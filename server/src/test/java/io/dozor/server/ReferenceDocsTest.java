package io.dozor.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.dozor.server.config.Setting;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Keeps the operator's reference in {@code docs/} true to the code: every {@link Setting} (key, variable,
 * default) has its row in {@code docs/server-settings.md}, and every command of {@code dozor-server} has its
 * {@code --help} verbatim in {@code docs/cli.md}. Settings and commands are found by iterating the enum and
 * picocli's command tree, so one added later fails here until it is documented.
 *
 * <p>To rewrite the {@code --help} blocks of {@code docs/cli.md} from the program (then review the diff):
 * {@value #REGENERATE_HINT}
 */
class ReferenceDocsTest {
    static final Path DOCS = Path.of("..", "docs");
    static final String REGENERATE_HINT = "mvn -B -q -pl server -am verify -Dtest=ReferenceDocsTest"
            + " -Dsurefire.failIfNoSpecifiedTests=false -Ddozor.docs.regenerate=true";
    /** A settings table row: | `key` | `VARIABLE` | default | meaning | */
    static final Pattern SETTING_ROW = Pattern.compile("^\\|\\s*`([a-z0-9_.]+)`\\s*\\|(.*)$");
    /** The heading of one command in docs/cli.md: ### `dozor-server token create` */
    static final Pattern COMMAND_HEADING = Pattern.compile("^### `(dozor-server(?: [a-z-]+)*)`\\s*$");
    /** YAML-only keys documented in the settings table that are not {@link Setting}s (no variable). */
    static final Set<String> YAML_ONLY = Set.of("telegram.filters");

    @BeforeAll
    static void plainHelp() {
        System.setProperty("picocli.ansi", "false"); // the same text whether or not a terminal is attached
    }

    @Test
    void everySettingHasItsRowWithVariableAndDefault() throws IOException {
        Path file = DOCS.resolve("server-settings.md");
        Map<String, List<String>> rows = settingRows(file);
        List<String> problems = new ArrayList<>();
        for (Setting s : Setting.values()) {
            List<String> cells = rows.get(s.key());
            String wanted = "| `" + s.key() + "` | `" + s.envName() + "` | " + defaultCell(s) + " | MEANING |";
            if (cells == null) {
                problems.add("setting " + s.key() + " is not documented; add the row " + wanted);
                continue;
            }
            if (cells.size() < 3) {
                problems.add("setting " + s.key() + ": its row needs the cells variable | default | meaning, like "
                        + wanted);
                continue;
            }
            if (!cells.get(0).equals("`" + s.envName() + "`")) {
                problems.add("setting " + s.key() + ": variable cell is " + cells.get(0) + ", expected `" + s.envName()
                        + "`");
            }
            String def = cells.get(1);
            Optional<String> expected = s.defaultValue();
            if (expected.isPresent() && !expected.get().isEmpty() && !def.startsWith("`" + expected.get() + "`")) {
                problems.add("setting " + s.key() + ": default cell is \"" + def + "\", expected it to start with `"
                        + expected.get() + "`");
            } else if (expected.isPresent() && expected.get().isEmpty() && !def.startsWith("empty")) {
                problems.add("setting " + s.key() + ": default cell is \"" + def
                        + "\", expected it to start with \"empty\"");
            } else if (expected.isEmpty() && (def.isEmpty() || def.startsWith("`"))) {
                problems.add(
                        "setting " + s.key() + " has no default: its default cell must say so in words (e.g. \"none:"
                                + " required\"), got \"" + def + "\"");
            }
        }
        for (String key : rows.keySet()) {
            if (Setting.byKey(key).isEmpty() && !YAML_ONLY.contains(key)) {
                problems.add("the row for `" + key + "` documents a setting the server does not have (remove it)");
            }
        }
        assertThat(problems)
                .as(file + " is out of step with config/Setting.java")
                .isEmpty();
    }

    @Test
    void everyCommandsHelpIsInCliMdVerbatim() throws IOException {
        Path file = DOCS.resolve("cli.md");
        Map<String, String> helps = helps();
        if (Boolean.getBoolean("dozor.docs.regenerate")) {
            Files.writeString(
                    file, regenerate(Files.readString(file, StandardCharsets.UTF_8), helps), StandardCharsets.UTF_8);
        }
        String doc = Files.readString(file, StandardCharsets.UTF_8);
        List<String> problems = new ArrayList<>();
        Map<String, String> documented = documentedHelps(doc);
        helps.forEach((command, help) -> {
            if (!documented.containsKey(command)) {
                problems.add("command `" + command + "` has no heading \"### `" + command
                        + "`\" followed by its --help in a ```text block:\n" + block(help));
            } else if (!documented.get(command).equals(help)) {
                problems.add("the --help of `" + command
                        + "` under its heading differs from the program's; it is now:\n" + block(help));
            }
        });
        for (String command : documented.keySet()) {
            if (!helps.containsKey(command)) {
                problems.add(
                        "the heading for `" + command + "` documents a command dozor-server does not have (remove it)");
            }
        }
        assertThat(problems)
                .as(file + " is out of step with the program's --help (fix it by hand or regenerate the blocks"
                        + " with: " + REGENERATE_HINT + ", then review the diff)")
                .isEmpty();
    }

    @Test
    void relativeLinksOfTheDocsPointToFiles() throws IOException {
        Pattern link = Pattern.compile("\\]\\(([^)#\\s]+)(#[^)]*)?\\)");
        List<String> broken = new ArrayList<>();
        try (var files = Files.list(DOCS)) {
            for (Path page :
                    files.filter(f -> f.toString().endsWith(".md")).sorted().toList()) {
                Matcher m = link.matcher(Files.readString(page, StandardCharsets.UTF_8));
                while (m.find()) {
                    String target = m.group(1);
                    if (!target.contains("://")
                            && !Files.exists(page.getParent().resolve(target))) {
                        broken.add(page.getFileName() + " links " + target);
                    }
                }
            }
        }
        assertThat(broken).as("links in docs/ to files that do not exist").isEmpty();
    }

    /** Each command path ("dozor-server", "dozor-server token create", …) and what its --help prints. */
    static Map<String, String> helps() {
        Map<String, String> helps = new LinkedHashMap<>();
        collect(new CommandLine(new Main()), List.of(), helps);
        return helps;
    }

    private static void collect(CommandLine command, List<String> path, Map<String, String> helps) {
        List<String> args = new ArrayList<>(path);
        args.add("--help");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = Main.execute(
                args.toArray(String[]::new), Map.of(), new PrintWriter(out, true), new PrintWriter(err, true));
        String name = String.join(" ", prepend("dozor-server", path));
        assertThat(status).as(name + " --help exits 0 (stderr: " + err + ")").isZero();
        helps.put(name, out.toString());
        command.getSubcommands().forEach((sub, cli) -> {
            if (cli.getCommandName().equals(sub)) { // not again under an alias
                List<String> next = new ArrayList<>(path);
                next.add(sub);
                collect(cli, next, helps);
            }
        });
    }

    private static List<String> prepend(String first, List<String> rest) {
        List<String> all = new ArrayList<>();
        all.add(first);
        all.addAll(rest);
        return all;
    }

    static String block(String help) {
        return "```text\n" + help + (help.endsWith("\n") ? "" : "\n") + "```\n";
    }

    /** The first ```text block after each command heading, with its trailing newline. */
    static Map<String, String> documentedHelps(String doc) {
        Map<String, String> found = new LinkedHashMap<>();
        List<String> lines = doc.lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            Matcher m = COMMAND_HEADING.matcher(lines.get(i));
            if (!m.matches()) {
                continue;
            }
            int start = i + 1;
            while (start < lines.size()
                    && !lines.get(start).equals("```text")
                    && !lines.get(start).startsWith("#")) {
                start++;
            }
            if (start == lines.size() || !lines.get(start).equals("```text")) {
                found.put(m.group(1), "(no ```text block after the heading)");
                continue;
            }
            StringBuilder help = new StringBuilder();
            for (int j = start + 1; j < lines.size() && !lines.get(j).equals("```"); j++) {
                help.append(lines.get(j)).append('\n');
            }
            found.put(m.group(1), help.toString());
        }
        return found;
    }

    /**
     * The document with each heading's block replaced by the program's help; commands without a heading get one,
     * with their block, after the last documented command of dozor-server.
     */
    static String regenerate(String doc, Map<String, String> helps) {
        List<String> lines = new ArrayList<>(doc.lines().toList());
        Set<String> seen = new TreeSet<>();
        int after = lines.size(); // where missing commands go: after the last documented one's block
        for (int i = 0; i < lines.size(); i++) {
            Matcher m = COMMAND_HEADING.matcher(lines.get(i));
            if (!m.matches() || !helps.containsKey(m.group(1))) {
                continue;
            }
            seen.add(m.group(1));
            int start = i + 1;
            while (start < lines.size()
                    && !lines.get(start).equals("```text")
                    && !lines.get(start).startsWith("#")) {
                start++;
            }
            List<String> replacement = block(helps.get(m.group(1))).lines().toList();
            if (start < lines.size() && lines.get(start).equals("```text")) {
                int end = start + 1;
                while (end < lines.size() && !lines.get(end).equals("```")) {
                    end++;
                }
                lines.subList(start, Math.min(end + 1, lines.size())).clear();
                lines.addAll(start, replacement);
                after = start + replacement.size();
            } else {
                List<String> inserted = new ArrayList<>(List.of(""));
                inserted.addAll(replacement);
                lines.addAll(i + 1, inserted);
                after = i + 1 + inserted.size();
            }
        }
        List<String> missing = new ArrayList<>();
        helps.forEach((command, help) -> {
            if (!seen.contains(command)) {
                missing.add("");
                missing.add("### `" + command + "`");
                missing.add("");
                missing.addAll(block(help).lines().toList());
            }
        });
        lines.addAll(after, missing);
        return String.join("\n", lines) + "\n";
    }

    /** Key → the cells after the key, of every settings-table row. */
    static Map<String, List<String>> settingRows(Path file) throws IOException {
        Map<String, List<String>> rows = new LinkedHashMap<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            Matcher m = SETTING_ROW.matcher(line);
            if (m.matches()) {
                List<String> cells = new ArrayList<>();
                for (String cell : m.group(2).split("(?<!\\\\)\\|", -1)) {
                    cells.add(cell.trim());
                }
                if (!cells.isEmpty() && cells.get(cells.size() - 1).isEmpty()) {
                    cells.remove(cells.size() - 1);
                }
                rows.put(m.group(1), cells);
            }
        }
        return rows;
    }

    private static String defaultCell(Setting s) {
        return s.defaultValue().map(d -> d.isEmpty() ? "empty" : "`" + d + "`").orElse("none: WHAT THEN");
    }
}
