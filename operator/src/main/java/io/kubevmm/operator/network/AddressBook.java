package io.kubevmm.operator.network;

import io.kubevmm.api.v1alpha1.VMNetworkStatus.Allocation;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The allocation rules on one network's address book (VMNetwork status.allocations), without
 * the API server: a VM that holds an entry keeps it; a VM with an earlier record (its status
 * network block) gets that address and MAC back when they are still free; otherwise the lowest
 * free address and a fresh MAC. Entries are keyed by the VM's uid, so a VM deleted and created
 * again under its name is another VM. Pure: {@link NetworkAllocator} writes the result.
 */
public final class AddressBook {
    private AddressBook() { }

    /** What a claim comes to. */
    public sealed interface Outcome permits Held, Added, Exhausted { }

    /** The VM already holds {@code allocation}: nothing to write. */
    public record Held(Allocation allocation) implements Outcome { }

    /** {@code allocation} is new; {@code allocations} is the book to write. */
    public record Added(Allocation allocation, List<Allocation> allocations) implements Outcome { }

    /** Every assignable address is held. */
    public record Exhausted(long capacity) implements Outcome { }

    /**
     * @param vm         namespace/name
     * @param vmUid      the VM's metadata.uid
     * @param wantIp     the address of the VM's record, or null
     * @param wantMac    the MAC of the VM's record, or null
     */
    public static Outcome claim(Ipv4Range range, List<Allocation> book, String vm, String vmUid, String wantIp, String wantMac) {
        List<Allocation> entries = book == null ? List.of() : book;
        for (Allocation a : entries) {
            if (vmUid.equals(a.getVmUid()) && range.assignable(Ipv4Range.address(a.getIpAddress()))) {
                return new Held(a);
            }
        }
        // Entries of this VM that no longer fit the range are replaced.
        List<Allocation> others = entries.stream().filter(a -> !vmUid.equals(a.getVmUid())).toList();
        TreeSet<Long> taken = others.stream().map(a -> Ipv4Range.address(a.getIpAddress())).filter(range::assignable)
                .collect(Collectors.toCollection(TreeSet::new));
        Set<String> macs = others.stream().map(Allocation::getMacAddress).filter(Objects::nonNull)
                .map(m -> m.toLowerCase(Locale.ROOT)).collect(Collectors.toSet());

        long want = Ipv4Range.address(wantIp);
        long ip = range.assignable(want) && !taken.contains(want) ? want : lowestFree(range, taken);
        if (ip < 0) {
            return new Exhausted(range.assignableCount());
        }
        String normalizedMac = wantMac == null ? null : wantMac.toLowerCase(Locale.ROOT);
        String mac = MacAddresses.locallyAdministeredUnicast(normalizedMac) && !macs.contains(normalizedMac)
                ? normalizedMac : MacAddresses.pick(vmUid, macs);

        Allocation added = new Allocation();
        added.setIpAddress(Ipv4Range.format(ip));
        added.setMacAddress(mac);
        added.setVm(vm);
        added.setVmUid(vmUid);
        List<Allocation> next = new ArrayList<>(others);
        next.add(added);
        next.sort(Comparator.comparingLong(a -> Ipv4Range.address(a.getIpAddress())));
        return new Added(added, next);
    }

    /** The book without the entries of {@code vmUid}; the same list when it holds none. */
    public static List<Allocation> release(List<Allocation> book, String vmUid) {
        if (book == null || book.stream().noneMatch(a -> vmUid.equals(a.getVmUid()))) {
            return book;
        }
        return book.stream().filter(a -> !vmUid.equals(a.getVmUid())).toList();
    }

    /** Addresses of {@code book} that count against the range (entries outside it do not). */
    public static long allocated(Ipv4Range range, List<Allocation> book) {
        return book == null ? 0 : book.stream().map(a -> Ipv4Range.address(a.getIpAddress())).filter(range::assignable).distinct().count();
    }

    /** The lowest assignable address not in {@code taken}, or -1. */
    private static long lowestFree(Ipv4Range range, TreeSet<Long> taken) {
        long candidate = range.firstAssignable();
        for (long t : taken) {
            if (t == candidate) {
                candidate++;
            } else if (t > candidate) {
                break;
            }
        }
        return candidate <= range.lastAssignable() ? candidate : -1;
    }
}
