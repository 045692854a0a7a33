package io.dozor.devstack;

import static org.assertj.core.api.Assertions.assertThat;

import io.dozor.testkit.FakeTelegram;
import io.dozor.testkit.TestServices;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One end-to-end test class's system: the built jars running as a {@link Stack} in {@code target/NAME/stack}, on
 * a fresh database, the shared Elasticsearch node and, if asked for, a fake Bot API ({@link TestServices}).
 * Registered as {@code @RegisterExtension static final RunningStack system = RunningStack.in("NAME")...build();},
 * it starts before the class's {@code @BeforeAll} methods and stops after its {@code @AfterAll} ones: the stack,
 * the fake Bot API, the database, then what {@link Builder#after} was given.
 */
final class RunningStack extends TestServices {
    private final Builder options;
    private Stack stack;

    private RunningStack(Builder options) {
        super(options.botToken.orElse(null));
        this.options = options;
    }

    /** A system in {@code target/name}. */
    static Builder in(String name) {
        return new Builder(name);
    }

    /** A built artifact whose path the build gives as a system property (the jars, the packages). */
    static Path jar(String property) {
        Path jar = Path.of(System.getProperty(property, "missing-" + property));
        assertThat(jar).as("built jar (run mvn verify, not mvn test)").isRegularFile();
        return jar;
    }

    /** What the class does in its folder before anything starts (e.g. mount a small disk where the spool goes). */
    interface Preparation {
        void prepare(Path dir) throws Exception;
    }

    /** What differs between the test classes; by default no Telegram, times in UTC. */
    static final class Builder {
        private final String name;
        private Optional<String> botToken = Optional.empty();
        private List<Long> chatIds = List.of();
        private String timeZone = "UTC";
        private String agentId;
        private String watch;
        private int pollIntervalMs;
        private final Map<String, String> agentSettings = new LinkedHashMap<>();
        private Preparation before = dir -> {};
        private final List<AutoCloseable> after = new ArrayList<>();

        private Builder(String name) {
            this.name = name;
        }

        /** A fake Bot API that accepts {@code botToken}, the server notifying {@code chatIds} through it. */
        Builder telegram(String botToken, Long... chatIds) {
            this.botToken = Optional.of(botToken);
            this.chatIds = List.of(chatIds);
            return this;
        }

        /** The time zone of the Telegram messages. */
        Builder timeZone(String zone) {
            this.timeZone = zone;
            return this;
        }

        /** The agent: enrolled as {@code agentId}, watching the programs {@code watch}, polling every {@code ms}. */
        Builder agent(String agentId, String watch, int pollIntervalMs) {
            this.agentId = agentId;
            this.watch = watch;
            this.pollIntervalMs = pollIntervalMs;
            return this;
        }

        /** One more agent INI setting, {@code "section.key"} (e.g. {@code "spool.max_mb"}). */
        Builder agentSetting(String key, String value) {
            agentSettings.put(key, value);
            return this;
        }

        Builder before(Preparation preparation) {
            this.before = preparation;
            return this;
        }

        /** Closed after the stack and the database are, in the order given. */
        Builder after(AutoCloseable closeable) {
            after.add(closeable);
            return this;
        }

        RunningStack build() {
            return new RunningStack(this);
        }
    }

    @Override
    protected Path folder(ExtensionContext context) throws Exception {
        Path dir = Files.createDirectories(Path.of("target", options.name).toAbsolutePath());
        options.after.reversed().forEach(this::closeLater);
        options.before.prepare(dir);
        return dir;
    }

    @Override
    protected void start() {
        stack = Stack.start(new Stack.Options(
                dir().resolve("stack"),
                jar("dozor.server.jar"),
                jar("dozor.agent.jar"),
                db().url(),
                es().url(),
                Optional.ofNullable(telegram()).map(FakeTelegram::apiUrl),
                options.botToken,
                options.chatIds,
                options.timeZone,
                options.agentId,
                options.watch,
                options.pollIntervalMs,
                false,
                Map.copyOf(options.agentSettings)));
        closeLater(stack);
    }

    Stack stack() {
        return stack;
    }
}
