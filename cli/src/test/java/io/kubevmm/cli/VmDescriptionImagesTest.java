package io.kubevmm.cli;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The Images lines of {@code describe vm}: what a VM waits for before it can start. */
class VmDescriptionImagesTest {

    @Test
    void aDownloadShowsItsProgressInMebibytes() {
        List<String> lines = VmDescription.images(List.of(
                Map.of("disk", "root", "phase", "Downloading", "downloadedBytes", 12L << 20, "totalBytes", 460L << 20)));
        assertThat(lines).containsExactly("root: Downloading 12 of 460 MiB");
    }

    @Test
    void aFailureShowsItsReasonAndMessage() {
        List<String> lines = VmDescription.images(List.of(Map.of("disk", "root", "phase", "Failed",
                "reason", "ImageChecksumMismatch", "message", "sha256 differs from spec.disks[0].source.http.sha256")));
        assertThat(lines).containsExactly(
                "root: Failed (ImageChecksumMismatch: sha256 differs from spec.disks[0].source.http.sha256)");
    }

    @Test
    void noDownloadsNoLines() {
        assertThat(VmDescription.images(null)).isNull();
        assertThat(VmDescription.images(List.of())).isNull();
    }
}
