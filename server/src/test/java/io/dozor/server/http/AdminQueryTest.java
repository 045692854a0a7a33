package io.dozor.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.MultiMap;
import java.time.OffsetDateTime;
import org.junit.jupiter.api.Test;

/** Verifies how the admin API reads its time filters, as operators type them into URLs. */
class AdminQueryTest {
    static MultiMap params(String name, String value) {
        return MultiMap.caseInsensitiveMultiMap().add(name, value);
    }

    @Test
    void anOffsetPastedWithAnUnencodedPlusIsStillThatOffset() {
        // ?from=2026-11-27T10:00:00+03:00 in a URL decodes to a space where the plus was
        assertThat(AdminRoutes.query(params("from", "2026-11-27T10:00:00 03:00"))
                        .from())
                .isEqualTo(OffsetDateTime.parse("2026-11-27T10:00:00+03:00"));
        assertThat(AdminRoutes.query(params("to", "2026-11-27T07:00:00Z")).to())
                .isEqualTo(OffsetDateTime.parse("2026-11-27T07:00:00Z"));
    }

    @Test
    void aTimeWithoutOffsetIsRefusedNamingTheParameter() {
        assertThatThrownBy(() -> AdminRoutes.query(params("from", "2026-11-27 10:00")))
                .isInstanceOf(BadRequest.class)
                .hasMessageContaining("%2B03:00");
    }
}
