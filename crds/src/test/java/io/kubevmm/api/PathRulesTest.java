package io.kubevmm.api;

import io.kubevmm.api.validation.PathRules;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Which user-named paths a spec may carry at all: relative names inside the node's image directory. */
class PathRulesTest {

    @Test
    void plainRelativeNamesAndSubdirectoriesAreAccepted() {
        assertThat(PathRules.problem("vmlinuz")).isEmpty();
        assertThat(PathRules.problem("initrd.img")).isEmpty();
        assertThat(PathRules.problem("debian/12/base-v1.2+3.qcow2")).isEmpty();
        assertThat(PathRules.problem("_private_2.raw")).isEmpty();
    }

    @Test
    void absolutePathsAreRefusedWhateverTheyPointAt() {
        assertThat(PathRules.problem("/etc/shadow")).hasValueSatisfying(m -> assertThat(m).startsWith("\"/etc/shadow\" is an absolute path"));
        assertThat(PathRules.problem("/dev/sda")).hasValueSatisfying(m -> assertThat(m).contains("absolute path"));
        assertThat(PathRules.problem("/var/lib/kubevmm/images/vmlinuz")).isPresent();
    }

    @Test
    void dotDotIsRefusedAnywhere() {
        assertThat(PathRules.problem("..")).hasValueSatisfying(m -> assertThat(m).contains("contains '..'"));
        assertThat(PathRules.problem("../../etc/shadow")).hasValueSatisfying(m -> assertThat(m).contains("contains '..'"));
        assertThat(PathRules.problem("a/../../b")).hasValueSatisfying(m -> assertThat(m).contains("contains '..'"));
        assertThat(PathRules.problem("a/..")).isPresent();
    }

    @Test
    void emptyHiddenOptionLikeAndSpecialCharacterNamesAreRefused() {
        assertThat(PathRules.problem("")).hasValueSatisfying(m -> assertThat(m).startsWith("is empty"));
        assertThat(PathRules.problem("  ")).isPresent();
        assertThat(PathRules.problem("a//b")).isPresent();
        assertThat(PathRules.problem("a/")).isPresent();
        assertThat(PathRules.problem("./vmlinuz")).isPresent();
        assertThat(PathRules.problem(".hidden")).isPresent();
        assertThat(PathRules.problem("-b")).isPresent();
        assertThat(PathRules.problem("base.qcow2,file.filename=/etc/shadow")).isPresent();
        assertThat(PathRules.problem("a b")).isPresent();
        assertThat(PathRules.problem("a\\b")).isPresent();
        assertThat(PathRules.problem("nul\u0000byte")).isPresent();
        assertThat(PathRules.problem("x:y")).isPresent();
    }

    @Test
    void overlongPathsAreRefusedWithoutEchoingThemWhole() {
        String longPath = "a/".repeat(600) + "b";
        assertThat(PathRules.problem(longPath)).hasValueSatisfying(m -> assertThat(m).contains("longer than 1024").hasSizeLessThan(300));
        assertThat(PathRules.problem("x".repeat(256))).isPresent();
    }
}
