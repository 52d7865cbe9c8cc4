#!/bin/sh
# kubevmm fence guard (docs/ha.md). Started by the node runtime in a session of its own, so it
# outlives a node runtime that crashed or froze. Once the heartbeat file the runtime rewrites
# after every successful Lease renewal is older than fence-after, it stops (SIGSTOP, which
# freezes every vCPU at once, then SIGKILL) the QEMU of every VM whose state dir holds the
# fence-on-node-loss marker (highAvailability mode Restart): the operator starts those VMs on
# another node once the Lease expired, and two copies must never run.
#
# Usage: kubevmm-fence-guard.sh <node state dir> <fence-after seconds>
# Exits when the heartbeat file is gone (the runtime stopped cleanly with nothing to guard),
# when its pidfile names another guard (a newer runtime started its own), or once it fenced and
# no marked guest runs any more (a node runtime that starts again starts a new guard).
state="$1"
fence_after="$2"
pidfile="$state/fence-guard.pid"
heartbeat="$state/heartbeat"
me=$$

log() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) kubevmm-fence-guard[$me]: $*" >> "$state/fence-guard.log"; }

# True when process $1 exists and has not exited: a zombie (state Z or X in /proc/<pid>/stat,
# the letter after the last ')') runs no guest.
alive() {
    st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
    [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# Prints the pid of the QEMU of VM dir $1: the pid in its pidfile, only if that process's command
# line names the dir's QMP socket (pids are recycled) and it is alive.
qemu_of() {
    pid=$(cat "$1/qemu.pid" 2>/dev/null | tr -d ' \n')
    case "$pid" in ''|*[!0-9]*) return 1 ;; esac
    { tr '\000' '\n' < "/proc/$pid/cmdline"; } 2>/dev/null | grep -qF "$1/qmp.sock" || return 1
    alive "$pid" || return 1
    echo "$pid"
}

printf '%s\n' "$me" > "$pidfile.partial" && mv "$pidfile.partial" "$pidfile"
log "watching $heartbeat (fence after ${fence_after}s)"
fenced=0
while :; do
    [ "$(cat "$pidfile" 2>/dev/null)" = "$me" ] || { log "another guard took over; exiting"; exit 0; }
    if [ ! -e "$heartbeat" ]; then
        log "heartbeat file removed: the node runtime stopped cleanly; exiting"
        [ "$(cat "$pidfile" 2>/dev/null)" = "$me" ] && rm -f "$pidfile"
        exit 0
    fi
    renewed=$(stat -c %Y "$heartbeat" 2>/dev/null || echo 0)
    age=$(( $(date +%s) - renewed ))
    if [ "$age" -ge "$fence_after" ]; then
        left=0
        for marker in "$state"/vms/*/fence-on-node-loss; do
            [ -e "$marker" ] || continue
            dir=${marker%/fence-on-node-loss}
            pid=$(qemu_of "$dir") || continue
            kill -STOP "$pid" 2>/dev/null
            kill -KILL "$pid" 2>/dev/null
            log "fenced ${dir##*/}: killed QEMU $pid (Lease last renewed ${age}s ago, fence-after ${fence_after}s)"
            fenced=1
            sleep 0.2
            alive "$pid" && left=1
        done
        if [ "$left" = 0 ]; then
            log "no highly available guest runs on this node any more$( [ $fenced = 1 ] && echo ' (fenced)'); exiting"
            [ "$(cat "$pidfile" 2>/dev/null)" = "$me" ] && rm -f "$pidfile"
            exit 0
        fi
    fi
    sleep 1
done
