package io.dozor.server.index;

import static org.assertj.core.api.Assertions.assertThat;

import co.elastic.clients.elasticsearch._types.ElasticsearchException;
import co.elastic.clients.elasticsearch._types.ErrorResponse;
import java.net.ConnectException;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

class ElasticsearchSinkTest {
    static ElasticsearchException answered(int status) {
        return new ElasticsearchException(
                "bulk",
                ErrorResponse.of(r ->
                        r.status(status).error(e -> e.type("some_exception").reason("because"))));
    }

    /** An outage retries the whole batch; a request ES refuses as bad is searched for the item at fault. */
    @Test
    void outagesAreToldFromBadRequests() {
        for (int status : new int[] {401, 403, 429, 500, 502, 503}) {
            assertThat(ElasticsearchSink.outage(new CompletionException(answered(status))))
                    .as("" + status)
                    .isTrue();
        }
        assertThat(ElasticsearchSink.outage(new CompletionException(new ConnectException("Connection refused"))))
                .isTrue();
        for (int status : new int[] {400, 413}) {
            assertThat(ElasticsearchSink.outage(new CompletionException(answered(status))))
                    .as("" + status)
                    .isFalse();
        }
        assertThat(ElasticsearchSink.outage(new java.time.DateTimeException("Invalid value for Year")))
                .isFalse();
        // the client closing under a drain at shutdown (seen in the fleet benchmark's restart): an outage, never the
        // batch's fault
        assertThat(ElasticsearchSink.outage(new CompletionException(
                        new org.apache.hc.core5.reactor.IOReactorShutdownException("I/O reactor has been shut down"))))
                .isTrue();
        assertThat(ElasticsearchSink.outage(new IllegalStateException("Connection pool shut down")))
                .isTrue();
        assertThat(ElasticsearchSink.outage(new IllegalStateException("something else")))
                .isFalse();
    }
}
