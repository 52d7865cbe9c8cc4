#!/usr/bin/env bash
# Builds a small Debian bookworm disk image from Debian's packages: guest/out/debian-bookworm.qcow2
#
#   bash guest/build-os-image.sh          build when an input changed, else say it is up to date
#   OS_IMAGE_FORCE=1 bash guest/build-os-image.sh   rebuild the image (the debootstrap tree and
#                                          the downloaded packages are reused)
#   OS_IMAGE_CLEAN=1 bash guest/build-os-image.sh   start from nothing (drops the work dir)
#   OS_IMAGE_SIZE=4G                       size of the disk (default 2G)
#   OS_IMAGE_CACHE=DIR                     work dir (default /var/cache/kubevmm/os-image)
#
# The image: a GPT with an EFI system partition (FAT, systemd-boot as the removable-media
# loader \EFI\BOOT\BOOTX64.EFI, the kernel and initrd, one loader entry) and an ext4 root
# (systemd, openssh-server, cloud-init with the NoCloud datasource, qemu-guest-agent, Debian's
# cloud kernel, a getty on ttyS0). No loop device and no mount: the root file system is written
# from a directory tree by `mke2fs -d`, the ESP by `mkfs.vfat` + `mcopy`, the partition table by
# `sgdisk`, and the partitions are placed with `dd conv=notrunc`.
#
# Needs root (debootstrap creates device nodes and owns files as root). Installs debootstrap,
# dosfstools, mtools, gdisk and qemu-utils with apt-get when missing. The archive is the one the
# machine's own apt sources name (read from /etc/apt/sources.list.d/debian.sources or
# /etc/apt/sources.list). Work files live outside the work tree, in $OS_IMAGE_CACHE: the package
# cache (debootstrap --cache-dir) and the finished debootstrap tree, reused while the package list
# is the same. Only the image and its stamp go to guest/out/ (git-ignored).
set -euo pipefail

guest=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=${OS_IMAGE_CACHE:-/var/cache/kubevmm/os-image}
out=$guest/out
image=$out/debian-bookworm.qcow2
stamp=$out/debian-bookworm.stamp
size=${OS_IMAGE_SIZE:-2G}
esp_mib=128

# Fixed identifiers: the loader entry and fstab name the root by PARTUUID, so the image needs no
# probing at boot. Every VM gets its own copy-on-write overlay, so sharing them is harmless.
root_partuuid=5f3c2a9e-8d41-4b7a-9c06-1e2d3f4a5b6c
esp_partuuid=0c1b2a39-4857-4665-8473-a2b1c0d9e8f7

packages=(systemd-sysv linux-image-cloud-amd64 openssh-server cloud-init python3-cffi-backend
          ifupdown iproute2 isc-dhcp-client qemu-guest-agent netbase sudo dbus)

log() { echo "guest/build-os-image.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap needs it)"

# --- tools ------------------------------------------------------------------------------------
ensure_tools() {
  local missing=() p
  for p in debootstrap dosfstools mtools gdisk qemu-utils; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

archive() {
  local uri
  uri=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null \
        | grep -v security | head -1 || true)
  [ -n "$uri" ] || uri=$(sed -n 's/^deb \(\[[^]]*\] \)\?\([^ ]*\) bookworm .*/\2/p' /etc/apt/sources.list 2>/dev/null | head -1 || true)
  [ -n "$uri" ] || die "no Debian archive found in the apt sources"
  echo "$uri"
}

# --- up to date? ------------------------------------------------------------------------------
inputs_hash() {
  { cat "${BASH_SOURCE[0]}"; echo "$size"; } | sha256sum | cut -d' ' -f1
}

if [ "${OS_IMAGE_CLEAN:-}" = 1 ]; then
  log "removing $work"
  rm -rf "$work"
fi
hash=$(inputs_hash)
if [ -z "${OS_IMAGE_FORCE:-}" ] && [ -f "$image" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$hash" ]; then
  log "up to date: $image"
  exit 0
fi

ensure_tools
mkdir -p "$work/debs" "$out"
rootfs=$work/rootfs
tree_key=$(printf '%s\n' "${packages[@]}" | sha256sum | cut -d' ' -f1)

# --- debootstrap tree (reused while the package list is the same) ------------------------------
if [ "$(cat "$work/rootfs.done" 2>/dev/null)" != "$tree_key" ]; then
  rm -rf "$rootfs" "$work/rootfs.done"
  mirror=$(archive)
  log "debootstrap bookworm from the machine's Debian archive (${#packages[@]} packages named)"
  debootstrap --variant=minbase --cache-dir="$work/debs" \
    --include="$(IFS=,; echo "${packages[*]}")" bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed (log: $work/debootstrap.log)"; }
  echo "$tree_key" >"$work/rootfs.done"
else
  log "reusing the debootstrap tree in $rootfs"
fi

# --- systemd-boot (the EFI binary only, from Debian's package) --------------------------------
efi=$work/systemd-bootx64.efi
if [ ! -s "$efi" ]; then
  (cd "$work" && rm -f systemd-boot-efi_*.deb && apt-get download -qq systemd-boot-efi/bookworm >/dev/null)
  rm -rf "$work/sdboot" && dpkg-deb -x "$work"/systemd-boot-efi_*.deb "$work/sdboot"
  cp "$work/sdboot/usr/lib/systemd/boot/efi/systemd-bootx64.efi" "$efi"
fi

# --- guest configuration (idempotent writes into the tree) ------------------------------------
kernel=$(cd "$rootfs/boot" && ls vmlinuz-* | sort -V | tail -1)
initrd=initrd.img-${kernel#vmlinuz-}
[ -f "$rootfs/boot/$initrd" ] || die "the tree has no $initrd"
echo debian >"$rootfs/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 debian\n' >"$rootfs/etc/hosts"
printf 'PARTUUID=%s / ext4 defaults,errors=remount-ro 0 1\n' "$root_partuuid" >"$rootfs/etc/fstab"
: >"$rootfs/etc/machine-id"                 # a new one on each VM's first boot
rm -f "$rootfs"/etc/ssh/ssh_host_*          # cloud-init makes each VM its own host keys
mkdir -p "$rootfs/etc/cloud/cloud.cfg.d"
cat >"$rootfs/etc/cloud/cloud.cfg.d/90-kubevmm.cfg" <<'EOF'
# KubeVMM attaches a NoCloud seed (volume label CIDATA); without one, boot without probing clouds.
datasource_list: [ NoCloud, None ]
EOF
printf 'auto lo\niface lo inet loopback\nsource /etc/network/interfaces.d/*\n' >"$rootfs/etc/network/interfaces"
mkdir -p "$rootfs/etc/network/interfaces.d"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*_Packages

# --- partitions without a mount ---------------------------------------------------------------
tmp=$work/assemble
rm -rf "$tmp" && mkdir -p "$tmp"
total_mib=$(( $(numfmt --from=iec "$size") / 1048576 ))
root_mib=$(( total_mib - esp_mib - 2 ))      # 1 MiB before the ESP, 1 MiB for the backup GPT

log "ESP (${esp_mib} MiB, FAT32): systemd-boot, kernel ${kernel#vmlinuz-}, initrd"
mkfs.vfat -F 32 -n ESP -C "$tmp/esp.img" $(( esp_mib * 1024 )) >/dev/null
mmd -i "$tmp/esp.img" ::/EFI ::/EFI/BOOT ::/loader ::/loader/entries
mcopy -i "$tmp/esp.img" "$efi" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$tmp/esp.img" "$rootfs/boot/$kernel" ::/vmlinuz
mcopy -i "$tmp/esp.img" "$rootfs/boot/$initrd" ::/initrd.img
printf 'default debian.conf\ntimeout 0\n' >"$tmp/loader.conf"
printf 'title Debian bookworm\nlinux /vmlinuz\ninitrd /initrd.img\noptions root=PARTUUID=%s ro console=tty0 console=ttyS0,115200\n' \
  "$root_partuuid" >"$tmp/debian.conf"
mcopy -i "$tmp/esp.img" "$tmp/loader.conf" ::/loader/loader.conf
mcopy -i "$tmp/esp.img" "$tmp/debian.conf" ::/loader/entries/debian.conf

log "root (${root_mib} MiB, ext4) with mke2fs -d"
mke2fs -q -t ext4 -L root -d "$rootfs" "$tmp/root.img" "${root_mib}M"

log "GPT with sgdisk, partitions placed with dd"
truncate -s "${total_mib}M" "$tmp/disk.raw"
# (no -q: sgdisk 1.0.9 then leaves the table unwritten)
sgdisk -o \
  -n 1:2048:+${esp_mib}M -t 1:ef00 -c 1:ESP -u 1:"$esp_partuuid" \
  -n 2:0:+${root_mib}M -t 2:8304 -c 2:root -u 2:"$root_partuuid" "$tmp/disk.raw" >/dev/null
dd if="$tmp/esp.img" of="$tmp/disk.raw" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$tmp/root.img" of="$tmp/disk.raw" bs=1M seek=$(( 1 + esp_mib )) conv=notrunc,sparse status=none
sgdisk -v "$tmp/disk.raw" | grep -q "No problems found" || die "the partition table does not verify"
[ "$(sgdisk -p "$tmp/disk.raw" | grep -cE '^ +[12] ')" = 2 ] || die "the partition table does not hold the ESP and root"

qemu-img convert -O qcow2 "$tmp/disk.raw" "$image.tmp"
mv "$image.tmp" "$image"
rm -rf "$tmp"
echo "$hash" >"$stamp"
log "built $image ($(du -h "$image" | cut -f1) on disk, ${size} virtual)"
