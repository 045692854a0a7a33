package io.dozor.devstack;

import static org.assertj.core.api.Assertions.assertThat;

import io.dozor.testkit.PostgresDatabase;
import org.junit.jupiter.api.Test;

/** Verifies the dev stack's check of a given DOZOR_POSTGRES_URL: one line saying why not, the password masked. */
class PostgresCheckTest {
    @Test
    void aUrlThatDoesNotAnswerIsOneLineWithoutItsPassword() {
        assertThat(PostgresCheck.problem("postgresql://nobody:secret@127.0.0.1:1/x"))
                .hasValueSatisfying(p -> {
                    assertThat(p)
                            .startsWith("cannot connect to postgresql://nobody:***@127.0.0.1:1/x")
                            .doesNotContain("secret");
                    assertThat(p.lines()).hasSize(1);
                });
    }

    @Test
    void somethingThatIsNotAPostgresUrlIsNamed() {
        assertThat(PostgresCheck.problem("mysql://root@127.0.0.1/x")).isPresent();
    }

    @Test
    void aReachableDatabaseHasNoProblem() {
        try (PostgresDatabase db = PostgresDatabase.create()) {
            assertThat(PostgresCheck.problem(db.url())).isEmpty();
        }
    }
}
