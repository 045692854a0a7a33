package io.dozor.server.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AgentClassTest {
    final AgentClass classes = new AgentClass();

    @Test
    void theClassIsTheIdsLeadingLettersLowercased() {
        assertThat(classes.of("PC-01")).isEqualTo("pc");
        assertThat(classes.of("pc17")).isEqualTo("pc");
        assertThat(classes.of("ACC-WS-3")).isEqualTo("acc");
        assertThat(classes.of("7-UP")).isEqualTo(AgentClass.OTHER);
        assertThat(classes.of("")).isEqualTo(AgentClass.OTHER);
        assertThat(classes.of("ПК-01")).as("not ASCII letters").isEqualTo(AgentClass.OTHER);
        assertThat(classes.of("a".repeat(100))).hasSize(AgentClass.MAX_LENGTH);
    }

    @Test
    void classesAreBoundedWhateverIdsAgentsHave() {
        assertThat(classes.of("PC-01")).isEqualTo("pc");
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 3 * AgentClass.MAX_CLASSES; i++) {
            // "bound" and i in base 26 written with the letters a-z: a distinct class per i
            String letters = Integer.toString(i, 26)
                    .chars()
                    .mapToObj(c -> String.valueOf((char) ('a' + Character.digit(c, 26))))
                    .reduce("bound", String::concat);
            seen.add(classes.of(letters + "-" + i));
        }
        assertThat(seen).contains(AgentClass.OTHER);
        assertThat(seen.size()).isLessThanOrEqualTo(AgentClass.MAX_CLASSES + 1);
        assertThat(classes.of("PC-99"))
                .as("a class seen before the cap stays itself")
                .isEqualTo("pc");
    }
}
