package io.dozor.server;

import io.dozor.server.auth.AgentTokens;
import io.dozor.server.config.ConfigLoader;
import io.dozor.server.config.ServerConfig;
import io.dozor.testkit.DevCertificates;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** A real server process-in-a-test: real config loading, real TLS, its own Vert.x. */
final class TestServer implements AutoCloseable {
    static final String SECRET = "test-Kq8vZr2LmX9pWd4NcY7bHs1FgJ6eTa5u";

    final Vertx vertx;
    final ServerConfig config;
    final DozorServer server;
    final HttpClient http;

    TestServer(Map<String, String> env) {
        this(env, Optional.empty(), true);
    }

    /** With a YAML settings file too (the environment overrides it). */
    TestServer(Map<String, String> env, Optional<Path> yaml) {
        this(env, yaml, true);
    }

    TestServer(Map<String, String> env, boolean metrics) {
        this(env, Optional.empty(), metrics);
    }

    /**
     * {@code metrics = false} for a second server in the same JVM: Vert.x keeps one default metrics
     * registry per process and closing its owner would close it for the first server too.
     */
    TestServer(Map<String, String> env, Optional<Path> yaml, boolean metrics) {
        config = new ConfigLoader(env).load(yaml);
        vertx = DozorServer.vertx(metrics ? io.dozor.server.ops.Meters.vertxOptions() : new VertxOptions(), config);
        server = DozorServer.start(vertx, config).await();
        http = client(config.http().tlsCert().map(cert -> cert.resolveSibling("ca.pem")));
    }

    /** Settings every test server shares; tests add or replace entries. */
    static Map<String, String> env(String pgUrl, String esUrl, DevCertificates certs, Path logDir) {
        Map<String, String> env = new HashMap<>();
        env.put("DOZOR_HTTP_HOST", "127.0.0.1");
        env.put("DOZOR_HTTP_PORT", "0");
        env.put("DOZOR_HTTP_INSTANCES", "1");
        env.put("DOZOR_OPS_PORT", "0");
        env.put("DOZOR_HTTP_TLS_CERT", certs.serverCert().toString());
        env.put("DOZOR_HTTP_TLS_KEY", certs.serverKey().toString());
        env.put("DOZOR_AUTH_TOKEN_SECRET", SECRET);
        env.put("DOZOR_POSTGRES_URL", pgUrl);
        env.put("DOZOR_ELASTICSEARCH_URLS", esUrl);
        env.put(
                "DOZOR_ELASTICSEARCH_INDEX_PREFIX",
                "dozor-test-" + UUID.randomUUID().toString().substring(0, 8));
        env.put("DOZOR_LOG_DIR", logDir.toString());
        return env;
    }

    URI uri(String path) {
        return URI.create((config.http().plain() ? "http" : "https") + "://127.0.0.1:" + server.port() + path);
    }

    HttpResponse<String> post(String path, String token, String body) {
        var request = HttpRequest.newBuilder(uri(path))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return send(request.build());
    }

    HttpResponse<String> get(String path) {
        return send(HttpRequest.newBuilder(uri(path))
                .timeout(Duration.ofSeconds(30))
                .GET()
                .build());
    }

    /** A GET on the ops listener (plain HTTP): {@code /metrics}, {@code /readyz}, {@code /healthz}. */
    HttpResponse<String> ops(String path) {
        return send(HttpRequest.newBuilder(URI.create("http://" + config.ops().host() + ":" + server.opsPort() + path))
                .version(java.net.http.HttpClient.Version.HTTP_1_1)
                .timeout(Duration.ofSeconds(30))
                .GET()
                .build());
    }

    /**
     * The value of one series scraped from {@code /metrics} (name with its labels as Prometheus writes them,
     * sorted); 0 when absent.
     */
    double metric(String series) {
        String prefix = series + " ";
        return ops("/metrics")
                .body()
                .lines()
                .filter(l -> l.startsWith(prefix))
                .mapToDouble(
                        l -> Double.parseDouble(l.substring(prefix.length()).trim()))
                .sum();
    }

    private HttpResponse<String> send(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A token as `token create` makes it: registered in PostgreSQL, signed with the configured secret. */
    String token(String agentId) {
        return TokenAdmin.create(config, agentId, AgentTokens.Kind.AGENT);
    }

    String adminToken(String name) {
        return TokenAdmin.create(config, name, AgentTokens.Kind.ADMIN);
    }

    /** A token signed by someone else's key, never registered. */
    static String foreignToken(Vertx vertx, String secret, String algorithm, String agentId) {
        JWTAuth auth = JWTAuth.create(
                vertx,
                new io.vertx.ext.auth.jwt.JWTAuthOptions()
                        .addPubSecKey(new io.vertx.ext.auth.PubSecKeyOptions()
                                .setAlgorithm(algorithm)
                                .setBuffer(secret)));
        return auth.generateToken(
                new io.vertx.core.json.JsonObject()
                        .put(AgentTokens.CLAIM_AGENT, agentId)
                        .put(AgentTokens.CLAIM_TOKEN_ID, UUID.randomUUID().toString()),
                new io.vertx.ext.auth.JWTOptions()
                        .setAlgorithm(algorithm)
                        .setIssuer(AgentTokens.ISSUER)
                        .addAudience(AgentTokens.AUDIENCE));
    }

    static final long VERTX_CLOSE_TIMEOUT_S = 30;

    static HttpClient client(Optional<Path> caPem) {
        var builder = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
        caPem.ifPresent(ca -> builder.sslContext(DevCertificates.trusting(ca)));
        return builder.build();
    }

    /**
     * Closes the server (bounded by {@code DozorServer.CLOSE_TIMEOUT}) and its Vert.x. Vert.x's close waits for the
     * PostgreSQL pool's close again, which once never completed after ResilienceTest's outages (a hang of the whole
     * suite in CI); it is bounded here, loudly, so one stuck pool cannot stop the build. The cause is open.
     */
    @Override
    public void close() {
        try {
            server.close().await();
        } finally {
            try {
                vertx.close().await(VERTX_CLOSE_TIMEOUT_S, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                System.err.println("WARNING: Vert.x did not close within " + VERTX_CLOSE_TIMEOUT_S
                        + " s; its threads are left behind");
            }
        }
    }
}
