package io.dozor.server;

import io.dozor.testkit.DevCertificates;
import io.dozor.testkit.Elasticsearch;
import io.dozor.testkit.FakeTelegram;
import io.dozor.testkit.PostgresDatabase;
import io.dozor.testkit.ProcessLogs;
import io.dozor.testkit.TcpProxy;
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
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One test class's running system: a fresh PostgreSQL database, the shared Elasticsearch node, a fake Bot API if
 * asked for, and a {@link TestServer} on them with {@link TestServer#env the shared settings} plus the class's own.
 * Registered as {@code @RegisterExtension static final ServerStack stack = ServerStack.builder()...build();}, it
 * starts before the class's {@code @BeforeAll} methods and closes after its {@code @AfterAll} ones: the server,
 * then the proxies, the fake Bot API and the database (what a failed start left unmade is skipped).
 */
final class ServerStack implements BeforeAllCallback, AfterAllCallback {
  private final Builder options;
  private Path dir;
  private PostgresDatabase db;
  private FakeTelegram telegram;
  private TcpProxy pgProxy;
  private TcpProxy esProxy;
  private DevCertificates certs;
  private Map<String, String> env;
  private TestServer server;

  private ServerStack(Builder options) {
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

  @Override
  public void beforeAll(ExtensionContext context) throws IOException {
    dir = Files.createTempDirectory("dozor-" + context.getRequiredTestClass().getSimpleName() + "-");
    db = PostgresDatabase.create();
    String pgUrl = db.url();
    String esUrl = options.elasticsearchUrl != null ? options.elasticsearchUrl : es().url();
    if (options.proxied) {
      PgConnectOptions pg = PgConnectOptions.fromUri(db.url());
      pgProxy = TcpProxy.to(pg.getHost(), pg.getPort());
      pgUrl = "postgresql://" + pg.getUser() + "@127.0.0.1:" + pgProxy.port() + "/" + pg.getDatabase();
      URI esUri = URI.create(esUrl);
      esProxy = TcpProxy.to(esUri.getHost(), esUri.getPort());
      esUrl = "http://127.0.0.1:" + esProxy.port();
    }
    certs = DevCertificates.generate(dir.resolve("tls"));
    env = TestServer.env(pgUrl, esUrl, certs, dir.resolve("logs"));
    if (options.botToken != null) {
      telegram = FakeTelegram.start(options.botToken);
      env.put("DOZOR_TELEGRAM_API_URL", telegram.apiUrl());
      env.put("DOZOR_TELEGRAM_BOT_TOKEN", options.botToken);
      env.put("DOZOR_TELEGRAM_CHAT_IDS",
          Arrays.stream(options.chatIds).mapToObj(Long::toString).collect(Collectors.joining(",")));
    }
    env.putAll(options.env);
    server = new TestServer(env);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    TestServer.closeAll(server, pgProxy, esProxy, telegram, db, () -> ProcessLogs.deleteRecursively(dir));
  }

  /** A folder of the test class's own (the server's TLS files and logs are in it); deleted after the class. */
  Path dir() {
    return dir;
  }

  PostgresDatabase db() {
    return db;
  }

  /** The shared Elasticsearch node, started on first use (the server may reach it through a proxy or not at all). */
  Elasticsearch es() {
    return Elasticsearch.shared();
  }

  /** The fake Bot API, if {@link Builder#telegram} asked for one. */
  FakeTelegram telegram() {
    return telegram;
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
