package io.kubevmm.api;

import io.kubevmm.api.validation.Quantities;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Memory and disk sizes as Kubernetes writes them, and as QEMU needs them. */
class QuantitiesTest {

    @Test
    void binaryAndDecimalSuffixesConvertToBytes() {
        assertThat(Quantities.toBytes("256Mi")).isEqualTo(256L << 20);
        assertThat(Quantities.toBytes("1G")).isEqualTo(1_000_000_000L);
        assertThat(Quantities.toBytes("1024")).isEqualTo(1024L);
        assertThat(Quantities.toBytes("0.5Ki")).isEqualTo(512L);
    }

    @Test
    void fractionsOfAByteRoundUp() {
        assertThat(Quantities.toBytes("1.5")).isEqualTo(2L);
    }

    @Test
    void bytesFormatInTheirShortestExactBinaryForm() {
        assertThat(Quantities.format(256L << 20)).isEqualTo("256Mi");
        assertThat(Quantities.format((256L << 20) + 8192)).isEqualTo("262152Ki");
        assertThat(Quantities.format(1L << 30)).isEqualTo("1Gi");
        assertThat(Quantities.format(1000)).isEqualTo("1000");
        assertThat(Quantities.format(0)).isEqualTo("0");
    }

    @Test
    void formattedBytesParseBackToTheSameCount() {
        for (long bytes : new long[] {1, 1023, 4096, (256L << 20) + 8192, 3L << 40}) {
            assertThat(Quantities.toBytes(Quantities.format(bytes))).isEqualTo(bytes);
        }
    }

    @Test
    void somethingThatIsNotAQuantityIsRejectedWithAnExample() {
        assertThat(Quantities.isQuantity("12Zi")).isFalse();
        assertThatThrownBy(() -> Quantities.toBytes("12Zi"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("\"12Zi\" is not a quantity (example: 512Mi)");
        assertThatThrownBy(() -> Quantities.toBytes("99999999Ei"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("too large");
    }
}
