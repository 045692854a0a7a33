package io.dozor.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dozor.server.model.LaunchEvent;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class EventBatchParserTest {
  static JsonObject event() {
    return new JsonObject()
        .put("event_id", "6f1c2a9e-1b2c-4d5e-8f90-0a1b2c3d4e5f")
        .put("timestamp", "2026-11-27T10:15:03.120+03:00")
        .put("username", "ivanov")
        .put("process_name", "chrome.exe")
        .put("pid", 4312)
        .put("executable", "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe")
        .put("hostname", "PC-01");
  }

  static Buffer batch(JsonObject... events) {
    return new JsonObject().put("events", new JsonArray(List.of((Object[]) events))).toBuffer();
  }

  @Test
  void parsesTheContractExampleIgnoringUnknownFieldsAndBodyAgentId() {
    List<LaunchEvent> events = EventBatchParser.parse(batch(event().put("agent_id", "forged").put("extra", 1)));
    assertThat(events).containsExactly(new LaunchEvent(UUID.fromString("6f1c2a9e-1b2c-4d5e-8f90-0a1b2c3d4e5f"),
        OffsetDateTime.parse("2026-11-27T10:15:03.120+03:00"), "ivanov", "chrome.exe", 4312L,
        "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe", "PC-01"));
  }

  @Test
  void optionalFieldsMayBeAbsent() {
    JsonObject e = event();
    e.remove("pid");
    e.remove("executable");
    e.remove("hostname");
    assertThat(EventBatchParser.parse(batch(e)).get(0).pid()).isNull();
  }

  @Test
  void hostileButValidStringsAreKeptExactly() {
    String name = "ива\u202enov<b>&\"'; DROP TABLE events;--\r\n😀";
    assertThat(EventBatchParser.parse(batch(event().put("username", name))).get(0).username()).isEqualTo(name);
  }

  @ParameterizedTest(name = "{0} = {1} is refused")
  @CsvSource(delimiter = '|', value = {
      "event_id|not-a-uuid|events[0].event_id: must be a UUID, got \"not-a-uuid\"",
      "event_id||events[0].event_id: missing",
      "timestamp|2026-11-27 10:15:03|events[0].timestamp: must be RFC 3339 with an offset, e.g. 2026-11-27T10:15:03.120+03:00",
      "timestamp|2026-11-27T10:15:03|events[0].timestamp: must be RFC 3339 with an offset, e.g. 2026-11-27T10:15:03.120+03:00",
      "username||events[0].username: missing",
      "username|'  '|events[0].username: must not be empty",
      "process_name||events[0].process_name: missing",
  })
  void badFieldsAreNamed(String field, String value, String message) {
    JsonObject e = event();
    if (value == null) {
      e.remove(field);
    } else {
      e.put(field, value);
    }
    assertThatThrownBy(() -> EventBatchParser.parse(batch(event(), e)))
        .isInstanceOf(BadRequest.class).hasMessage(message.replace("[0]", "[1]"));
  }

  @Test
  void wrongTypesAndLimitsAreRefused() {
    assertThatThrownBy(() -> EventBatchParser.parse(batch(event().put("pid", "12"))))
        .hasMessage("events[0].pid: must be a non-negative integer");
    assertThatThrownBy(() -> EventBatchParser.parse(batch(event().put("pid", -1))))
        .hasMessage("events[0].pid: must be a non-negative integer");
    assertThatThrownBy(() -> EventBatchParser.parse(batch(event().put("username", 7))))
        .hasMessage("events[0].username: must be a string");
    assertThatThrownBy(() -> EventBatchParser.parse(batch(event().put("username", "x".repeat(257)))))
        .hasMessage("events[0].username: longer than 256 characters");
    assertThatThrownBy(() -> EventBatchParser.parse(batch(event().put("hostname", "a\0b"))))
        .hasMessage("events[0].hostname: must not contain NUL");
  }

  @Test
  void deeplyNestedJsonIsRefusedBeforeParsing() {
    String deep = "{\"events\": [" + event().encode() + "], \"x\": " + "[".repeat(17) + "]".repeat(17) + "}";
    assertThatThrownBy(() -> EventBatchParser.parse(Buffer.buffer(deep)))
        .hasMessage("body: JSON nested deeper than 16 levels");
    String bracketsInStrings = "{\"events\": [" + event().put("username", "[[[[[[[[[[[[[[[[[[\\\"{{{{").encode() + "]}";
    assertThat(EventBatchParser.parse(Buffer.buffer(bracketsInStrings))).hasSize(1);
  }

  @Test
  void bodyShapeErrorsAreNamed() {
    assertThatThrownBy(() -> EventBatchParser.parse(Buffer.buffer("")))
        .hasMessage("body: empty; expected {\"events\": [...]}");
    assertThatThrownBy(() -> EventBatchParser.parse(Buffer.buffer("{\"events\": [")))
        .hasMessage("body: not a JSON object");
    assertThatThrownBy(() -> EventBatchParser.parse(Buffer.buffer("[1]")))
        .hasMessage("body: not a JSON object");
    assertThatThrownBy(() -> EventBatchParser.parse(Buffer.buffer("{\"events\": {}}")))
        .hasMessage("events: must be an array");
    assertThatThrownBy(() -> EventBatchParser.parse(Buffer.buffer("{\"events\": []}")))
        .hasMessage("events: must not be empty");
    assertThatThrownBy(() -> EventBatchParser.parse(Buffer.buffer("{\"events\": [1]}")))
        .hasMessage("events[0]: must be an object");
    JsonObject[] tooMany = new JsonObject[EventBatchParser.MAX_EVENTS + 1];
    java.util.Arrays.fill(tooMany, event());
    assertThatThrownBy(() -> EventBatchParser.parse(batch(tooMany)))
        .hasMessage("events: at most 1000 events per batch, got 1001");
  }
}
