// SPDX-License-Identifier: GPL-2.0
/*
 * Guest-side issuer for the VM restore and clone test (tests/vmfork/):
 * reads a batch of IDs from /dev/flakeid at a fixed interval and prints one
 * line per batch.  Each line carries two RDRAND values, one drawn before the
 * read and one after.  Under QEMU, RDRAND comes from the host, so a restored
 * copy and its original draw different values once they run apart: the host
 * compares the lines of both to tell which batches were read before the
 * snapshot (same second value), after it (different first value), or
 * across it.
 *
 *   flakeid_vmfork PHASE BATCHES IDS_PER_BATCH INTERVAL_MS
 *
 * Lines (stdout, one write(2) each):
 *   I PHASE N R1 R2 MONO_MS VM_FORKS ID...   a batch read
 *   E PHASE N R1 R2 MONO_MS VM_FORKS ERRNO   a read that failed
 *
 *   flakeid_vmfork uuid DURATION_MS
 *
 * reads one UUIDv7 at a time from /dev/flakeid-uuid7 for DURATION_MS and
 * prints the first of each millisecond, the part the module composes
 * (unix_ts_ms, version, counter, variant: the first 12 bytes, in hex):
 *   U UNIX_MS HEX24
 * Copies that run at once share milliseconds; each millisecond's first
 * UUID has sequence 0, so copies sharing the UUID seed key print the same
 * HEX24 for a shared millisecond.
 *
 * Exit: 0 all batches read (all UUIDs read), 4 a read failed with
 * EKEYEXPIRED (fenced), 1 any other failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define VM_FORKS "/sys/class/misc/flakeid/vm_forks"
#define MAX_BATCH 256

static int have_rdrand(void)
{
	unsigned int a = 1, b, c = 0, d;

	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return !!(c & (1u << 30));
}

/* 0 when the CPU has no RDRAND: the host then cannot place the snapshot. */
static uint64_t rdrand(int usable)
{
	uint64_t v;
	unsigned char ok;
	int tries;

	if (!usable)
		return 0;
	for (tries = 0; tries < 10; tries++) {
		__asm__ volatile("rdrand %0; setc %1" : "=r"(v), "=qm"(ok));
		if (ok)
			return v;
	}
	return 0;
}

static unsigned long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long vm_forks(void)
{
	char buf[32];
	ssize_t n;
	int fd;

	fd = open(VM_FORKS, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return atol(buf);
}

static const char *errno_name(int e)
{
	switch (e) {
	case EKEYEXPIRED: return "EKEYEXPIRED";
	case EAGAIN: return "EAGAIN";
	case EINTR: return "EINTR";
	case EINVAL: return "EINVAL";
	case EOVERFLOW: return "EOVERFLOW";
	default: return strerror(e);
	}
}

static int emit(const char *line, size_t len)
{
	while (len) {
		ssize_t n = write(STDOUT_FILENO, line, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		line += n;
		len -= n;
	}
	return 0;
}

static int uuid_run(long duration_ms)
{
	unsigned long long end = mono_ms() + duration_ms, last_ms = 0, ms;
	unsigned char u[16];
	char line[64];
	size_t len;
	int fd, i;

	fd = open("/dev/flakeid-uuid7", O_RDONLY);
	if (fd < 0) {
		perror("flakeid_vmfork: /dev/flakeid-uuid7");
		return 1;
	}
	while (mono_ms() < end) {
		if (read(fd, u, sizeof(u)) != sizeof(u)) {
			perror("flakeid_vmfork: read /dev/flakeid-uuid7");
			return errno == EKEYEXPIRED ? 4 : 1;
		}
		for (ms = 0, i = 0; i < 6; i++)
			ms = ms << 8 | u[i];
		if (ms == last_ms)
			continue;
		last_ms = ms;
		len = snprintf(line, sizeof(line), "U %llu ", ms);
		for (i = 0; i < 12; i++)
			len += snprintf(line + len, sizeof(line) - len, "%02x",
					u[i]);
		line[len++] = '\n';
		if (emit(line, len))
			return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static char line[MAX_BATCH * 22 + 256];
	uint64_t ids[MAX_BATCH];
	long batches, per, interval, b;
	int fd, rr, phase;

	if (argc == 3 && !strcmp(argv[1], "uuid"))
		return uuid_run(atol(argv[2]));
	if (argc != 5) {
		fprintf(stderr, "usage: flakeid_vmfork PHASE BATCHES IDS_PER_BATCH INTERVAL_MS\n"
			"       flakeid_vmfork uuid DURATION_MS\n");
		return 1;
	}
	phase = atoi(argv[1]);
	batches = atol(argv[2]);
	per = atol(argv[3]);
	interval = atol(argv[4]);
	if (batches < 1 || per < 1 || per > MAX_BATCH || interval < 0) {
		fprintf(stderr, "flakeid_vmfork: bad arguments\n");
		return 1;
	}
	fd = open("/dev/flakeid", O_RDONLY);
	if (fd < 0) {
		perror("flakeid_vmfork: /dev/flakeid");
		return 1;
	}
	rr = have_rdrand();
	if (!rr)
		fprintf(stderr, "flakeid_vmfork: no RDRAND, lines cannot be placed\n");

	for (b = 1; b <= batches; b++) {
		uint64_t r1, r2;
		ssize_t got;
		size_t len;
		int err, i;

		r1 = rdrand(rr);
		got = read(fd, ids, per * sizeof(ids[0]));
		err = errno;
		r2 = rdrand(rr);
		len = snprintf(line, sizeof(line), "%c %d %ld %016" PRIx64 " %016" PRIx64 " %llu %ld",
			       got > 0 ? 'I' : 'E', phase, b, r1, r2, mono_ms(),
			       vm_forks());
		if (got > 0) {
			for (i = 0; i < got / 8; i++)
				len += snprintf(line + len, sizeof(line) - len,
						" %" PRIu64, ids[i]);
		} else {
			len += snprintf(line + len, sizeof(line) - len, " %s",
					got == 0 ? "EOF" : errno_name(err));
		}
		line[len++] = '\n';
		if (emit(line, len))
			return 1;
		if (got <= 0)
			return got < 0 && err == EKEYEXPIRED ? 4 : 1;
		if (interval)
			usleep(interval * 1000);
	}
	return 0;
}
