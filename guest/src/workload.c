/*
 * The test guest's workload program, run by /init as PID 1.
 *
 * Arms the ACPI power button, prints KUBEVMM-GUEST-READY, then "tick <n>" every second of
 * guest execution (sleep(1) loops, never wall-clock, so the count stops while the VM is paused
 * and continues after resume or a restore of saved state), and runs the workloads named by
 * kubevmm.workload= on the kernel command line, comma-separated:
 *   idle                  ticks only (the default)
 *   memcheck:<MiB>        fill a buffer with a pattern that depends on pass and offset, then
 *                         re-verify it, forever: "memcheck ok <pass>" at most once a second, or
 *                         "memcheck BAD page <n> pass <p> ..." (pages a migration or restore left
 *                         stale); after BAD the check stops
 *   dirty:<MiB>:<MiBps>   dirty pages of a <MiB> buffer at <MiBps> (stresses pre-copy migration)
 *   disk:<dev>            a token on the disk's first block: "disk found <token>" if one is there,
 *                         else write a fresh one, "disk wrote <token>"; then every 2 s re-read the
 *                         block past all caches, "disk read <token>" (shows a moved or restored
 *                         disk still holds what the guest wrote)
 *   diskrenew:<dev>       as disk, but every boot writes a fresh token after reporting the one it
 *                         found ("disk found A", "disk wrote B"): a disk rollback shows A again
 *   poweroff:<s>          after <s> ticks: "KUBEVMM-GUEST-POWEROFF", then a clean power-off
 *   panic:<s>             after <s> ticks: "KUBEVMM-GUEST-PANIC", then a kernel panic
 * A press of the ACPI power button (QMP system_powerdown) powers the guest off cleanly.
 *
 * Every line goes out in one write() to the console, under a lock: lines never interleave.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <linux/input.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/reboot.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static void say(const char *fmt, ...) {
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (n > (int)sizeof line - 2) n = sizeof line - 2;
    line[n++] = '\n';
    pthread_mutex_lock(&out_lock);
    ssize_t w = write(STDOUT_FILENO, line, n);
    (void)w;
    pthread_mutex_unlock(&out_lock);
}

/* Guest monotonic time: paces output and dirtying, never counts ticks. */
static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void power_off(void) {
    static pthread_mutex_t once = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&once); /* never unlocked: a second caller waits for the power to go */
    say("KUBEVMM-GUEST-POWEROFF");
    sync();
    reboot(RB_POWER_OFF); /* what busybox "poweroff -f" does */
    for (;;) pause();
}

static void panic_now(void) {
    say("KUBEVMM-GUEST-PANIC");
    int fd = open("/proc/sysrq-trigger", O_WRONLY);
    if (fd >= 0) {
        ssize_t w = write(fd, "c", 1);
        (void)w;
    }
    say("panic: writing /proc/sysrq-trigger did not crash the kernel");
}

/* --- memcheck ------------------------------------------------------------------------------ */

/* A word's expected value: differs per word and per pass, so a page left from an older pass
 * (or moved to another offset) never verifies. */
static uint64_t pattern(uint64_t word, uint64_t pass) {
    uint64_t x = word * 0x9E3779B97F4A7C15ULL ^ (pass + 1) * 0xC2B2AE3D27D4EB4FULL;
    x ^= x >> 29;
    return x;
}

static void *memcheck(void *arg) {
    size_t mib = (size_t)(uintptr_t)arg;
    size_t words = mib * 1024 * 1024 / sizeof(uint64_t);
    const size_t words_per_page = 4096 / sizeof(uint64_t);
    uint64_t *buf = mmap(NULL, words * sizeof(uint64_t), PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (buf == MAP_FAILED) {
        say("memcheck BAD cannot allocate %zu MiB", mib);
        return NULL;
    }
    say("memcheck %zuMiB", mib);
    double last_report = -1;
    for (uint64_t pass = 1;; pass++) {
        for (size_t i = 0; i < words; i++) buf[i] = pattern(i, pass);
        /* Let time pass between writing and verifying: a migration may happen in between. */
        usleep(50 * 1000);
        size_t bad_pages = 0, first_bad = 0;
        for (size_t page = 0; page < words / words_per_page; page++) {
            for (size_t i = page * words_per_page; i < (page + 1) * words_per_page; i++) {
                if (buf[i] != pattern(i, pass)) {
                    if (bad_pages++ == 0) first_bad = page;
                    break;
                }
            }
        }
        if (bad_pages > 0) {
            say("memcheck BAD page %zu pass %llu (%zu of %zu pages wrong)", first_bad,
                (unsigned long long)pass, bad_pages, words / words_per_page);
            return NULL;
        }
        if (now() - last_report >= 1.0) {
            say("memcheck ok %llu", (unsigned long long)pass);
            last_report = now();
        }
    }
}

/* --- dirty --------------------------------------------------------------------------------- */

struct dirty_args { size_t mib, rate; };

static void *dirty(void *arg) {
    struct dirty_args *a = arg;
    size_t pages = a->mib * 256;
    volatile uint8_t *buf = mmap(NULL, pages * 4096, PROT_READ | PROT_WRITE,
                                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (pages == 0 || buf == MAP_FAILED) {
        say("dirty cannot allocate %zu MiB", a->mib);
        return NULL;
    }
    say("dirty %zuMiB rate %zuMiB/s", a->mib, a->rate);
    /* Every 10 ms of guest time, write one byte into each of the next rate*256/100 pages. */
    double budget = 0, slice_start = now();
    size_t next = 0;
    uint8_t value = 0;
    for (;;) {
        budget += a->rate * 256 / 100.0;
        value++;
        for (; budget >= 1; budget--) {
            buf[next * 4096] = value;
            next = (next + 1) % pages;
        }
        slice_start += 0.010;
        double left = slice_start - now();
        if (left > 0) usleep((useconds_t)(left * 1e6));
        else if (left < -1) slice_start = now(); /* fell behind (e.g. throttled): no burst */
    }
}

/* --- ACPI power button --------------------------------------------------------------------- */

/* The ACPI button driver reports the power button as KEY_POWER on an input device (q35: the
 * fixed-feature button; microvm: the GED-notified PNP0C0C button). */
static struct pollfd buttons[16];
static int nbuttons;

/* Opens the devices that can report KEY_POWER; returns how many. */
static int open_power_button(void) {
    DIR *d = opendir("/dev/input");
    struct dirent *e;
    while (d && (e = readdir(d)) && nbuttons < 16) {
        if (strncmp(e->d_name, "event", 5) != 0) continue;
        char path[300];
        snprintf(path, sizeof path, "/dev/input/%s", e->d_name);
        int fd = open(path, O_RDONLY);
        if (fd < 0) continue;
        unsigned long keys[KEY_MAX / (8 * sizeof(long)) + 1] = {0};
        if (ioctl(fd, EVIOCGBIT(EV_KEY, sizeof keys), keys) >= 0
            && (keys[KEY_POWER / (8 * sizeof(long))] >> (KEY_POWER % (8 * sizeof(long)))) & 1)
            buttons[nbuttons++] = (struct pollfd){.fd = fd, .events = POLLIN};
        else
            close(fd);
    }
    if (d) closedir(d);
    if (nbuttons == 0) say("no power button: ACPI power-down will not be handled");
    return nbuttons;
}

static void *power_button(void *arg) {
    (void)arg;
    for (;;) {
        if (poll(buttons, nbuttons, -1) <= 0) continue;
        for (int i = 0; i < nbuttons; i++) {
            if (!(buttons[i].revents & POLLIN)) continue;
            struct input_event ev[16];
            ssize_t got = read(buttons[i].fd, ev, sizeof ev);
            for (ssize_t k = 0; k < got / (ssize_t)sizeof ev[0]; k++)
                if (ev[k].type == EV_KEY && ev[k].code == KEY_POWER && ev[k].value == 1) power_off();
        }
    }
    return NULL; /* not reached */
}

/* --- disk: a token on the first block, re-read from the device itself ----------------------- */

#define DISK_MAGIC "KUBEVMM-DISK "

static int read_block(int fd, char *block) {
    return pread(fd, block, 4096, 0) == 4096 ? 0 : -1;
}

static int disk_renew;

static void *disk(void *arg) {
    char path[64];
    snprintf(path, sizeof path, "/dev/%s", (char *)arg);
    int fd = open(path, O_RDWR | O_DIRECT | O_SYNC);
    char *block = NULL;
    if (fd < 0 || posix_memalign((void **)&block, 4096, 4096) != 0 || read_block(fd, block) != 0) {
        say("disk %s unusable", path);
        return NULL;
    }
    char token[33];
    int found = strncmp(block, DISK_MAGIC, strlen(DISK_MAGIC)) == 0;
    if (found) {
        snprintf(token, sizeof token, "%s", block + strlen(DISK_MAGIC));
        say("disk found %s", token);
    }
    if (!found || disk_renew) {
        unsigned long long r = ((unsigned long long)time(NULL) << 20) ^ (unsigned long long)(now() * 1e9);
        snprintf(token, sizeof token, "%016llx", r);
        memset(block, 0, 4096);
        snprintf(block, 4096, DISK_MAGIC "%s", token);
        if (pwrite(fd, block, 4096, 0) != 4096 || fsync(fd) != 0) {
            say("disk %s write failed", path);
            return NULL;
        }
        say("disk wrote %s", token);
    }
    for (;;) {
        sleep(2);
        if (read_block(fd, block) != 0) {
            say("disk %s read failed", path);
            continue;
        }
        block[strlen(DISK_MAGIC) + 32] = 0;
        say("disk read %s", strncmp(block, DISK_MAGIC, strlen(DISK_MAGIC)) == 0 ? block + strlen(DISK_MAGIC) : "(none)");
    }
    return NULL;
}

/* --- main ---------------------------------------------------------------------------------- */

static char *workload_arg(void) {
    static char cmdline[4096];
    int fd = open("/proc/cmdline", O_RDONLY);
    if (fd < 0) return "idle";
    ssize_t n = read(fd, cmdline, sizeof cmdline - 1);
    close(fd);
    if (n <= 0) return "idle";
    cmdline[n] = 0;
    char *p = strstr(cmdline, "kubevmm.workload=");
    if (!p) return "idle";
    p += strlen("kubevmm.workload=");
    p[strcspn(p, " \n")] = 0;
    return *p ? p : "idle";
}

static void start(void *(*fn)(void *), void *arg) {
    pthread_t t;
    if (pthread_create(&t, NULL, fn, arg) != 0) say("cannot start a workload thread");
}

int main(void) {
    long poweroff_at = -1, panic_at = -1;
    /* Ready only once the power button is armed: a stop right after readiness is never lost. */
    if (open_power_button() > 0) start(power_button, NULL);
    say("KUBEVMM-GUEST-READY");

    char *saveptr = NULL;
    for (char *w = strtok_r(workload_arg(), ",", &saveptr); w; w = strtok_r(NULL, ",", &saveptr)) {
        char *rest;
        if (strncmp(w, "memcheck:", 9) == 0) {
            start(memcheck, (void *)(uintptr_t)strtoul(w + 9, NULL, 10));
        } else if (strncmp(w, "dirty:", 6) == 0) {
            struct dirty_args *a = calloc(1, sizeof *a);
            a->mib = strtoul(w + 6, &rest, 10);
            a->rate = *rest == ':' ? strtoul(rest + 1, NULL, 10) : 64;
            start(dirty, a);
        } else if (strncmp(w, "disk:", 5) == 0) {
            start(disk, w + 5);
        } else if (strncmp(w, "diskrenew:", 10) == 0) {
            disk_renew = 1;
            start(disk, w + 10);
        } else if (strncmp(w, "poweroff:", 9) == 0) {
            poweroff_at = strtol(w + 9, NULL, 10);
        } else if (strncmp(w, "panic:", 6) == 0) {
            panic_at = strtol(w + 6, NULL, 10);
        } else if (strcmp(w, "idle") != 0) {
            say("unknown workload '%s' in kubevmm.workload= (ignored)", w);
        }
    }

    for (long tick = 1;; tick++) {
        sleep(1);
        say("tick %ld", tick);
        if (tick == poweroff_at) power_off();
        if (tick == panic_at) panic_now();
    }
}
