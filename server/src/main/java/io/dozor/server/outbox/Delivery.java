package io.dozor.server.outbox;

import java.time.Duration;

/** The outcome of delivering one outbox item. */
public record Delivery(long eventPk, Outcome outcome, Duration retryAfter, String error) {
  public enum Outcome { DONE, RETRY, PARK }

  public static Delivery done(long eventPk) {
    return new Delivery(eventPk, Outcome.DONE, Duration.ZERO, null);
  }

  public static Delivery retry(long eventPk, Duration after, String error) {
    return new Delivery(eventPk, Outcome.RETRY, after, error);
  }

  /** Will never succeed as it is (e.g. a mapping error): kept with its reason, not retried. */
  public static Delivery park(long eventPk, String error) {
    return new Delivery(eventPk, Outcome.PARK, Duration.ZERO, error);
  }
}
