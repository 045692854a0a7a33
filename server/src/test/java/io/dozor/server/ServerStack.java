package io.dozor.server;

import io.dozor.testkit.DevCertificates;
import io.dozor.testkit.ProcessLogs;
import io.dozor.testkit.TcpProxy;
import io.dozor.testkit.TestServices;
import io.vertx.pgclient.PgConnectOptions;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One test class's running server: a {@link TestServer} with {@link TestServer#env the shared settings} plus the
 * class's own, on a fresh database, the shared Elasticsearch node and, if asked for, a fake Bot API
 * ({@link TestServices}). Registered as
 * {@code @RegisterExtension static final ServerStack stack = ServerStack.builder()...build();}, it starts before the
 * class's {@code @BeforeAll} methods and closes after its {@code @AfterAll} ones: the server, the proxies, the fake
 * Bot API, the database, then its temporary folder.
 */
final class ServerStack extends TestServices {
    private final Builder options;
    private TcpProxy pgProxy;
    private TcpProxy esProxy;
    private DevCertificates certs;
    private Map<String, String> env;
    private TestServer server;

    private ServerStack(Builder options) {
        super(options.botToken);
        this.options = options;
    }

    static Builder builder() {
        return new Builder();
    }

    /** What differs between the test classes; by default a server on the database and Elasticsearch only. */
    static final class Builder {
        private String botToken;
        private long[] chatIds;
        private String elasticsearchUrl;
        private boolean proxied;
        private final Map<String, String> env = new LinkedHashMap<>();

        private Builder() {}

        /** A fake Bot API that accepts {@code botToken}, the server notifying {@code chatIds} through it. */
        Builder telegram(String botToken, long... chatIds) {
            this.botToken = botToken;
            this.chatIds = chatIds.clone();
            return this;
        }

        /** The server's Elasticsearch URL instead of the shared node's (e.g. one where nothing listens: none starts). */
        Builder elasticsearch(String url) {
            this.elasticsearchUrl = url;
            return this;
        }

        /** PostgreSQL and Elasticsearch reached through {@link TcpProxy TCP proxies} the test can cut or hang. */
        Builder proxied() {
            this.proxied = true;
            return this;
        }

        /** A setting of the server ({@code DOZOR_...}), over the shared ones. */
        Builder env(String name, String value) {
            env.put(name, value);
            return this;
        }

        ServerStack build() {
            return new ServerStack(this);
        }
    }

    /**
     * Creates {@code index} with a mapping no launch document satisfies ({@code user.name} is a number there), so
     * Elasticsearch refuses every launch indexed into it: the poison case of the indexing tests.
     */
    void createPoisonedIndex(String index) {
        es().put("/" + index, """
                {"mappings": {"properties": {"user": {"properties": {"name": {"type": "long"}}}}}}""");
    }

    @Override
    protected Path folder(ExtensionContext context) throws IOException {
        Path dir = Files.createTempDirectory(
                "dozor-" + context.getRequiredTestClass().getSimpleName() + "-");
        closeLater(() -> ProcessLogs.deleteRecursively(dir));
        return dir;
    }

    @Override
    protected void start() {
        String pgUrl = db().url();
        String esUrl = options.elasticsearchUrl != null ? options.elasticsearchUrl : es().url();
        if (options.proxied) {
            PgConnectOptions pg = PgConnectOptions.fromUri(pgUrl);
            pgProxy = TcpProxy.to(pg.getHost(), pg.getPort());
            closeLater(pgProxy);
            pgUrl = "postgresql://" + pg.getUser() + "@127.0.0.1:" + pgProxy.port() + "/" + pg.getDatabase();
            URI esUri = URI.create(esUrl);
            esProxy = TcpProxy.to(esUri.getHost(), esUri.getPort());
            closeLater(esProxy);
            esUrl = "http://127.0.0.1:" + esProxy.port();
        }
        certs = DevCertificates.generate(dir().resolve("tls"));
        env = TestServer.env(pgUrl, esUrl, certs, dir().resolve("logs"));
        if (telegram() != null) {
            env.put("DOZOR_TELEGRAM_API_URL", telegram().apiUrl());
            env.put("DOZOR_TELEGRAM_BOT_TOKEN", options.botToken);
            env.put(
                    "DOZOR_TELEGRAM_CHAT_IDS",
                    Arrays.stream(options.chatIds).mapToObj(Long::toString).collect(Collectors.joining(",")));
        }
        env.putAll(options.env);
        server = new TestServer(env);
        closeLater(server);
    }

    /** The proxy to PostgreSQL, if {@link Builder#proxied}. */
    TcpProxy pgProxy() {
        return pgProxy;
    }

    /** The proxy to Elasticsearch, if {@link Builder#proxied}. */
    TcpProxy esProxy() {
        return esProxy;
    }

    DevCertificates certs() {
        return certs;
    }

    /** The settings the server was started with, as a new map: for another server like it. */
    Map<String, String> env() {
        return new HashMap<>(env);
    }

    TestServer server() {
        return server;
    }
}
