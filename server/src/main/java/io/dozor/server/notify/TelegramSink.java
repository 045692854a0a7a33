package io.dozor.server.notify;

import io.dozor.server.config.ServerConfig;
import io.dozor.server.model.StoredEvent;
import io.dozor.server.outbox.Backoff;
import io.dozor.server.outbox.Delivery;
import io.dozor.server.outbox.Failures;
import io.dozor.server.outbox.OutboxItem;
import io.dozor.server.outbox.Sink;
import io.dozor.server.store.Sql;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Feeds one chat from its outbox rows, deciding at delivery time and inside the claiming transaction
 * (so a restart decides the same): filters and the chat's mutes drop a launch; during the chat's quiet
 * hours launches are dropped or held (recorded in {@code notify_held}, retried when the window ends);
 * a pair below its threshold, or within its cooldown, is not notified. What remains goes out one
 * message per launch, in order, at the chat's rate; a backlog larger than {@code digest_after} or
 * launches released from quiet hours go out as one digest instead. A 429 defers by its
 * {@code retry_after}; 5xx and network errors back off; 403 and 400s about the chat (not found, bot
 * blocked) park; another 400 parks only the message refused, as does a launch whose text cannot be made.
 */
final class TelegramSink implements Sink {
  private static final Logger log = LoggerFactory.getLogger(TelegramSink.class);
  static final String PREFIX = "telegram:";
  static final int BATCH = 1000;

  private final BotApi api;
  private final long chatId;
  private final MessageFormatter formatter;
  private final ServerConfig.Telegram config;
  private final Supplier<Filters> filters;
  private final Clock clock;
  private boolean gone;

  TelegramSink(BotApi api, long chatId, MessageFormatter formatter, ServerConfig.Telegram config,
               Supplier<Filters> filters, Clock clock) {
    this.api = api;
    this.chatId = chatId;
    this.formatter = formatter;
    this.config = config;
    this.filters = filters;
    this.clock = clock;
  }

  static String sinkName(long chatId) {
    return PREFIX + chatId;
  }

  @Override
  public String name() {
    return sinkName(chatId);
  }

  /** Large: a backlog is claimed whole, so it can become one digest rather than fall behind. */
  @Override
  public int batchSize() {
    return BATCH;
  }

  @Override
  public Future<List<Delivery>> deliver(List<OutboxItem> items) {
    return Future.failedFuture(new IllegalStateException("the telegram sink records its state in the claiming transaction"));
  }

  @Override
  public Future<List<Delivery>> deliver(SqlConnection tx, List<OutboxItem> items) {
    Instant now = clock.instant();
    Long[] pks = items.stream().map(i -> i.event().id()).toArray(Long[]::new);
    Future<Set<Long>> held = tx.preparedQuery(Sql.NOTIFY_HELD_LIST).execute(pkTuple(pks)).map(rows -> {
      Set<Long> out = new HashSet<>();
      rows.forEach(r -> out.add(r.getLong("event_pk")));
      return out;
    });
    return held.compose(heldPks -> Mute.active(tx, chatId).compose(mutes -> {
      Filters current = filters.get();
      List<Delivery> out = new ArrayList<>(items.size());
      List<OutboxItem> candidates = new ArrayList<>();
      for (OutboxItem item : items) {
        StoredEvent e = item.event();
        if (!current.passes(e) || mutes.stream().anyMatch(m -> m.matches(e))) {
          out.add(Delivery.done(e.id()));
        } else {
          candidates.add(item);
        }
      }
      Optional<Instant> quietUntil = config.quietHours().quietUntil(chatId, now, config.timeZone());
      if (quietUntil.isPresent() && !candidates.isEmpty()) {
        return quiet(tx, candidates, quietUntil.get(), now, out);
      }
      return overThreshold(tx, candidates, out)
          .compose(over -> outOfCooldown(tx, over, out))
          .compose(notify -> send(tx, notify, heldPks, out));
    })).compose(out -> tx.preparedQuery(Sql.NOTIFY_HELD_REMOVE).execute(pkTuple(
        out.stream().filter(d -> d.outcome() != Delivery.Outcome.RETRY).map(Delivery::eventPk).toArray(Long[]::new)))
        .map(out));
  }

  /** (sink, event pks); built explicitly, as {@code Tuple.of(x, array)} would spread the array. */
  private Tuple pkTuple(Long[] pks) {
    return Tuple.tuple().addString(name()).addArrayOfLong(pks);
  }

  /** Quiet hours: dropped, or held until the window ends and then sent as a digest. */
  private Future<List<Delivery>> quiet(SqlConnection tx, List<OutboxItem> candidates, Instant until, Instant now,
                                       List<Delivery> out) {
    if (config.quietDrop()) {
      candidates.forEach(i -> out.add(Delivery.done(i.event().id())));
      return Future.succeededFuture(out);
    }
    Duration wait = Duration.between(now, until);
    candidates.forEach(i -> out.add(Delivery.held(i.event().id(), wait, "held: quiet hours until " + until)));
    Long[] pks = candidates.stream().map(i -> i.event().id()).toArray(Long[]::new);
    return tx.preparedQuery(Sql.NOTIFY_HELD_ADD).execute(pkTuple(pks)).map(out);
  }

  /** The items whose pair launched at least N times within the window ending at their launch; the rest are done. */
  private Future<List<OutboxItem>> overThreshold(SqlConnection tx, List<OutboxItem> items, List<Delivery> out) {
    if (config.thresholdCount() <= 1 || items.isEmpty()) {
      return Future.succeededFuture(items);
    }
    return tx.preparedQuery(Sql.NOTIFY_PAIR_COUNTS).execute(Tuple.of(
            items.stream().map(i -> i.event().launch().username()).toArray(String[]::new),
            items.stream().map(i -> i.event().launch().processName()).toArray(String[]::new),
            items.stream().map(i -> i.event().launch().timestamp()).toArray(OffsetDateTime[]::new),
            config.thresholdWindow().toMillis()))
        .map(rows -> {
          List<OutboxItem> over = new ArrayList<>();
          for (Row row : rows) {
            OutboxItem item = items.get(row.getLong("ord").intValue() - 1);
            if (row.getLong("n") >= config.thresholdCount()) {
              over.add(item);
            } else {
              out.add(Delivery.done(item.event().id()));
            }
          }
          return over;
        });
  }

  /** Drops (as done) the items whose pair was notified less than the cooldown before their launch. */
  private Future<List<OutboxItem>> outOfCooldown(SqlConnection tx, List<OutboxItem> items, List<Delivery> out) {
    Set<Long> kept = new HashSet<>();
    items.forEach(i -> kept.add(i.event().id()));
    Future<List<OutboxItem>> result;
    if (config.cooldown().isZero() || items.isEmpty()) {
      result = Future.succeededFuture(items);
    } else {
      result = tx.preparedQuery(Sql.NOTIFY_PAIRS_LAST).execute(Tuple.of(chatId,
              items.stream().map(i -> i.event().launch().username()).toArray(String[]::new),
              items.stream().map(i -> i.event().launch().processName()).toArray(String[]::new)))
          .map(rows -> {
            Map<List<String>, OffsetDateTime> last = new HashMap<>();
            rows.forEach(r -> last.put(List.of(r.getString("username"), r.getString("process_name")),
                r.getOffsetDateTime("last_notified")));
            List<OutboxItem> pass = new ArrayList<>();
            for (OutboxItem item : items) {
              var launch = item.event().launch();
              List<String> pair = List.of(launch.username(), launch.processName());
              OffsetDateTime previous = last.get(pair);
              if (previous != null && launch.timestamp().isBefore(previous.plus(config.cooldown()))) {
                continue;
              }
              last.put(pair, launch.timestamp());
              pass.add(item);
            }
            return pass;
          });
    }
    return result.map(pass -> {
      Set<Long> passing = new HashSet<>();
      pass.forEach(i -> passing.add(i.event().id()));
      items.stream().filter(i -> !passing.contains(i.event().id())).forEach(i -> out.add(Delivery.done(i.event().id())));
      return pass;
    });
  }

  private Future<List<Delivery>> send(SqlConnection tx, List<OutboxItem> candidates, Set<Long> heldPks,
                                      List<Delivery> out) {
    // every text is made before anything is sent: an item that cannot be rendered is parked alone,
    // and a failure here can never follow messages already sent (which a redelivery would repeat)
    List<OutboxItem> notify = new ArrayList<>(candidates.size());
    List<String> texts = new ArrayList<>(candidates.size());
    for (OutboxItem item : candidates) {
      try {
        texts.add(formatter.format(item.event()));
        notify.add(item);
      } catch (RuntimeException e) {
        log.error("cannot render a notification, parking it [chat_id={}, event_pk={}, error={}]", chatId,
            item.event().id(), e.toString());
        out.add(Delivery.park(item.event().id(), Delivery.Reason.RENDER, "cannot render the message: " + Failures.describe(e)));
      }
    }
    if (notify.isEmpty()) {
      return Future.succeededFuture(out);
    }
    boolean released = notify.stream().anyMatch(i -> heldPks.contains(i.event().id()));
    if (released || notify.size() > config.digestAfter()) {
      String text = formatter.digest(notify.stream().map(OutboxItem::event).toList());
      return api.sendMessage(chatId, text).compose(result -> {
        List<OutboxItem> sent = new ArrayList<>();
        for (OutboxItem item : notify) {
          out.add(outcome(item, result));
          if (result.sent()) {
            sent.add(item);
          }
        }
        return remember(tx, sent).map(out);
      });
    }
    return sendEach(notify, texts, 0, out, new ArrayList<>()).compose(sent -> remember(tx, sent)).map(out);
  }

  /**
   * Sends one message per launch, in order. A message refused alone (a 400 not about the chat) is
   * parked alone and the next is sent; when one is refused for now (429, 5xx) or the chat is gone, the
   * rest share its fate unsent.
   */
  private Future<List<OutboxItem>> sendEach(List<OutboxItem> items, List<String> texts, int index,
                                            List<Delivery> out, List<OutboxItem> sent) {
    if (index == items.size()) {
      return Future.succeededFuture(sent);
    }
    OutboxItem item = items.get(index);
    return api.sendMessage(chatId, texts.get(index)).compose(result -> {
      if (result.sent() || result.kind() == BotApi.Result.Kind.REFUSED) {
        out.add(outcome(item, result));
        if (result.sent()) {
          sent.add(item);
        }
        return sendEach(items, texts, index + 1, out, sent);
      }
      for (int i = index; i < items.size(); i++) {
        out.add(outcome(items.get(i), result));
      }
      return Future.succeededFuture(sent);
    });
  }

  private Delivery outcome(OutboxItem item, BotApi.Result result) {
    long pk = item.event().id();
    return switch (result.kind()) {
      case SENT -> {
        if (gone) {
          log.info("telegram chat reachable again [chat_id={}]", chatId);
          gone = false;
        }
        yield Delivery.done(pk);
      }
      case RETRY -> Delivery.retry(pk,
          result.retryAfter() != null ? result.retryAfter() : Backoff.after(item.attempts()), result.error());
      case REFUSED -> {
        log.warn("telegram refused a message, parking it [chat_id={}, event_pk={}, reason={}]", chatId, pk,
            result.error());
        yield Delivery.park(pk, Delivery.Reason.REFUSED, result.error());
      }
      case GONE -> {
        if (!gone) {
          log.error("telegram refuses messages to this chat: parking them [chat_id={}, reason={}]", chatId, result.error());
          gone = true;
        }
        yield Delivery.park(pk, Delivery.Reason.CHAT_GONE, result.error());
      }
    };
  }

  /** Records the launch time of each notified pair's newest launch (the cooldown's start). */
  private Future<Void> remember(SqlConnection tx, List<OutboxItem> sent) {
    if (config.cooldown().isZero() || sent.isEmpty()) {
      return Future.succeededFuture();
    }
    Map<List<String>, OffsetDateTime> newest = new LinkedHashMap<>();
    for (OutboxItem item : sent) {
      var l = item.event().launch();
      newest.merge(List.of(l.username(), l.processName()), l.timestamp(), (a, b) -> a.isAfter(b) ? a : b);
    }
    return tx.preparedQuery(Sql.NOTIFY_PAIRS_SAVE).execute(Tuple.of(chatId,
            newest.keySet().stream().map(k -> k.get(0)).toArray(String[]::new),
            newest.keySet().stream().map(k -> k.get(1)).toArray(String[]::new),
            newest.values().toArray(OffsetDateTime[]::new)))
        .mapEmpty();
  }
}
