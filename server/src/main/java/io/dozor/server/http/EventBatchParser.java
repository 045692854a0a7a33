package io.dozor.server.http;

import io.dozor.server.bus.Messages.Heartbeat;
import io.dozor.server.model.LaunchEvent;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Turns a {@code POST /api/v1/events} body into launch events, or a {@link BadRequest} naming the
 * first bad field. All or nothing: one bad event rejects the batch. Unknown fields are ignored, and
 * so is any {@code agent_id}: the agent is who the token says.
 */
public final class EventBatchParser {
  public static final int MAX_EVENTS = 1_000;
  static final int MAX_NAME = 256;
  static final int MAX_PATH = 4_096;
  /** Deeper JSON is refused before it is parsed: no legitimate body nests beyond a few levels. */
  static final int MAX_DEPTH = 16;

  private EventBatchParser() {}

  public static List<LaunchEvent> parse(Buffer body) {
    if (body == null || body.length() == 0) {
      throw new BadRequest("body", "empty; expected {\"events\": [...]}");
    }
    JsonObject root = object(body);
    Object events = root.getValue("events");
    if (!(events instanceof JsonArray array)) {
      throw new BadRequest("events", "must be an array");
    }
    if (array.isEmpty()) {
      throw new BadRequest("events", "must not be empty");
    }
    if (array.size() > MAX_EVENTS) {
      throw new BadRequest("events", "at most " + MAX_EVENTS + " events per batch, got " + array.size());
    }
    List<LaunchEvent> parsed = new ArrayList<>(array.size());
    for (int i = 0; i < array.size(); i++) {
      String at = "events[" + i + "]";
      if (!(array.getValue(i) instanceof JsonObject event)) {
        throw new BadRequest(at, "must be an object");
      }
      parsed.add(event(at, event));
    }
    return parsed;
  }

  private static LaunchEvent event(String at, JsonObject e) {
    return new LaunchEvent(
        uuid(at + ".event_id", e.getValue("event_id")),
        timestamp(at + ".timestamp", e.getValue("timestamp")),
        text(at + ".username", e.getValue("username"), MAX_NAME, true),
        text(at + ".process_name", e.getValue("process_name"), MAX_NAME, true),
        pid(at + ".pid", e.getValue("pid")),
        text(at + ".executable", e.getValue("executable"), MAX_PATH, false),
        text(at + ".hostname", e.getValue("hostname"), MAX_NAME, false));
  }

  /**
   * A heartbeat body: {@code {"version": "0.1.0", "hostname": "PC-01", "spool_depth": 0,
   * "dropped_events": 0}}; version and hostname are required, the counters default to 0.
   */
  public static Heartbeat heartbeat(String agentId, Buffer body) {
    JsonObject root = object(body);
    return new Heartbeat(agentId,
        text("hostname", root.getValue("hostname"), MAX_NAME, true),
        text("version", root.getValue("version"), MAX_NAME, true),
        counter("spool_depth", root.getValue("spool_depth")),
        counter("dropped_events", root.getValue("dropped_events")));
  }

  private static long counter(String field, Object value) {
    Long n = pid(field, value);
    return n == null ? 0 : n;
  }

  private static JsonObject object(Buffer body) {
    if (body == null || body.length() == 0) {
      throw new BadRequest("body", "empty; expected a JSON object");
    }
    checkDepth(body);
    try {
      return body.toJsonObject();
    } catch (DecodeException | ClassCastException e) {
      throw new BadRequest("body", "not a JSON object");
    }
  }

  /** One pass over the bytes counting brackets outside strings; cheaper than any parse. */
  static void checkDepth(Buffer body) {
    int depth = 0;
    boolean inString = false;
    boolean escaped = false;
    for (int i = 0; i < body.length(); i++) {
      byte b = body.getByte(i);
      if (inString) {
        if (escaped) {
          escaped = false;
        } else if (b == '\\') {
          escaped = true;
        } else if (b == '"') {
          inString = false;
        }
      } else if (b == '"') {
        inString = true;
      } else if (b == '{' || b == '[') {
        if (++depth > MAX_DEPTH) {
          throw new BadRequest("body", "JSON nested deeper than " + MAX_DEPTH + " levels");
        }
      } else if (b == '}' || b == ']') {
        depth--;
      }
    }
  }

  private static UUID uuid(String field, Object value) {
    if (!(value instanceof String s)) {
      throw new BadRequest(field, value == null ? "missing" : "must be a UUID string");
    }
    try {
      UUID id = UUID.fromString(s);
      if (!id.toString().equalsIgnoreCase(s)) {
        throw new IllegalArgumentException();
      }
      return id;
    } catch (IllegalArgumentException e) {
      throw new BadRequest(field, "must be a UUID, got \"" + clip(s) + "\"");
    }
  }

  private static OffsetDateTime timestamp(String field, Object value) {
    if (!(value instanceof String s)) {
      throw new BadRequest(field, value == null ? "missing" : "must be an RFC 3339 string");
    }
    try {
      return OffsetDateTime.parse(s, DateTimeFormatter.ISO_OFFSET_DATE_TIME);
    } catch (DateTimeParseException e) {
      throw new BadRequest(field, "must be RFC 3339 with an offset, e.g. 2026-11-27T10:15:03.120+03:00");
    }
  }

  private static String text(String field, Object value, int max, boolean required) {
    if (value == null) {
      if (required) {
        throw new BadRequest(field, "missing");
      }
      return null;
    }
    if (!(value instanceof String s)) {
      throw new BadRequest(field, "must be a string");
    }
    if (required && s.isBlank()) {
      throw new BadRequest(field, "must not be empty");
    }
    if (s.length() > max) {
      throw new BadRequest(field, "longer than " + max + " characters");
    }
    if (s.indexOf('\0') >= 0) {
      throw new BadRequest(field, "must not contain NUL");
    }
    return s;
  }

  private static Long pid(String field, Object value) {
    if (value == null) {
      return null;
    }
    if (!(value instanceof Integer || value instanceof Long) || ((Number) value).longValue() < 0) {
      throw new BadRequest(field, "must be a non-negative integer");
    }
    return ((Number) value).longValue();
  }

  private static String clip(String s) {
    return s.length() > 60 ? s.substring(0, 60) + "…" : s;
  }
}
