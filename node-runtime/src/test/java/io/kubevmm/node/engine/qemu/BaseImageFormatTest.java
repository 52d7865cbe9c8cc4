package io.kubevmm.node.engine.qemu;

import io.kubevmm.node.engine.EngineException;
import io.kubevmm.node.engine.VmConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A base image's format comes from its magic, read by us; a qcow2 base naming other files is refused. */
class BaseImageFormatTest {
    @TempDir
    Path dir;

    void qemuImg(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("qemu-img"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(out).isZero();
    }

    String backingFormat(Path overlay) throws Exception {
        Process p = new ProcessBuilder("qemu-img", "info", "-U", "--output=json", overlay.toString()).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        return new com.fasterxml.jackson.databind.ObjectMapper().readTree(out).path("backing-filename-format").asText();
    }

    @Test
    void aRawFileIsRawEvenWhenItsBytesLookLikeAnotherFormat() throws Exception {
        Path raw = Files.write(dir.resolve("disk.raw"), new byte[4096]);
        assertThat(BaseImageFormat.of("data", raw)).isEqualTo("raw");
        Path tiny = Files.writeString(dir.resolve("tiny"), "QFI"); // shorter than a header
        assertThat(BaseImageFormat.of("data", tiny)).isEqualTo("raw");
    }

    @Test
    void aSelfContainedQcow2IsQcow2AndTheOverlayRecordsThatFormat() throws Exception {
        Path base = dir.resolve("base.qcow2");
        qemuImg("create", "-q", "-f", "qcow2", base.toString(), "16M");
        assertThat(BaseImageFormat.of("data", base)).isEqualTo("qcow2");

        Path overlay = dir.resolve("disk-data.qcow2");
        new QemuImages("qemu-img").create(new VmConfig.Disk("data", 0, base), overlay);
        assertThat(backingFormat(overlay)).isEqualTo("qcow2");

        Path raw = Files.write(dir.resolve("base.raw"), new byte[1 << 20]);
        Path rawOverlay = dir.resolve("disk-raw.qcow2");
        new QemuImages("qemu-img").create(new VmConfig.Disk("raw", 0, raw), rawOverlay);
        assertThat(backingFormat(rawOverlay)).isEqualTo("raw");
    }

    @Test
    void aQcow2BaseWithABackingFileOrExternalDataFileIsRefused() throws Exception {
        Path secret = Files.writeString(dir.resolve("secret"), "host file");
        Path chained = dir.resolve("chained.qcow2");
        qemuImg("create", "-q", "-f", "qcow2", "-b", secret.toString(), "-F", "raw", chained.toString(), "1M");
        assertThatThrownBy(() -> BaseImageFormat.of("data", chained)).isInstanceOf(EngineException.class)
                .hasMessageContaining("disk 'data'").hasMessageContaining("backing file of its own");

        Path withData = dir.resolve("data-file.qcow2");
        qemuImg("create", "-q", "-f", "qcow2", "-o", "data_file=" + dir.resolve("external.raw"), withData.toString(), "1M");
        assertThatThrownBy(() -> BaseImageFormat.of("data", withData)).isInstanceOf(EngineException.class)
                .hasMessageContaining("external data file");
    }
}
