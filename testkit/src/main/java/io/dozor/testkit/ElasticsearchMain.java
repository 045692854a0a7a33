package io.dozor.testkit;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * Starts a single Elasticsearch node for scripts: prints its URL on one line of stdout, then runs
 * until killed (SIGTERM/SIGINT stop the node and delete its directory).
 *
 * <p>Arguments (all optional): {@code --heap 1g}, {@code --timeout-seconds 180}, {@code --zip
 * path}, {@code --setting key=value} (repeatable). Example:
 *
 * <pre>ES_URL=$(java -cp "$CP" io.dozor.testkit.ElasticsearchMain | head -1)</pre>
 * (read only the first line: the process keeps running).
 */
public final class ElasticsearchMain {
    private ElasticsearchMain() {}

    public static void main(String[] args) throws InterruptedException {
        Elasticsearch.Options options = Elasticsearch.Options.defaults();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            String value = i + 1 < args.length ? args[i + 1] : null;
            switch (arg) {
                case "--heap" -> options = options.withHeap(require(arg, value));
                case "--timeout-seconds" ->
                    options = options.withStartupTimeout(Duration.ofSeconds(Long.parseLong(require(arg, value))));
                case "--zip" -> options = options.withZip(java.nio.file.Path.of(require(arg, value)));
                case "--setting" -> {
                    String kv = require(arg, value);
                    int eq = kv.indexOf('=');
                    if (eq <= 0) {
                        throw new IllegalArgumentException("--setting expects key=value, got " + kv);
                    }
                    options = options.withSetting(kv.substring(0, eq), kv.substring(eq + 1));
                }
                default ->
                    throw new IllegalArgumentException("unknown argument " + arg
                            + " (known: --heap SIZE, --timeout-seconds N, --zip PATH, --setting KEY=VALUE)");
            }
            i++;
        }
        Elasticsearch node = Elasticsearch.start(options); // its shutdown hook stops it and deletes the directory
        System.out.println(node.url());
        System.out.flush();
        new CountDownLatch(1).await();
    }

    private static String require(String arg, String value) {
        if (value == null) {
            throw new IllegalArgumentException(arg + " needs a value");
        }
        return value;
    }
}
