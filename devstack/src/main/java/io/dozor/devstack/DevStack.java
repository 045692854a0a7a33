package io.dozor.devstack;

import io.dozor.testkit.Elasticsearch;
import io.dozor.testkit.EmbeddedPostgres;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The whole system on one machine for a developer: PostgreSQL and Elasticsearch (its own unless
 * {@code DOZOR_POSTGRES_URL} / {@code DOZOR_ELASTICSEARCH_URLS} name existing ones), a development
 * TLS certificate, the server, and a local agent enrolled with a fresh token. With no
 * {@code DOZOR_TELEGRAM_BOT_TOKEN}, notifications are written to the server's log in their exact text.
 */
@Command(name = "dozor-dev", mixinStandardHelpOptions = true,
    description = "Run Dozor locally: PostgreSQL, Elasticsearch, server and agent.")
public final class DevStack implements Callable<Integer> {
  @Option(names = "--dir", description = "state directory (default: ${DEFAULT-VALUE})", defaultValue = ".dozor-dev")
  Path dir;

  @Option(names = "--server-jar", defaultValue = "server/target/dozor-server.jar")
  Path serverJar;

  @Option(names = "--agent-jar", defaultValue = "agent/target/dozor-agent.jar")
  Path agentJar;

  @Option(names = "--watch", description = "programs the agent reports (default: ${DEFAULT-VALUE})",
      defaultValue = "chrome, browser, telegram, explorer")
  String watch;

  @Option(names = "--poll-ms", defaultValue = "1000")
  int pollMs;

  public static void main(String[] args) {
    System.exit(new CommandLine(new DevStack()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    for (Path jar : List.of(serverJar, agentJar)) {
      if (!jar.toFile().isFile()) {
        System.err.println("dozor-dev: " + jar + " not found; build first: mvn -B package -DskipTests");
        return 2;
      }
    }
    List<AutoCloseable> started = new ArrayList<>();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      System.err.println("dozor-dev: stopping");
      for (AutoCloseable c : started.reversed()) {
        try {
          c.close();
        } catch (Exception e) {
          System.err.println("dozor-dev: stopping " + c + " failed: " + e.getMessage());
        }
      }
      stopped.countDown();
    }, "dozor-dev-stop"));

    String pgUrl = env("DOZOR_POSTGRES_URL").orElseGet(() -> {
      System.err.println("dozor-dev: starting PostgreSQL in " + dir.resolve("postgres"));
      EmbeddedPostgres pg = EmbeddedPostgres.start(dir.resolve("postgres").toAbsolutePath());
      started.add(pg);
      return pg.url();
    });
    String esUrl = env("DOZOR_ELASTICSEARCH_URLS").orElseGet(() -> {
      System.err.println("dozor-dev: starting Elasticsearch (about 20-40 s)");
      Elasticsearch es = Elasticsearch.start();
      started.add(es);
      return es.url();
    });
    Stack stack = Stack.start(new Stack.Options(dir.toAbsolutePath(), serverJar.toAbsolutePath(),
        agentJar.toAbsolutePath(), pgUrl, esUrl, env("DOZOR_TELEGRAM_API_URL"), env("DOZOR_TELEGRAM_BOT_TOKEN"),
        env("DOZOR_TELEGRAM_CHAT_IDS").map(DevStack::chatIds).orElse(List.of()),
        env("DOZOR_TELEGRAM_TIME_ZONE").orElse(ZoneId.systemDefault().getId()),
        "dev-" + InetAddress.getLocalHost().getHostName(), watch, pollMs, true));
    started.add(stack);

    System.err.printf("""

        dozor-dev: running
          server         %s  (config %s)
          agent          watching [%s]  (config %s)
          PostgreSQL     %s
          Elasticsearch  %s
          notifications  %s

        Try it:  cp /bin/sleep /tmp/chrome && /tmp/chrome 30 &
        Stop with Ctrl-C.

        """, stack.url(), stack.serverConfig(), watch, stack.agentConfig(), pgUrl, esUrl,
        env("DOZOR_TELEGRAM_BOT_TOKEN").isPresent() ? "Telegram" : "the server log (no DOZOR_TELEGRAM_BOT_TOKEN)");
    stopped.await();
    return 0;
  }

  private static Optional<String> env(String name) {
    return Optional.ofNullable(System.getenv(name)).filter(v -> !v.isBlank());
  }

  private static List<Long> chatIds(String csv) {
    return Arrays.stream(csv.split(",")).map(String::trim).filter(s -> !s.isEmpty()).map(Long::parseLong).toList();
  }
}
