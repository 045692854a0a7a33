package io.dozor.server;

import io.dozor.server.config.ConfigException;
import io.dozor.server.config.ServerConfig;
import io.dozor.server.rules.Durations;
import io.dozor.server.store.CliDatabase;
import io.dozor.server.store.QueryVerticle;
import io.dozor.server.store.Sql;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code dozor-server events}: the launches stored in PostgreSQL, straight from the database the server
 * uses (no admin token, certificate or port needed), as a table or as JSON lines; {@code --follow} then
 * prints new ones as they are stored.
 */
@Command(
        name = "events",
        sortOptions = false,
        description =
                "Print the latest launches (oldest first), as a table or JSON lines; --follow keeps printing new ones.")
final class EventsCommand extends Main.WithConfig implements Callable<Integer> {
    static final int MAX_LIMIT = 1_000;
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");
    private static final String ROW = "%-19s  %-16s  %-20s  %-16s  %s%n";

    @Option(names = "--user", paramLabel = "NAME", description = "only launches by this user")
    String user;

    @Option(names = "--process", paramLabel = "NAME", description = "only this process name, e.g. chrome.exe")
    String process;

    @Option(names = "--agent", paramLabel = "ID", description = "only launches reported by this agent")
    String agent;

    @Option(
            names = "--since",
            paramLabel = "TIME",
            description = "only launches at or after TIME: RFC 3339 (2026-11-27T09:00:00Z) or an age (30m, 2h, 7d)")
    String since;

    @Option(
            names = "--limit",
            paramLabel = "N",
            defaultValue = "20",
            description = "how many of the latest launches to print first, 1 to " + MAX_LIMIT
                    + " (default: ${DEFAULT-VALUE})")
    int limit;

    @Option(
            names = {"-f", "--follow"},
            description = "then keep printing new launches as they are stored (Ctrl-C stops)")
    boolean follow;

    @Option(names = "--json", description = "one JSON object per line, with the fields of the admin API")
    boolean json;

    @Option(names = "--poll", paramLabel = "DURATION", defaultValue = "1s", hidden = true)
    String poll;

    @Override
    public Integer call() throws InterruptedException {
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new ConfigException("--limit: must be a whole number from 1 to " + MAX_LIMIT);
        }
        OffsetDateTime from = since == null ? null : since(since, OffsetDateTime.now());
        Duration pollEvery = Durations.parse(poll)
                .filter(d -> !d.isZero())
                .orElseThrow(() -> new ConfigException("--poll: not a duration"));
        ServerConfig config = config();
        Printer printer = new Printer(out(), config.telegram().timeZone(), json);
        try (CliDatabase db = CliDatabase.open(config)) {
            RowSet<Row> latest = db.pool()
                    .preparedQuery(Sql.EVENTS_PAGE)
                    .execute(Tuple.of(from, null, user, process, agent, null, limit))
                    .await();
            List<Row> rows = new ArrayList<>();
            latest.forEach(rows::add);
            printer.header();
            long last = rows.isEmpty() ? lastId(db) : rows.get(0).getLong("id");
            rows.reversed().forEach(printer::print);
            while (follow) {
                Thread.sleep(pollEvery.toMillis());
                for (Row r : db.pool()
                        .preparedQuery(Sql.EVENTS_AFTER)
                        .execute(Tuple.of(from, null, user, process, agent, last, MAX_LIMIT))
                        .await()) {
                    printer.print(r);
                    last = r.getLong("id");
                }
            }
        }
        return 0;
    }

    /** With nothing to show yet, follow from the newest row of any kind: older ones were not asked for. */
    private static long lastId(CliDatabase db) {
        Row r = db.pool().query(Sql.EVENTS_LAST_ID).execute().await().iterator().next();
        return r.getLong("id");
    }

    /** {@code --since}: RFC 3339 with an offset, or an age such as {@code 2h} before {@code now}. */
    static OffsetDateTime since(String text, OffsetDateTime now) {
        var age = Durations.parse(text);
        if (age.isPresent() && !text.isBlank() && !text.chars().allMatch(Character::isDigit)) {
            return now.minus(age.get());
        }
        try {
            return OffsetDateTime.parse(text.trim().replace(' ', '+'), DateTimeFormatter.ISO_OFFSET_DATE_TIME);
        } catch (DateTimeParseException e) {
            throw new ConfigException(
                    "--since: must be RFC 3339 with an offset (2026-11-27T09:00:00Z) or an age (30m, 2h, 7d)");
        }
    }

    /** Table or JSON lines; names from the agents are printed with control characters made visible. */
    static final class Printer {
        private final PrintWriter out;
        private final ZoneId zone;
        private final boolean json;

        Printer(PrintWriter out, ZoneId zone, boolean json) {
            this.out = out;
            this.zone = zone;
            this.json = json;
        }

        void header() {
            if (!json) {
                out.printf(ROW, "TIME (" + zone.getId() + ")", "USER", "PROCESS", "AGENT", "HOST");
            }
        }

        void print(Row r) {
            if (json) {
                JsonObject event = QueryVerticle.eventJson(r);
                out.println(event.encode());
            } else {
                out.printf(
                        ROW,
                        TIME.format(r.getOffsetDateTime("timestamp").atZoneSameInstant(zone)),
                        visible(r.getString("username")),
                        visible(r.getString("process_name")),
                        visible(r.getString("agent_id")),
                        visible(r.getString("hostname")));
            }
            out.flush();
        }

        /** A name can hold anything an agent sent: no terminal control sequence reaches the screen. */
        static String visible(String s) {
            if (s == null) {
                return "-";
            }
            StringBuilder b = new StringBuilder(s.length());
            s.codePoints().forEach(c -> {
                if (Character.isISOControl(c) || Character.getType(c) == Character.FORMAT) {
                    b.append(String.format("\\u%04x", c));
                } else {
                    b.appendCodePoint(c);
                }
            });
            return b.toString();
        }
    }
}
