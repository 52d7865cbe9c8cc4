package io.kubevmm.operator.network;

import io.kubevmm.api.v1alpha1.VMNetworkStatus.Allocation;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The allocation rules: which addresses a VM can get, exhaustion, reuse, stable and unique MACs. */
class AddressBookTest {
    static Ipv4Range range(String cidr) {
        return Ipv4Range.parse(cidr).range().orElseThrow();
    }

    static List<Allocation> claimAll(Ipv4Range range, int vms) {
        List<Allocation> book = new ArrayList<>();
        for (int i = 0; i < vms; i++) {
            var outcome = AddressBook.claim(range, book, "ns/vm-" + i, "uid-" + i, null, null);
            if (!(outcome instanceof AddressBook.Added added)) {
                break;
            }
            book = added.allocations();
        }
        return book;
    }

    @Test
    void aSlash29GivesItsFiveHostAddressesAfterTheGatewayAndNeverTheNetworkGatewayOrBroadcast() {
        Ipv4Range r = range("10.200.0.0/29");
        assertThat(Ipv4Range.format(r.gateway())).isEqualTo("10.200.0.1");
        assertThat(Ipv4Range.format(r.broadcast())).isEqualTo("10.200.0.7");
        assertThat(r.assignableCount()).isEqualTo(5);
        List<Allocation> book = claimAll(r, 10);
        assertThat(book).extracting(Allocation::getIpAddress)
                .containsExactly("10.200.0.2", "10.200.0.3", "10.200.0.4", "10.200.0.5", "10.200.0.6");
        assertThat(AddressBook.claim(r, book, "ns/late", "uid-late", null, null))
                .isEqualTo(new AddressBook.Exhausted(5));
    }

    @Test
    void rangesCrossingOctetsAndLargePrefixesWork() {
        Ipv4Range r = range("10.200.0.0/16");
        assertThat(r.assignableCount()).isEqualTo(65533);
        assertThat(Ipv4Range.format(r.lastAssignable())).isEqualTo("10.200.255.254");
        Ipv4Range big = range("10.0.0.0/8");
        assertThat(Ipv4Range.format(big.broadcast())).isEqualTo("10.255.255.255");
        List<Allocation> book = claimAll(range("192.168.0.0/23"), 600);
        assertThat(book).hasSize(509);
        assertThat(book.get(253).getIpAddress()).isEqualTo("192.168.0.255"); // a host address in a /23
        assertThat(book.get(254).getIpAddress()).isEqualTo("192.168.1.0");
        assertThat(book).extracting(Allocation::getIpAddress).doesNotContain("192.168.0.0", "192.168.0.1", "192.168.1.255");
    }

    @Test
    void badRangesAreRefusedWithTheFix() {
        assertThat(Ipv4Range.parse("10.200.0.0").error()).isEqualTo("\"10.200.0.0\" is not an IPv4 range in CIDR notation (example: 10.200.0.0/16)");
        assertThat(Ipv4Range.parse("10.300.0.0/16").error()).contains("300 is not an octet");
        assertThat(Ipv4Range.parse("10.200.0.0/30").error()).startsWith("\"10.200.0.0/30\" has prefix /30; use /8 to /29");
        assertThat(Ipv4Range.parse("10.200.0.0/7").error()).contains("use /8 to /29");
        assertThat(Ipv4Range.parse("10.200.1.0/16").error()).isEqualTo("\"10.200.1.0/16\" has host bits set; the range is 10.200.0.0/16");
        assertThat(Ipv4Range.parse(null).error()).startsWith("is missing");
        assertThat(Ipv4Range.address("10.1.2")).isEqualTo(-1);
        assertThat(Ipv4Range.address("10.1.2.256")).isEqualTo(-1);
    }

    @Test
    void aVmThatHoldsAnEntryGetsTheSameAgainAndAReleasedAddressGoesToTheNextVm() {
        Ipv4Range r = range("10.200.0.0/29");
        List<Allocation> book = claimAll(r, 3);
        var again = AddressBook.claim(r, book, "ns/vm-1", "uid-1", null, null);
        assertThat(again).isInstanceOf(AddressBook.Held.class);
        assertThat(((AddressBook.Held) again).allocation().getIpAddress()).isEqualTo("10.200.0.3");

        List<Allocation> released = AddressBook.release(book, "uid-1");
        assertThat(released).extracting(Allocation::getVmUid).containsExactly("uid-0", "uid-2");
        var next = (AddressBook.Added) AddressBook.claim(r, released, "ns/new", "uid-new", null, null);
        assertThat(next.allocation().getIpAddress()).isEqualTo("10.200.0.3");
        assertThat(next.allocation().getMacAddress()).isNotEqualTo(book.get(1).getMacAddress());
        assertThat(AddressBook.release(released, "uid-unknown")).isSameAs(released);
    }

    @Test
    void aVmsRecordIsHonouredWhenFreeAndIgnoredWhenTakenOrOutsideTheRange() {
        Ipv4Range r = range("10.200.0.0/24");
        List<Allocation> book = claimAll(r, 2); // .2 and .3
        var back = (AddressBook.Added) AddressBook.claim(r, book, "ns/old", "uid-old", "10.200.0.77", "02:aa:bb:cc:dd:ee");
        assertThat(back.allocation().getIpAddress()).isEqualTo("10.200.0.77");
        assertThat(back.allocation().getMacAddress()).isEqualTo("02:aa:bb:cc:dd:ee");

        String takenMac = book.getFirst().getMacAddress();
        var clash = (AddressBook.Added) AddressBook.claim(r, book, "ns/x", "uid-x", "10.200.0.2", takenMac);
        assertThat(clash.allocation().getIpAddress()).isEqualTo("10.200.0.4");
        assertThat(clash.allocation().getMacAddress()).isNotEqualTo(takenMac);

        var outside = (AddressBook.Added) AddressBook.claim(r, book, "ns/y", "uid-y", "10.200.0.255", "01:00:5e:00:00:01");
        assertThat(outside.allocation().getIpAddress()).isEqualTo("10.200.0.4");
        assertThat(outside.allocation().getMacAddress()).as("a multicast MAC is never kept").startsWith("02:");
    }

    @Test
    void macsAreLocallyAdministeredUnicastStablePerUidAndUniqueInTheNetwork() {
        String first = MacAddresses.pick("uid-a", Set.of());
        assertThat(MacAddresses.pick("uid-a", Set.of())).isEqualTo(first);
        assertThat(MacAddresses.locallyAdministeredUnicast(first)).isTrue();
        assertThat(first).startsWith("02:");
        String second = MacAddresses.pick("uid-a", Set.of(first));
        assertThat(second).isNotEqualTo(first).startsWith("02:");

        List<Allocation> book = claimAll(range("10.0.0.0/16"), 1000);
        Set<String> macs = new HashSet<>();
        book.forEach(a -> {
            assertThat(MacAddresses.locallyAdministeredUnicast(a.getMacAddress())).isTrue();
            assertThat(macs.add(a.getMacAddress())).as("unique " + a.getMacAddress()).isTrue();
        });
        assertThat(MacAddresses.locallyAdministeredUnicast("03:00:00:00:00:01")).as("multicast").isFalse();
        assertThat(MacAddresses.locallyAdministeredUnicast("00:16:3e:00:00:01")).as("vendor").isFalse();
    }
}
