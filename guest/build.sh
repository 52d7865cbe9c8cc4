#!/usr/bin/env bash
# Builds the KubeVMM test guest: guest/out/vmlinuz and guest/out/initrd.img.
#
#   bash guest/build.sh            build when an input changed, otherwise say it is up to date
#   GUEST_KERNEL=/boot/vmlinuz-X [GUEST_MODULES_DIR=/lib/modules/X] bash guest/build.sh
#                                  use another kernel (no modules needed if virtio is built in)
#   GUEST_KERNEL_PACKAGE=linux-image-...-cloud-amd64 bash guest/build.sh
#                                  use that Debian kernel package instead of the current one
#   GUEST_FORCE=1 bash guest/build.sh   rebuild even when up to date
#
# Needs root on a fresh Debian machine only to install busybox-static, cpio and gcc when they
# are missing. The Debian kernel package is downloaded once into guest/build/ and reused.
set -euo pipefail

guest=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=$guest/build
out=$guest/out

# Modules /init loads, in this order (QEMU-NOTES trap 4). Each module's own dependencies
# (from its modinfo) are placed before it anyway; modules the kernel has built in are skipped.
# button + evdev: the ACPI power button as /dev/input/event* (QMP system_powerdown).
# pvpanic_*: tell QEMU when the guest kernel panics (GUEST_PANICKED event).
modules=(virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_mmio
         failover net_failover virtio_net virtio_blk virtio_console
         button evdev pvpanic pvpanic_mmio pvpanic_pci)

log() { echo "guest/build.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

# --- tools ------------------------------------------------------------------------------------
apt_updated=
apt_update_once() {
  [ -n "$apt_updated" ] && return
  log "apt-get update"
  apt-get update -qq
  apt_updated=1
}

ensure_packages() {
  local missing=() p
  for p in busybox-static cpio gcc; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  [ "$(id -u)" -eq 0 ] || die "missing ${missing[*]}; install them (apt-get install ${missing[*]}) or run as root"
  apt_update_once
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# --- kernel -----------------------------------------------------------------------------------
# The kernel package bookworm currently ships for clouds: what the meta-package
# linux-image-cloud-amd64 depends on (e.g. linux-image-6.1.0-56-cloud-amd64); if that cannot be
# resolved, the newest real linux-image-*-cloud-amd64 package.
current_kernel_package() {
  local pkg
  pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null \
        | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-cloud-amd64\)$/\1/p' | head -1)
  if [ -z "$pkg" ]; then
    pkg=$(apt-cache search --names-only '^linux-image-[0-9].*-cloud-amd64$' 2>/dev/null \
          | awk '{print $1}' | sort -V | tail -1)
  fi
  echo "$pkg"
}

# Sets kernel_image and modules_dir (may be empty) and kernel_id (what the outputs were built from).
select_kernel() {
  if [ -n "${GUEST_KERNEL:-}" ]; then
    [ -f "$GUEST_KERNEL" ] || die "GUEST_KERNEL=$GUEST_KERNEL is not a file"
    kernel_image=$(readlink -f "$GUEST_KERNEL")
    modules_dir=${GUEST_MODULES_DIR:-}
    [ -z "$modules_dir" ] || [ -d "$modules_dir" ] || die "GUEST_MODULES_DIR=$modules_dir is not a directory"
    kernel_id="kernel=$kernel_image modules=${modules_dir:-none}"
    return
  fi
  local pkg=${GUEST_KERNEL_PACKAGE:-}
  if [ -z "$pkg" ]; then
    # Reuse the package downloaded before: no apt look-ups on an up-to-date tree.
    pkg=$(cat "$build/kernel-package" 2>/dev/null || true)
    if [ -z "$pkg" ] || [ ! -f "$build/$pkg/.extracted" ]; then
      pkg=$(current_kernel_package)
      if [ -z "$pkg" ]; then
        apt_update_once
        pkg=$(current_kernel_package)
      fi
      [ -n "$pkg" ] || die "no linux-image-*-cloud-amd64 package found by apt-cache"
    fi
  fi
  local dir=$build/$pkg
  if [ ! -f "$dir/.extracted" ]; then
    log "downloading $pkg"
    rm -rf "$dir" && mkdir -p "$dir/download"
    (cd "$dir/download" && apt-get download -o APT::Sandbox::User=root -qq "$pkg") || {
      apt_update_once
      (cd "$dir/download" && apt-get download -o APT::Sandbox::User=root -qq "$pkg")
    } || die "apt-get download $pkg failed"
    dpkg-deb -x "$dir"/download/*.deb "$dir/root"
    rm -rf "$dir/download"
    touch "$dir/.extracted"
  fi
  echo "$pkg" > "$build/kernel-package.tmp" && mv "$build/kernel-package.tmp" "$build/kernel-package"
  kernel_image=$(ls "$dir"/root/boot/vmlinuz-* 2>/dev/null | head -1)
  [ -n "$kernel_image" ] || die "$pkg has no /boot/vmlinuz-*"
  modules_dir=$(ls -d "$dir"/root/lib/modules/*/ 2>/dev/null | head -1)
  modules_dir=${modules_dir%/}
  kernel_id="package=$pkg"
}

# --- modules ----------------------------------------------------------------------------------
declare -A module_path=()  # module name (with _) -> file under $modules_dir
declare -A placed=()       # module names already in the load order
load_order=()

index_modules() {
  local f name
  while IFS= read -r f; do
    name=${f##*/}; name=${name%%.ko*}; name=${name//-/_}
    module_path[$name]=$f
  done < <(find "$modules_dir" -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.gz' -o -name '*.ko.zst')
}

# Uncompressed module text (busybox insmod does not decompress).
module_bytes() {
  case "$1" in
    *.ko.xz) xz -dc "$1" ;;
    *.ko.gz) gzip -dc "$1" ;;
    *.ko.zst) zstd -qdc "$1" ;;
    *) cat "$1" ;;
  esac
}

# The modinfo "depends=" field, read straight from the module's .modinfo section.
module_depends() {
  module_bytes "$1" | tr '\0' '\n' | sed -n 's/^depends=//p' | head -1 | tr ',' ' '
}

is_builtin() {
  [ -f "$modules_dir/modules.builtin" ] && grep -Eq "/${1//_/[-_]}\.ko$" "$modules_dir/modules.builtin"
}

place_module() {
  local name=${1//-/_} dep
  [ -n "${placed[$name]:-}" ] && return
  placed[$name]=1
  local file=${module_path[$name]:-}
  if [ -z "$file" ]; then
    is_builtin "$name" || log "module $name: not in $modules_dir, not built in either (skipped)"
    return
  fi
  for dep in $(module_depends "$file"); do place_module "$dep"; done
  load_order+=("$name")
}

# --- up to date? ------------------------------------------------------------------------------
inputs_newer_than() {
  local target=$1 f
  for f in "$guest/build.sh" "$guest/init" "$guest"/src/* /bin/busybox "$kernel_image"; do
    [ "$f" -nt "$target" ] && return 0
  done
  if [ -n "$modules_dir" ]; then
    [ -n "$(find "$modules_dir" -newer "$target" -print -quit)" ] && return 0
  fi
  return 1
}

# --- main -------------------------------------------------------------------------------------
mkdir -p "$build" "$out"
exec 9>"$build/.lock"
flock 9  # two builds at once (e.g. two test runs) would share the staging directory
stamp=$out/.built-from
if [ -z "${GUEST_FORCE:-}" ] && [ -f "$out/vmlinuz" ] && [ -f "$out/initrd.img" ] && [ -f "$stamp" ]; then
  # Fast path: no apt, no compiler; only timestamps and the recorded kernel choice.
  if [ -z "${GUEST_KERNEL:-}" ] && [ -z "${GUEST_KERNEL_PACKAGE:-}" ] && [ -f "$build/kernel-package" ] \
     && [ -f "$build/$(cat "$build/kernel-package")/.extracted" ]; then
    select_kernel
  elif [ -n "${GUEST_KERNEL:-}${GUEST_KERNEL_PACKAGE:-}" ]; then
    select_kernel
  else
    kernel_image=
  fi
  if [ -n "$kernel_image" ] && [ "$(cat "$stamp")" = "$kernel_id" ] && ! inputs_newer_than "$stamp"; then
    log "up to date: $out/vmlinuz, $out/initrd.img ($kernel_id)"
    exit 0
  fi
fi

ensure_packages
readelf -l /bin/busybox 2>/dev/null | grep -q 'program interpreter' && die "/bin/busybox is not static; install busybox-static"
select_kernel
log "kernel: $kernel_id"

stage=$build/initramfs
rm -rf "$stage"
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,etc,lib/modules}

# busybox and its applets as symlinks (no --install at boot: it costs time under TCG).
cp /bin/busybox "$stage/bin/busybox"
while IFS= read -r applet; do
  [ -e "$stage/$applet" ] || ln -s /bin/busybox "$stage/$applet"
done < <(/bin/busybox --list-full)

# The workload program.
gcc -static -O2 -pthread -Wall -Wextra -o "$stage/bin/kubevmm-workload" "$guest/src/workload.c"
strip "$stage/bin/kubevmm-workload"

# Modules, in load order, as plain .ko files named after the module.
: > "$stage/etc/modules.order"
if [ -n "$modules_dir" ]; then
  index_modules
  for m in "${modules[@]}"; do place_module "$m"; done
  for m in "${load_order[@]}"; do
    module_bytes "${module_path[$m]}" > "$stage/lib/modules/$m.ko"
    echo "$m" >> "$stage/etc/modules.order"
  done
  log "modules: ${load_order[*]:-(none: built in)}"
else
  log "modules: none (GUEST_KERNEL without GUEST_MODULES_DIR: virtio must be built in)"
fi

install -m 0755 "$guest/init" "$stage/init"
install -m 0755 "$guest/src/udhcpc.script" "$stage/etc/udhcpc.script"
# /dev/console lets the kernel give /init its stdio before devtmpfs is mounted.
mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null || true

(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -n -6 > "$out/initrd.img.tmp"
cp "$kernel_image" "$out/vmlinuz.tmp"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"
mv "$out/initrd.img.tmp" "$out/initrd.img"
echo "$kernel_id" > "$stamp"
log "built $out/vmlinuz ($(stat -c %s "$out/vmlinuz") bytes), $out/initrd.img ($(stat -c %s "$out/initrd.img") bytes)"
