package io.dozor.server.setup;

import co.elastic.clients.elasticsearch._types.ElasticsearchException;
import io.dozor.server.config.ServerConfig;
import io.dozor.server.index.EsClient;
import io.dozor.server.index.TemplateInstaller;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code setup elasticsearch}: installs (or replaces, so it can run any number of times) every index
 * template Dozor owns, through the same client and {@link TemplateInstaller} as the server.
 */
public final class ElasticsearchSetup {
    static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final ServerConfig.Elasticsearch config;

    public ElasticsearchSetup(ServerConfig.Elasticsearch config) {
        this.config = config;
    }

    /** Installs every template; returns one line per template for the operator. */
    public List<String> install() {
        try (EsClient es = EsClient.connect(config.urls())) {
            List<String> done = new ArrayList<>();
            for (IndexTemplate template : IndexTemplate.values()) {
                try {
                    done.add(TemplateInstaller.install(es.async(), template, config.indexPrefix())
                            .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                            .describe());
                } catch (ExecutionException e) {
                    throw failure(template, e.getCause());
                } catch (TimeoutException e) {
                    throw new SetupException(
                            "Elasticsearch " + config.urls() + " did not answer within " + TIMEOUT.toSeconds() + " s");
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new SetupException("interrupted");
                }
            }
            return done;
        }
    }

    /** Elasticsearch answered: the template itself is refused (another node would say the same); else unreachable. */
    private SetupException failure(IndexTemplate template, Throwable err) {
        String why = SetupException.abbreviate(TemplateInstaller.reasons(err));
        boolean answered = false;
        for (Throwable t = err; t != null; t = t.getCause()) {
            answered |= t instanceof ElasticsearchException;
        }
        if (answered) {
            return new SetupException("Elasticsearch " + config.urls() + " refused the index template "
                    + template.name(config.indexPrefix()) + ": " + why);
        }
        return new SetupException("Elasticsearch unreachable " + config.urls() + ": " + why);
    }
}
