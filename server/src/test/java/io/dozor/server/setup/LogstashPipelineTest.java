package io.dozor.server.setup;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Verifies logstash/pipeline/dozor.conf statically (no Logstash runs here): it writes where the logs template
 * applies, every field it adds is mapped, the fields it drops are not, and it reads the files logback writes.
 */
class LogstashPipelineTest {
  static final Path REPO = Path.of("..");

  static String pipeline() throws IOException {
    return Files.readString(REPO.resolve("logstash/pipeline/dozor.conf"));
  }

  static JsonObject logsTemplate() {
    return new JsonObject(IndexTemplate.LOGS.json("unused"));
  }

  static Set<String> mappedFields() {
    return logsTemplate().getJsonObject("template").getJsonObject("mappings").getJsonObject("properties").fieldNames();
  }

  static List<String> all(Pattern pattern, String text) {
    List<String> found = new ArrayList<>();
    Matcher m = pattern.matcher(text);
    while (m.find()) {
      found.add(m.group(1));
    }
    return found;
  }

  @Test
  void theOutputIndexIsCoveredByTheLogsTemplate() throws IOException {
    List<String> indices = all(Pattern.compile("index => \"([^\"]+)\""), pipeline());
    assertThat(indices).containsExactly("dozor-logs-%{+YYYY.MM.dd}");
    assertThat(logsTemplate().getJsonArray("index_patterns").getList())
        .containsExactly(IndexTemplate.LOGS_PREFIX + "-*");
    assertThat(indices.get(0)).startsWith(IndexTemplate.LOGS_PREFIX + "-");
  }

  @Test
  void everyFieldThePipelineAddsIsMappedAndTheDroppedOnesAreNot() throws IOException {
    String conf = pipeline();
    List<String> added = new ArrayList<>();
    for (String block : all(Pattern.compile("add_field => \\{([^}]*)}"), conf)) {
      added.addAll(all(Pattern.compile("\"([^\"]+)\" =>"), block));
    }
    assertThat(added).contains("log_source", "level", "service");
    assertThat(mappedFields()).containsAll(added);

    String removeList = all(Pattern.compile("remove_field => \\[([^]]*)]"), conf).get(0);
    List<String> removed = all(Pattern.compile("\"([^\"]+)\""), removeList);
    assertThat(removed).contains("@version");
    assertThat(mappedFields()).doesNotContainAnyElementsOf(removed);
  }

  @Test
  void theTcpInputReadsJsonLinesAndTheFileInputTheFilesLogbackWrites() throws IOException {
    String conf = pipeline();
    assertThat(conf.substring(conf.indexOf("tcp {"), conf.indexOf("file {"))).contains("codec => json_lines");
    String serverLogback = new String(getClass().getClassLoader().getResourceAsStream("logback.xml").readAllBytes());
    assertThat(serverLogback).contains("${LOG_DIR}/dozor-server.json<");
    assertThat(conf).contains("/dozor-server.json\"", "/dozor-agent.json\"");
    // the agent sets up its logging in code: AgentLogsTest checks its files and fields against this pipeline
    assertThat(serverLogback).contains("<logger>logger</logger><thread>thread</thread>", "\"service\":", "\"host\":");
  }
}
