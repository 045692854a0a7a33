package io.dozor.server.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Verifies that the outbox gauges name a chat by its place in the settings, never by its id. */
class OutboxGaugeLabelTest {
  static final List<String> SINKS = List.of("elasticsearch", "telegram:-1001234567890", "telegram:42");

  @Test
  void aChatIsLabelledByItsPlaceAndAnUnconfiguredOneAsOther() {
    assertThat(QueryVerticle.gaugeLabel(SINKS, "elasticsearch")).isEqualTo("elasticsearch");
    assertThat(QueryVerticle.gaugeLabel(SINKS, "telegram:-1001234567890")).isEqualTo("telegram[0]");
    assertThat(QueryVerticle.gaugeLabel(SINKS, "telegram:42")).isEqualTo("telegram[1]");
    assertThat(QueryVerticle.gaugeLabel(SINKS, "telegram:-100999")).isEqualTo("telegram[other]");
  }
}
