// SPDX-License-Identifier: GPL-2.0
/*
 * Functional and bad-input tests for /dev/flakeid and /dev/flakeid-uuid7:
 * read(2), the ioctls, the sysfs files, borrowing/waiting and signals, UUIDv7
 * layout and order across reconfiguration, each checked
 * against docs/device.md and the uapi header.  One test per behaviour; the
 * fixture's teardown puts the default configuration back.  Built twice: as
 * a 64-bit and a 32-bit (-m32) program, which must see the same results.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>

/* The harness header itself trips -Wunused-parameter. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop
#include "flakeid_util.h"

/* Same shift as the default (22) but a 1-bit sequence: 2 IDs per ms. */
#define NARROW_LAYOUT "41:4:3:14:1"
#define MS_1H 3600000ULL

#if UINTPTR_MAX > 0xffffffffUL
#define KERNEL_ADDR ((void *)0xffffffff81000000UL)
#else
/* Above TASK_SIZE of a compat task: the kernel's side of the split. */
#define KERNEL_ADDR ((void *)0xfffff000UL)
#endif

/* NULL hidden from the compiler, which would refuse read(fd, NULL, 8). */
static void *volatile null_ptr;

static long sys_read(int fd, void *buf, size_t len)
{
	ssize_t n = read(fd, buf, len);

	return n < 0 ? -errno : (long)n;
}

static long sys_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

/* Two pages with the second one unmapped: the first page's address. */
static char *map_page_then_hole(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (munmap(p + pg, pg)) {
		munmap(p, 2 * pg);
		return NULL;
	}
	memset(p, 0, pg);
	return p;
}

static void pin_to_one_cpu(void)
{
	cpu_set_t set;
	int cpu;

	if (sched_getaffinity(0, sizeof(set), &set))
		return;
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (CPU_ISSET(cpu, &set)) {
			fl_pin_cpu(cpu);
			return;
		}
	}
}

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	(void)sig;
	got_signal++;
}

/* Deliver SIGALRM once after @ms, with or without SA_RESTART. */
static int arm_signal(long ms, bool restart)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct itimerval it = {
		.it_value = { ms / 1000, (ms % 1000) * 1000 },
	};

	sa.sa_flags = restart ? SA_RESTART : 0;
	sigemptyset(&sa.sa_mask);
	got_signal = 0;
	if (sigaction(SIGALRM, &sa, NULL))
		return -errno;
	return setitimer(ITIMER_REAL, &it, NULL) ? -errno : 0;
}

static void disarm_signal(void)
{
	struct itimerval it = { 0 };

	setitimer(ITIMER_REAL, &it, NULL);
	signal(SIGALRM, SIG_IGN);
}

FIXTURE(flakeid) {
	int fd;
	bool settle;	/* borrowed milliseconds left behind: wait them out */
};

FIXTURE_SETUP(flakeid)
{
	self->fd = open(FLAKEID_DEVICE_PATH, O_RDONLY);
	ASSERT_LE(0, self->fd) {
		TH_LOG("open %s: %s", FLAKEID_DEVICE_PATH, strerror(errno));
	}
}

FIXTURE_TEARDOWN(flakeid)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->settle)
		fl_settle();
	/* A test that cannot put the defaults back breaks every later one. */
	EXPECT_EQ(0, fl_restore_defaults());
}

/* ---- configuration reporting ------------------------------------------ */

/* The suite (tests/main/guest.sh) loads the module without parameters. */
TEST_F(flakeid, config_defaults)
{
	struct flakeid_config c;
	char buf[64];

	ASSERT_EQ(0, fl_get_config(self->fd, &c));
	EXPECT_EQ(FLAKEID_DEFAULT_EPOCH_MS, c.epoch_ms);
	EXPECT_EQ((uint32_t)FLAKEID_DEFAULT_TIMESTAMP_BITS, c.timestamp_bits);
	EXPECT_EQ((uint32_t)FLAKEID_DEFAULT_REGION_BITS, c.region_bits);
	EXPECT_EQ((uint32_t)FLAKEID_DEFAULT_APP_BITS, c.app_bits);
	EXPECT_EQ((uint32_t)FLAKEID_DEFAULT_MACHINE_BITS, c.machine_bits);
	EXPECT_EQ((uint32_t)FLAKEID_DEFAULT_SEQUENCE_BITS, c.sequence_bits);
	EXPECT_EQ(0U, c.region_id);
	EXPECT_EQ(0U, c.app_id);
	EXPECT_EQ(0U, c.machine_id);
	EXPECT_EQ((uint32_t)FLAKEID_DEFAULT_MAX_BORROW_MS, c.max_borrow_ms);
	EXPECT_EQ(0U, c.reserved0);
	EXPECT_EQ(FLAKEID_UNTIL_NONE, c.until_ms);
	EXPECT_EQ(0ULL, c.vm_forks);
	EXPECT_EQ(sizeof(c), (size_t)c.size);

	/* sysfs shows the same configuration. */
	EXPECT_EQ(c.epoch_ms, fl_sysfs_u64("epoch_ms"));
	EXPECT_EQ((uint64_t)c.region_id, fl_sysfs_u64("region_id"));
	EXPECT_EQ((uint64_t)c.app_id, fl_sysfs_u64("app_id"));
	EXPECT_EQ((uint64_t)c.machine_id, fl_sysfs_u64("machine_id"));
	EXPECT_EQ((uint64_t)c.max_borrow_ms, fl_sysfs_u64("max_borrow_ms"));
	EXPECT_EQ(c.generation, fl_sysfs_u64("generation"));
	ASSERT_EQ(0, fl_sysfs_read("layout", buf, sizeof(buf)));
	EXPECT_STREQ(FL_DEFAULT_LAYOUT, buf);
}

/* Writable files are 0644, counters are not writable by anyone. */
TEST_F(flakeid, sysfs_files_and_modes)
{
	static const char *const rw[] = {
		"region_id", "app_id", "machine_id", "epoch_ms", "layout",
		"max_borrow_ms", "floor_ms", "floor_state", "until_ms",
		"until_wait_ms",
	};
	static const char *const ro[] = {
		"ids_issued", "clock_steps_back", "borrowed_ms", "waits",
		"refills", "ahead_ms", "generation", "until_waits",
		"until_refused", "vm_forks",
	};
	char path[256];
	struct stat st;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(rw); i++) {
		snprintf(path, sizeof(path), SYSFS_DIR "%s", rw[i]);
		ASSERT_EQ(0, stat(path, &st)) TH_LOG("%s: %s", path, strerror(errno));
		EXPECT_EQ(0644U, (unsigned int)(st.st_mode & 07777)) TH_LOG("%s", path);
	}
	for (i = 0; i < ARRAY_SIZE(ro); i++) {
		snprintf(path, sizeof(path), SYSFS_DIR "%s", ro[i]);
		ASSERT_EQ(0, stat(path, &st)) TH_LOG("%s: %s", path, strerror(errno));
		EXPECT_EQ(0U, (unsigned int)(st.st_mode & 0222)) TH_LOG("%s", path);
		EXPECT_NE(INT64_MIN, fl_sysfs_s64(ro[i])) TH_LOG("%s", path);
	}
	ASSERT_EQ(0, stat(FLAKEID_DEVICE_PATH, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0444U, (unsigned int)(st.st_mode & 07777));
}

/* ---- read(2) ------------------------------------------------------------ */

TEST_F(flakeid, read_zero_bytes)
{
	uint64_t buf[2] = { 0, 0 };

	EXPECT_EQ(0L, sys_read(self->fd, buf, 0));
	EXPECT_EQ(0L, sys_read(self->fd, null_ptr, 0));
	EXPECT_EQ(0ULL, buf[0]);
}

TEST_F(flakeid, read_1_to_7_bytes_einval)
{
	uint64_t buf[2];
	size_t len;

	for (len = 1; len < 8; len++) {
		memset(buf, 0xa5, sizeof(buf));
		EXPECT_EQ(-EINVAL, sys_read(self->fd, buf, len)) TH_LOG("len %zu", len);
		EXPECT_EQ(0xa5a5a5a5a5a5a5a5ULL, buf[0]) TH_LOG("len %zu wrote", len);
	}
}

/* 8k + r bytes: k IDs, the remainder is left alone. */
TEST_F(flakeid, read_rounds_down)
{
	uint64_t buf[8];
	size_t k, r;

	for (k = 1; k <= 3; k += 2) {
		for (r = 1; r < 8; r++) {
			memset(buf, 0xa5, sizeof(buf));
			EXPECT_EQ((long)(8 * k),
				  sys_read(self->fd, buf, 8 * k + r))
				TH_LOG("k %zu r %zu", k, r);
			EXPECT_EQ(0xa5a5a5a5a5a5a5a5ULL, buf[k]);
			EXPECT_NE(0xa5a5a5a5a5a5a5a5ULL, buf[k - 1]);
		}
	}
}

TEST_F(flakeid, read_strictly_increasing)
{
	enum { N = 4096, ROUNDS = 8 };
	uint64_t *ids = calloc(N, sizeof(*ids));
	uint64_t prev = 0;
	long n;
	int r, i;

	ASSERT_TRUE(ids != NULL);
	for (r = 0; r < ROUNDS; r++) {
		n = fl_read(self->fd, ids, N);
		ASSERT_LT(0L, n);
		for (i = 0; i < n; i++) {
			ASSERT_LT(prev, ids[i]) TH_LOG("round %d index %d", r, i);
			/* Default 63-bit layout: bit 63 never set. */
			ASSERT_EQ(0ULL, ids[i] >> 63);
			prev = ids[i];
		}
	}
	free(ids);
}

/* More than FLAKEID_BATCH_MAX IDs asked: a short read, whole IDs. */
TEST_F_TIMEOUT(flakeid, read_huge_buffer, 120)
{
	size_t len = 1UL << 30;
	uint64_t *buf;
	long n, i;

	buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (buf == MAP_FAILED) {
		len = 64UL << 20;
		buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	}
	ASSERT_TRUE(buf != MAP_FAILED);
	self->settle = true;

	n = sys_read(self->fd, buf, len - 3);
	ASSERT_LT(0L, n);
	EXPECT_EQ(0L, n % 8);
	EXPECT_LE((unsigned long)n, (unsigned long)FLAKEID_BATCH_MAX * 8);
	for (i = 1; i < n / 8; i++)
		ASSERT_LT(buf[i - 1], buf[i]) TH_LOG("index %ld", i);
	munmap(buf, len);
}

TEST_F(flakeid, read_bad_buffer_efault)
{
	uint64_t before, after;

	ASSERT_EQ(1L, fl_read(self->fd, &before, 1));
	EXPECT_EQ(-EFAULT, sys_read(self->fd, null_ptr, 8));
	EXPECT_EQ(-EFAULT, sys_read(self->fd, null_ptr, 8 * 1000));
	EXPECT_EQ(-EFAULT, sys_read(self->fd, (void *)-1L, 8));
	EXPECT_EQ(-EFAULT, sys_read(self->fd, KERNEL_ADDR, 8));
	EXPECT_EQ(-EFAULT, sys_read(self->fd, KERNEL_ADDR, 4096));
	/* The file still works, and stays ordered. */
	ASSERT_EQ(1L, fl_read(self->fd, &after, 1));
	EXPECT_LT(before, after);
}

/*
 * The buffer runs into an unmapped page: the whole IDs that fit before the
 * hole are returned; an ID straddling the hole is not counted.  IDs lost to
 * the fault are never reissued, so the next read is still greater.
 */
TEST_F(flakeid, read_partial_fault)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *p = map_page_then_hole();
	uint64_t a, b, next, before;

	ASSERT_TRUE(p != NULL);
	ASSERT_EQ(1L, fl_read(self->fd, &before, 1));

	EXPECT_EQ(16L, sys_read(self->fd, p + pg - 16, 8 * 1000));
	memcpy(&a, p + pg - 16, 8);
	memcpy(&b, p + pg - 8, 8);
	EXPECT_LT(before, a);
	EXPECT_LT(a, b);
	ASSERT_EQ(1L, fl_read(self->fd, &next, 1));
	EXPECT_LT(b, next);

	/* Misaligned: two whole IDs and 4 bytes of a third fit. */
	memset(p, 0, pg);
	EXPECT_EQ(16L, sys_read(self->fd, p + pg - 20, 8 * 1000));
	memcpy(&a, p + pg - 20, 8);
	memcpy(&b, p + pg - 12, 8);
	EXPECT_LT(next, a);
	EXPECT_LT(a, b);
	ASSERT_EQ(1L, fl_read(self->fd, &next, 1));
	EXPECT_LT(b, next);

	/* Not even one whole ID fits: nothing copied, EFAULT. */
	EXPECT_EQ(-EFAULT, sys_read(self->fd, p + pg - 7, 8 * 10));
	EXPECT_EQ(-EFAULT, sys_read(self->fd, p + pg - 4, 8));
	ASSERT_EQ(1L, fl_read(self->fd, &a, 1));
	EXPECT_LT(next, a);
	munmap(p, pg);
}

TEST_F(flakeid, seek_and_pread_espipe)
{
	uint64_t id;

	errno = 0;
	EXPECT_EQ((off_t)-1, lseek(self->fd, 0, SEEK_SET));
	EXPECT_EQ(ESPIPE, errno);
	errno = 0;
	EXPECT_EQ((off_t)-1, lseek(self->fd, 8, SEEK_CUR));
	EXPECT_EQ(ESPIPE, errno);
	errno = 0;
	EXPECT_EQ((ssize_t)-1, pread(self->fd, &id, 8, 0));
	EXPECT_EQ(ESPIPE, errno);
	errno = 0;
	EXPECT_EQ((ssize_t)-1, pread(self->fd, &id, 8, 4096));
	EXPECT_EQ(ESPIPE, errno);
}

/* The file position in /proc/self/fdinfo, or -1. */
static long long fdinfo_pos(int fd)
{
	char path[64], line[128];
	long long pos = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "pos: %lld", &pos) == 1)
			break;
	fclose(f);
	return pos;
}

/*
 * The file has no position: reads of any kind leave fdinfo's pos at 0.
 * (Whether read() also stops touching f_pos at all, as stream_open()
 * makes it, is not visible from here: KCSAN's strict mode is what showed
 * the race on it, see tests/kernels/README.md.)
 */
TEST_F(flakeid, reads_leave_file_position_alone)
{
	struct flakeid_batch b = { .size = sizeof(b), .count = 8 };
	uint64_t ids[8];
	struct iovec iov[2] = {
		{ .iov_base = ids, .iov_len = 3 * sizeof(ids[0]) },
		{ .iov_base = ids + 3, .iov_len = 5 * sizeof(ids[0]) },
	};

	b.ids = (uintptr_t)ids;
	ASSERT_EQ(0LL, fdinfo_pos(self->fd));
	ASSERT_EQ(8L, fl_read(self->fd, ids, 8));
	EXPECT_EQ(0LL, fdinfo_pos(self->fd));
	ASSERT_EQ((ssize_t)sizeof(ids), readv(self->fd, iov, 2));
	EXPECT_EQ(0LL, fdinfo_pos(self->fd));
	ASSERT_EQ(0, sys_ioctl(self->fd, FLAKEID_IOC_BATCH, &b));
	EXPECT_EQ(0LL, fdinfo_pos(self->fd));
}

TEST_F(flakeid, mmap_enodev)
{
	void *p;

	errno = 0;
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, self->fd, 0);
	EXPECT_TRUE(p == MAP_FAILED);
	EXPECT_EQ(ENODEV, errno);
	errno = 0;
	p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, self->fd, 0);
	EXPECT_TRUE(p == MAP_FAILED);
	EXPECT_EQ(ENODEV, errno);
}

TEST_F(flakeid, write_refused)
{
	uint64_t id = 1;
	int fd;

	errno = 0;
	EXPECT_EQ((ssize_t)-1, write(self->fd, &id, 8));
	EXPECT_EQ(EBADF, errno);

	/* Root may open a 0444 node for writing; write then gives EINVAL. */
	fd = open(FLAKEID_DEVICE_PATH, O_RDWR);
	if (fd >= 0) {
		errno = 0;
		EXPECT_EQ((ssize_t)-1, write(fd, &id, 8));
		EXPECT_EQ(EINVAL, errno);
		close(fd);
	}
}

/* ---- ioctl: commands and arguments ------------------------------------- */

TEST_F(flakeid, ioctl_unknown_enotty)
{
	struct flakeid_batch b = { .size = sizeof(b) };
	unsigned char zero[256] = { 0 };
	struct termios tio;
	const unsigned long cmds[] = {
		_IO(FLAKEID_IOC_TYPE, 0x00),
		_IO(FLAKEID_IOC_TYPE, 0x04),
		_IO(FLAKEID_IOC_TYPE, 0x7f),
		_IO(FLAKEID_IOC_TYPE, 0xff),
		/* The direction is part of the command number. */
		_IO(FLAKEID_IOC_TYPE, 0x01),
		_IOR(FLAKEID_IOC_TYPE, 0x03, struct flakeid_config),
		_IOW(FLAKEID_IOC_TYPE, 0x02, struct flakeid_decode),
		/* The numbers before the commands carried a direction. */
		_IO(0xB8, 0x01),
		_IO(0xB8, 0x03),
		/* Other drivers' magic numbers. */
		_IO(FLAKEID_IOC_TYPE + 1, 0x01),
		_IO(FLAKEID_IOC_TYPE - 1, 0x03),
		_IOWR('V', 0x01, struct flakeid_batch),
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		EXPECT_EQ(-ENOTTY, sys_ioctl(self->fd, cmds[i], zero))
			TH_LOG("cmd %#lx", cmds[i]);
		EXPECT_EQ(-ENOTTY, sys_ioctl(self->fd, cmds[i], &b))
			TH_LOG("cmd %#lx", cmds[i]);
	}
	errno = 0;
	EXPECT_EQ(-1, tcgetattr(self->fd, &tio));
	EXPECT_EQ(ENOTTY, errno);
}

/* The commands say their direction and size, for strace and seccomp. */
TEST_F(flakeid, ioctl_numbers_carry_direction_and_size)
{
	struct flakeid_batch b = { .size = sizeof(b), .count = 1 };
	uint64_t id = 0;

	EXPECT_EQ((unsigned long)(_IOC_READ | _IOC_WRITE),
		  (unsigned long)_IOC_DIR(FLAKEID_IOC_BATCH));
	EXPECT_EQ(sizeof(struct flakeid_batch), _IOC_SIZE(FLAKEID_IOC_BATCH));
	EXPECT_EQ(sizeof(struct flakeid_decode), _IOC_SIZE(FLAKEID_IOC_DECODE));
	EXPECT_EQ(sizeof(struct flakeid_config), _IOC_SIZE(FLAKEID_IOC_CONFIG));
	EXPECT_EQ((unsigned long)FLAKEID_IOC_TYPE,
		  (unsigned long)_IOC_TYPE(FLAKEID_IOC_CONFIG));
	/* The kernel goes by @size: a command built for a grown struct works. */
	b.ids = (uintptr_t)&id;
	EXPECT_EQ(0L, sys_ioctl(self->fd, _IOC(_IOC_READ | _IOC_WRITE,
					       FLAKEID_IOC_TYPE, 0x01, 512), &b));
	EXPECT_EQ(1ULL, (unsigned long long)b.count);
	EXPECT_NE(0ULL, (unsigned long long)id);
}

TEST_F(flakeid, ioctl_bad_arg_efault)
{
	const unsigned long cmds[] = {
		FLAKEID_IOC_BATCH, FLAKEID_IOC_DECODE, FLAKEID_IOC_CONFIG,
	};
	char *hole = map_page_then_hole();
	long pg = sysconf(_SC_PAGESIZE);
	size_t i;

	ASSERT_TRUE(hole != NULL);
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		EXPECT_EQ(-EFAULT, sys_ioctl(self->fd, cmds[i], NULL))
			TH_LOG("cmd %#lx", cmds[i]);
		EXPECT_EQ(-EFAULT, sys_ioctl(self->fd, cmds[i], (void *)-1L))
			TH_LOG("cmd %#lx", cmds[i]);
		EXPECT_EQ(-EFAULT, sys_ioctl(self->fd, cmds[i], KERNEL_ADDR))
			TH_LOG("cmd %#lx", cmds[i]);
		EXPECT_EQ(-EFAULT, sys_ioctl(self->fd, cmds[i], hole + pg))
			TH_LOG("cmd %#lx", cmds[i]);
		/* The size member readable, the rest of the struct not. */
		memset(hole, 0, pg);
		*(uint32_t *)(hole + pg - 8) = 88;
		EXPECT_EQ(-EFAULT, sys_ioctl(self->fd, cmds[i], hole + pg - 8))
			TH_LOG("cmd %#lx", cmds[i]);
	}
	munmap(hole, pg);
}

/* Fill @p with a valid request for @cmd of @size bytes (struct + tail). */
static void valid_request(unsigned long cmd, void *p, size_t size,
			  uint64_t *ids)
{
	memset(p, 0, size);
	if (cmd == FLAKEID_IOC_BATCH) {
		struct flakeid_batch *b = p;

		b->count = 4;
		b->ids = (uintptr_t)ids;
	} else if (cmd == FLAKEID_IOC_DECODE) {
		((struct flakeid_decode *)p)->id = 12345ULL << 22;
	} else if (cmd == FLAKEID_IOC_UUID7_BATCH) {
		struct flakeid_uuid7_batch *b = p;

		/* @ids has room for 4 IDs: 2 UUIDs. */
		b->count = 2;
		b->uuids = (uintptr_t)ids;
	}
	*(uint32_t *)p = (uint32_t)size;
}

/*
 * The size member: below VER0 is EINVAL, larger with a zero tail works,
 * larger with any non-zero byte in the tail is E2BIG; a tail reaching into
 * an unmapped page is EFAULT.
 */
static void check_sizes(struct __test_metadata *_metadata, int fd,
			unsigned long cmd, size_t ver0, size_t cur)
{
	const size_t small[] = { 0, 1, 4, 8, 16, ver0 - 8, ver0 - 1 };
	long pg = sysconf(_SC_PAGESIZE);
	char *p = map_page_then_hole();
	size_t big[] = { cur + 1, cur + 7, cur + 8, cur + 64, (size_t)pg };
	uint64_t ids[4];
	size_t i, j;
	long ret;

	ASSERT_TRUE(p != NULL);
	ASSERT_EQ(ver0, cur);

	valid_request(cmd, p, cur, ids);
	ASSERT_EQ(0L, sys_ioctl(fd, cmd, p)) TH_LOG("cmd %#lx valid", cmd);

	for (i = 0; i < ARRAY_SIZE(small); i++) {
		valid_request(cmd, p, cur, ids);
		*(uint32_t *)p = (uint32_t)small[i];
		EXPECT_EQ(-EINVAL, sys_ioctl(fd, cmd, p))
			TH_LOG("cmd %#lx size %zu", cmd, small[i]);
	}
	for (i = 0; i < ARRAY_SIZE(big); i++) {
		valid_request(cmd, p, big[i], ids);
		EXPECT_EQ(0L, sys_ioctl(fd, cmd, p))
			TH_LOG("cmd %#lx size %zu zero tail", cmd, big[i]);
		/* Output never lands past the kernel's own struct. */
		for (j = cur; j < big[i]; j++)
			if (p[j])
				break;
		EXPECT_EQ(big[i], j) TH_LOG("cmd %#lx size %zu: tail written",
					   cmd, big[i]);

		valid_request(cmd, p, big[i], ids);
		p[cur] = 1;
		EXPECT_EQ(-E2BIG, sys_ioctl(fd, cmd, p))
			TH_LOG("cmd %#lx size %zu first tail byte", cmd, big[i]);
		valid_request(cmd, p, big[i], ids);
		p[big[i] - 1] = (char)0x80;
		EXPECT_EQ(-E2BIG, sys_ioctl(fd, cmd, p))
			TH_LOG("cmd %#lx size %zu last tail byte", cmd, big[i]);
	}
	/* Huge sizes are not trusted: the tail is in an unmapped page. */
	valid_request(cmd, p + pg - cur, cur, ids);
	*(uint32_t *)(p + pg - cur) = (uint32_t)(cur + 8);
	EXPECT_EQ(-EFAULT, sys_ioctl(fd, cmd, p + pg - cur)) TH_LOG("cmd %#lx", cmd);
	/* 4 GiB: EFAULT, or E2BIG from a sanity cap (as openat2 does). */
	valid_request(cmd, p + pg - cur, cur, ids);
	*(uint32_t *)(p + pg - cur) = 0xffffffffU;
	ret = sys_ioctl(fd, cmd, p + pg - cur);
	EXPECT_TRUE(ret == -EFAULT || ret == -E2BIG) TH_LOG("cmd %#lx: %ld", cmd, ret);
	munmap(p, pg);
}

TEST_F(flakeid, batch_struct_size)
{
	check_sizes(_metadata, self->fd, FLAKEID_IOC_BATCH,
		    FLAKEID_BATCH_SIZE_VER0, sizeof(struct flakeid_batch));
}

TEST_F(flakeid, decode_struct_size)
{
	check_sizes(_metadata, self->fd, FLAKEID_IOC_DECODE,
		    FLAKEID_DECODE_SIZE_VER0, sizeof(struct flakeid_decode));
}

TEST_F(flakeid, config_struct_size)
{
	check_sizes(_metadata, self->fd, FLAKEID_IOC_CONFIG,
		    FLAKEID_CONFIG_SIZE_VER0, sizeof(struct flakeid_config));
}

TEST_F(flakeid, unknown_flags_einval)
{
	struct flakeid_batch b;
	struct flakeid_decode d;
	struct flakeid_config c;
	uint64_t ids[4] = { 0 };
	int bit;

	for (bit = 0; bit < 32; bit++) {
		uint32_t f = 1U << bit;

		if (f != FLAKEID_BATCH_NONBLOCK) {
			memset(&b, 0, sizeof(b));
			b.size = sizeof(b);
			b.flags = f;
			b.count = 4;
			b.ids = (uintptr_t)ids;
			EXPECT_EQ(-EINVAL, sys_ioctl(self->fd, FLAKEID_IOC_BATCH, &b))
				TH_LOG("batch flag bit %d", bit);
			EXPECT_EQ(4ULL, b.count);
		}
		memset(&d, 0, sizeof(d));
		d.size = sizeof(d);
		d.flags = f;
		EXPECT_EQ(-EINVAL, sys_ioctl(self->fd, FLAKEID_IOC_DECODE, &d))
			TH_LOG("decode flag bit %d", bit);
		memset(&c, 0, sizeof(c));
		c.size = sizeof(c);
		c.flags = f;
		EXPECT_EQ(-EINVAL, sys_ioctl(self->fd, FLAKEID_IOC_CONFIG, &c))
			TH_LOG("config flag bit %d", bit);
	}
	EXPECT_EQ(0ULL, ids[0]);
}

TEST_F(flakeid, reserved_nonzero_einval)
{
	const uint64_t vals[] = { 1, 1ULL << 31, 1ULL << 63, ~0ULL };
	struct flakeid_batch b;
	struct flakeid_decode d;
	struct flakeid_config c;
	uint64_t ids[4] = { 0 };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(vals); i++) {
		memset(&b, 0, sizeof(b));
		b.size = sizeof(b);
		b.count = 4;
		b.ids = (uintptr_t)ids;
		b.reserved = vals[i];
		EXPECT_EQ(-EINVAL, sys_ioctl(self->fd, FLAKEID_IOC_BATCH, &b));

		memset(&d, 0, sizeof(d));
		d.size = sizeof(d);
		d.reserved = vals[i];
		EXPECT_EQ(-EINVAL, sys_ioctl(self->fd, FLAKEID_IOC_DECODE, &d));

		memset(&c, 0, sizeof(c));
		c.size = sizeof(c);
		c.reserved0 = (uint32_t)vals[i] | 1;
		EXPECT_EQ(-EINVAL, sys_ioctl(self->fd, FLAKEID_IOC_CONFIG, &c));
		/* Output members, reserved before the ceiling: any input. */
		memset(&c, 0, sizeof(c));
		c.size = sizeof(c);
		c.until_ms = vals[i];
		c.vm_forks = vals[i];
		EXPECT_EQ(0, sys_ioctl(self->fd, FLAKEID_IOC_CONFIG, &c));
		EXPECT_EQ(FLAKEID_UNTIL_NONE, c.until_ms);
		EXPECT_EQ(0ULL, c.vm_forks);
	}
	EXPECT_EQ(0ULL, ids[0]);
}

/* ---- FLAKEID_IOC_BATCH ------------------------------------------------- */

TEST_F(flakeid, batch_count_zero)
{
	struct flakeid_batch b = { .size = sizeof(b) };
	uint64_t ids[2] = { 7, 7 };

	b.ids = (uintptr_t)ids;
	ASSERT_EQ(0L, sys_ioctl(self->fd, FLAKEID_IOC_BATCH, &b));
	EXPECT_EQ(0ULL, b.count);
	EXPECT_EQ(7ULL, ids[0]);
}

/* Over the cap (and values whose count * 8 wraps or truncates): EINVAL. */
TEST_F(flakeid, batch_count_over_cap_einval)
{
	const uint64_t counts[] = {
		(uint64_t)FLAKEID_BATCH_MAX + 1, 1ULL << 32, (1ULL << 32) + 1,
		1ULL << 61, (1ULL << 61) + 1, 1ULL << 63, ~0ULL,
	};
	struct flakeid_batch b;
	uint64_t ids[4];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(counts); i++) {
		memset(ids, 0xa5, sizeof(ids));
		memset(&b, 0, sizeof(b));
		b.size = sizeof(b);
		b.count = counts[i];
		b.ids = (uintptr_t)ids;
		EXPECT_EQ(-EINVAL, sys_ioctl(self->fd, FLAKEID_IOC_BATCH, &b))
			TH_LOG("count %#llx", (unsigned long long)counts[i]);
		EXPECT_EQ(0xa5a5a5a5a5a5a5a5ULL, ids[0])
			TH_LOG("count %#llx wrote IDs", (unsigned long long)counts[i]);
	}
}

TEST_F_TIMEOUT(flakeid, batch_count_at_cap, 120)
{
	size_t len = (size_t)FLAKEID_BATCH_MAX * 8;
	uint64_t *ids = mmap(NULL, len, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long n, i;

	ASSERT_TRUE(ids != MAP_FAILED);
	self->settle = true;
	n = fl_batch(self->fd, ids, FLAKEID_BATCH_MAX, 0);
	ASSERT_LT(0L, n);
	EXPECT_LE((unsigned long)n, (unsigned long)FLAKEID_BATCH_MAX);
	for (i = 1; i < n; i++)
		ASSERT_LT(ids[i - 1], ids[i]) TH_LOG("index %ld", i);
	munmap(ids, len);
}

TEST_F(flakeid, batch_bad_pointer_efault)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *p = map_page_then_hole();
	struct flakeid_batch b;
	uint64_t a, c;

	ASSERT_TRUE(p != NULL);
	ASSERT_EQ(1L, fl_read(self->fd, &a, 1));
	EXPECT_EQ(-EFAULT, fl_batch(self->fd, NULL, 10, 0));
	EXPECT_EQ(-EFAULT, fl_batch(self->fd, (uint64_t *)-8L, 1, 0));
	EXPECT_EQ(-EFAULT, fl_batch(self->fd, KERNEL_ADDR, 10, 0));
	EXPECT_EQ(-EFAULT, fl_batch(self->fd, (uint64_t *)(p + pg), 10, 0));
	EXPECT_EQ(-EFAULT, fl_batch(self->fd, (uint64_t *)(p + pg - 4), 1, 0));

	/* A pointer that does not fit a 32-bit process's address space. */
	memset(&b, 0, sizeof(b));
	b.size = sizeof(b);
	b.count = 1;
	b.ids = 0xdead000000000000ULL;
	EXPECT_EQ(-EFAULT, sys_ioctl(self->fd, FLAKEID_IOC_BATCH, &b));

	/* Two whole IDs fit before the hole: those, or EFAULT. */
	memset(&b, 0, sizeof(b));
	b.size = sizeof(b);
	b.count = 100;
	b.ids = (uintptr_t)(p + pg - 16);
	if (sys_ioctl(self->fd, FLAKEID_IOC_BATCH, &b) == 0) {
		EXPECT_EQ(2ULL, b.count);
	} else {
		EXPECT_EQ(EFAULT, errno);
	}
	ASSERT_EQ(1L, fl_read(self->fd, &c, 1));
	EXPECT_LT(a, c);
	if (b.count == 2) {
		memcpy(&a, p + pg - 8, 8);
		EXPECT_LT(a, c);
	}
	munmap(p, pg);
}

/* Batches and reads on one file interleave in one increasing sequence. */
TEST_F(flakeid, batch_and_read_increasing)
{
	enum { N = 1000 };
	uint64_t *ids = calloc(N, sizeof(*ids));
	uint64_t prev = 0;
	long n, i;
	int r;

	ASSERT_TRUE(ids != NULL);
	for (r = 0; r < 12; r++) {
		if (r % 3 == 0)
			n = fl_read(self->fd, ids, N);
		else
			n = fl_batch(self->fd, ids, N,
				     r % 3 == 2 ? FLAKEID_BATCH_NONBLOCK : 0);
		if (n == -EAGAIN && r % 3 == 2)
			continue;
		ASSERT_LT(0L, n) TH_LOG("round %d", r);
		ASSERT_GE((long)N, n);
		for (i = 0; i < n; i++) {
			ASSERT_LT(prev, ids[i]) TH_LOG("round %d index %ld", r, i);
			prev = ids[i];
		}
	}
	free(ids);
}

/* ---- FLAKEID_IOC_DECODE ------------------------------------------------ */

TEST_F(flakeid, decode_round_trip)
{
	struct flakeid_config c;
	struct flakeid_decode d;
	struct fl_layout l;
	struct fl_fields f[6];
	uint64_t id;
	size_t i;

	ASSERT_EQ(0, fl_get_config(self->fd, &c));
	fl_layout_of(&c, &l);
	f[0] = (struct fl_fields){ 0, 0, 0, 0, 0 };
	f[1] = (struct fl_fields){ fl_mask(l.ts), (uint32_t)fl_mask(l.region),
				   (uint32_t)fl_mask(l.app),
				   (uint32_t)fl_mask(l.machine),
				   (uint32_t)fl_mask(l.seq) };
	f[2] = (struct fl_fields){ 1, 0, 0, 0, 0 };
	f[3] = (struct fl_fields){ 0, 0, 0, 0, 1 };
	f[4] = (struct fl_fields){ 57600000000ULL, 9, 5, 17, 1000 };
	f[5] = (struct fl_fields){ 1ULL << (l.ts - 1), 1, 1, 1, 1 };
	for (i = 0; i < ARRAY_SIZE(f); i++) {
		f[i].region &= fl_mask(l.region);
		f[i].app &= fl_mask(l.app);
		f[i].machine &= fl_mask(l.machine);
		f[i].seq &= fl_mask(l.seq);
		id = fl_compose(&l, &f[i]);

		/* Output members are written whatever their input. */
		memset(&d, 0x5a, sizeof(d));
		d.size = sizeof(d);
		d.flags = 0;
		d.reserved = 0;
		d.id = id;
		ASSERT_EQ(0L, sys_ioctl(self->fd, FLAKEID_IOC_DECODE, &d))
			TH_LOG("id %#llx", (unsigned long long)id);
		EXPECT_EQ(id, d.id);
		EXPECT_EQ(f[i].ts, d.timestamp) TH_LOG("case %zu", i);
		EXPECT_EQ(f[i].ts + c.epoch_ms, d.unix_ms) TH_LOG("case %zu", i);
		EXPECT_EQ(f[i].region, d.region_id) TH_LOG("case %zu", i);
		EXPECT_EQ(f[i].app, d.app_id) TH_LOG("case %zu", i);
		EXPECT_EQ(f[i].machine, d.machine_id) TH_LOG("case %zu", i);
		EXPECT_EQ(f[i].seq, d.sequence) TH_LOG("case %zu", i);
		EXPECT_EQ(0ULL, d.reserved);
		EXPECT_EQ(0U, d.flags);
	}
}

TEST_F(flakeid, decode_zero)
{
	struct flakeid_config c;
	struct flakeid_decode d;

	ASSERT_EQ(0, fl_get_config(self->fd, &c));
	memset(&d, 0xff, sizeof(d));
	d.size = sizeof(d);
	d.flags = 0;
	d.reserved = 0;
	d.id = 0;
	ASSERT_EQ(0L, sys_ioctl(self->fd, FLAKEID_IOC_DECODE, &d));
	EXPECT_EQ(c.epoch_ms, d.unix_ms);
	EXPECT_EQ(0ULL, d.timestamp);
	EXPECT_EQ(0U, d.region_id);
	EXPECT_EQ(0U, d.app_id);
	EXPECT_EQ(0U, d.machine_id);
	EXPECT_EQ(0U, d.sequence);
}

/* Bits above the 63-bit default layout are EINVAL. */
TEST_F(flakeid, decode_high_bits_einval)
{
	struct flakeid_decode d;

	EXPECT_EQ(-EINVAL, fl_decode(self->fd, ~0ULL, &d));
	EXPECT_EQ(-EINVAL, fl_decode(self->fd, 1ULL << 63, &d));
	EXPECT_EQ(-EINVAL, fl_decode(self->fd, (1ULL << 63) | 1, &d));
	EXPECT_EQ(0, fl_decode(self->fd, ~0ULL >> 1, &d));
	EXPECT_EQ((1ULL << 41) - 1, d.timestamp);
	EXPECT_EQ(1023U, d.sequence);
}

/* Fresh IDs carry the ID clock's time and the configured ids. */
TEST_F(flakeid, decode_fresh_ids)
{
	struct flakeid_config c;
	struct flakeid_decode d;
	struct fl_layout l;
	struct fl_fields f;
	uint64_t ids[64];
	int64_t before, after;
	long n, i;

	ASSERT_EQ(0, fl_get_config(self->fd, &c));
	fl_layout_of(&c, &l);
	before = fl_idclock_ms();
	ASSERT_NE(INT64_MIN, before);
	n = fl_read(self->fd, ids, 64);
	after = fl_idclock_ms();
	ASSERT_EQ(64L, n);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, fl_decode(self->fd, ids[i], &d));
		EXPECT_LE(before - 2000, (int64_t)d.unix_ms) TH_LOG("index %ld", i);
		EXPECT_GE(after + (int64_t)c.max_borrow_ms + 2000, (int64_t)d.unix_ms)
			TH_LOG("index %ld", i);
		EXPECT_EQ(c.region_id, d.region_id);
		EXPECT_EQ(c.app_id, d.app_id);
		EXPECT_EQ(c.machine_id, d.machine_id);
		fl_split(&l, ids[i], &f);
		EXPECT_EQ(f.ts, d.timestamp);
		EXPECT_EQ(f.ts + c.epoch_ms, d.unix_ms);
		EXPECT_EQ(f.seq, d.sequence);
	}
}

/* ---- FLAKEID_IOC_CONFIG ------------------------------------------------ */

/* floor_ms is at or after the timestamp of every ID issued so far. */
TEST_F(flakeid, config_floor_covers_issued)
{
	struct flakeid_config c;
	struct flakeid_decode d;
	uint64_t ids[256];
	long n;

	n = fl_batch(self->fd, ids, 256, 0);
	ASSERT_LT(0L, n);
	ASSERT_EQ(0, fl_decode(self->fd, ids[n - 1], &d));
	ASSERT_EQ(0, fl_get_config(self->fd, &c));
	EXPECT_LE(d.unix_ms, c.floor_ms);
	EXPECT_LE(d.unix_ms, fl_sysfs_u64("floor_ms"));
}

/* Every accepted change bumps generation by one; refused ones do not. */
TEST_F(flakeid, config_generation)
{
	struct flakeid_config c0, c1;

	ASSERT_EQ(0, fl_get_config(self->fd, &c0));
	ASSERT_LT(0L, fl_sysfs_write_settled("region_id", "7"));
	ASSERT_EQ(0, fl_get_config(self->fd, &c1));
	EXPECT_EQ(c0.generation + 1, c1.generation);
	EXPECT_EQ(7U, c1.region_id);
	EXPECT_EQ(c1.generation, fl_sysfs_u64("generation"));

	EXPECT_EQ(-ERANGE, fl_sysfs_write("region_id", "16"));
	EXPECT_EQ(-EINVAL, fl_sysfs_write("app_id", "x"));
	ASSERT_EQ(0, fl_get_config(self->fd, &c0));
	EXPECT_EQ(c1.generation, c0.generation);
	EXPECT_EQ(7U, c0.region_id);

	ASSERT_LT(0L, fl_sysfs_write_settled("machine_id", "9"));
	ASSERT_EQ(0, fl_get_config(self->fd, &c1));
	EXPECT_EQ(c0.generation + 1, c1.generation);
	EXPECT_EQ(9U, c1.machine_id);
}

/* ---- sysfs: parsing ------------------------------------------------------ */

struct numfile {
	const char *name;
	bool u32;
};

static const struct numfile numfiles[] = {
	{ "region_id", true }, { "app_id", true }, { "machine_id", true },
	{ "max_borrow_ms", true }, { "epoch_ms", false }, { "floor_ms", false },
};

/* Refused input changes nothing: value and generation stay. */
static void expect_refused(struct __test_metadata *_metadata,
			   const char *name, const char *val, int err1,
			   int err2)
{
	uint64_t v0 = fl_sysfs_u64(name), g0 = fl_sysfs_u64("generation");
	long ret = fl_sysfs_write(name, val);
	char buf[64];

	if (ret != err2)
		EXPECT_EQ((long)err1, ret) TH_LOG("%s <- \"%s\"", name, val);
	if (strcmp(name, "floor_ms") == 0) {
		/* floor_ms moves with the clock; it must not jump to val. */
		EXPECT_GE(v0 + 60000, fl_sysfs_u64(name)) TH_LOG("%s <- \"%s\"", name, val);
	} else if (strcmp(name, "layout") == 0) {
		EXPECT_EQ(0, fl_sysfs_read("layout", buf, sizeof(buf)));
		EXPECT_STREQ(FL_DEFAULT_LAYOUT, buf) TH_LOG("layout <- \"%s\"", val);
	} else {
		EXPECT_EQ(v0, fl_sysfs_u64(name)) TH_LOG("%s <- \"%s\"", name, val);
	}
	EXPECT_EQ(g0, fl_sysfs_u64("generation")) TH_LOG("%s <- \"%s\"", name, val);
}

TEST_F(flakeid, sysfs_malformed_einval)
{
	static const char *const bad[] = {
		"\n", "abc", "-1", "0x10", "1e3", "5x", " 5", "5 5", "--5", "\t",
	};
	char path[256];
	size_t i, j;
	int fd;

	for (i = 0; i < ARRAY_SIZE(numfiles); i++) {
		for (j = 0; j < ARRAY_SIZE(bad); j++)
			expect_refused(_metadata, numfiles[i].name, bad[j],
				       -EINVAL, -EINVAL);
		/* An empty write never reaches store(): 0, nothing changes. */
		snprintf(path, sizeof(path), SYSFS_DIR "%s", numfiles[i].name);
		fd = open(path, O_WRONLY);
		ASSERT_LE(0, fd);
		EXPECT_EQ(0L, (long)write(fd, "", 0));
		close(fd);
	}
}

TEST_F(flakeid, sysfs_out_of_range_erange)
{
	char buf[64];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(numfiles); i++) {
		expect_refused(_metadata, numfiles[i].name,
			       "123456789012345678901", -ERANGE, -ERANGE);
		expect_refused(_metadata, numfiles[i].name,
			       "18446744073709551616", -ERANGE, -ERANGE);
		if (numfiles[i].u32)
			expect_refused(_metadata, numfiles[i].name,
				       "4294967296", -ERANGE, -ERANGE);
	}
	/* Values that parse but do not fit the field (2^bits). */
	expect_refused(_metadata, "region_id", "16", -ERANGE, -ERANGE);
	expect_refused(_metadata, "region_id", "4294967295", -ERANGE, -ERANGE);
	expect_refused(_metadata, "app_id", "8", -ERANGE, -ERANGE);
	expect_refused(_metadata, "machine_id", "32", -ERANGE, -ERANGE);
	expect_refused(_metadata, "max_borrow_ms", "60001", -ERANGE, -ERANGE);
	expect_refused(_metadata, "max_borrow_ms", "4294967295", -ERANGE, -ERANGE);
	/* An epoch after the ID clock. */
	snprintf(buf, sizeof(buf), "%lld",
		 (long long)fl_idclock_ms() + 86400000LL);
	expect_refused(_metadata, "epoch_ms", buf, -ERANGE, -ERANGE);
	/* A floor whose timestamp does not fit 41 bits. */
	snprintf(buf, sizeof(buf), "%llu",
		 (unsigned long long)(FLAKEID_DEFAULT_EPOCH_MS + (1ULL << 41)));
	expect_refused(_metadata, "floor_ms", buf, -ERANGE, -ERANGE);
	expect_refused(_metadata, "floor_ms", "18446744073709551615", -ERANGE,
		       -ERANGE);
}

/* "5", "5\n" and "+5" are accepted as 5; the boundary 2^bits - 1 too. */
TEST_F(flakeid, sysfs_accepted_forms)
{
	static const char *const ids[] = { "region_id", "app_id", "machine_id",
					   "max_borrow_ms" };
	static const char *const forms[] = { "5\n", "+5", "0", "5" };
	struct flakeid_config c;
	char buf[32];
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(ids); i++) {
		for (j = 0; j < ARRAY_SIZE(forms); j++) {
			EXPECT_EQ((long)strlen(forms[j]),
				  fl_sysfs_write_settled(ids[i], forms[j]))
				TH_LOG("%s <- \"%s\"", ids[i], forms[j]);
			EXPECT_EQ(forms[j][0] == '0' ? 0ULL : 5ULL,
				  fl_sysfs_u64(ids[i]))
				TH_LOG("%s <- \"%s\"", ids[i], forms[j]);
		}
	}
	ASSERT_EQ(0, fl_get_config(self->fd, &c));
	EXPECT_EQ(5U, c.region_id);
	EXPECT_EQ(5U, c.app_id);
	EXPECT_EQ(5U, c.machine_id);
	EXPECT_EQ(5U, c.max_borrow_ms);

	EXPECT_LT(0L, fl_sysfs_write_settled("region_id", "15"));
	EXPECT_LT(0L, fl_sysfs_write_settled("app_id", "7\n"));
	EXPECT_LT(0L, fl_sysfs_write_settled("machine_id", "+31"));
	EXPECT_LT(0L, fl_sysfs_write("max_borrow_ms", "60000"));
	ASSERT_EQ(0, fl_get_config(self->fd, &c));
	EXPECT_EQ(15U, c.region_id);
	EXPECT_EQ(7U, c.app_id);
	EXPECT_EQ(31U, c.machine_id);
	EXPECT_EQ(60000U, c.max_borrow_ms);

	/* The same epoch again, with a '+' and a newline. */
	snprintf(buf, sizeof(buf), "+%llu\n",
		 (unsigned long long)FLAKEID_DEFAULT_EPOCH_MS);
	EXPECT_EQ((long)strlen(buf), fl_sysfs_write_settled("epoch_ms", buf));
	EXPECT_EQ(FLAKEID_DEFAULT_EPOCH_MS, fl_sysfs_u64("epoch_ms"));
	/* A floor far in the past: accepted, changes nothing. */
	EXPECT_EQ(2L, fl_sysfs_write("floor_ms", "+5"));
}

TEST_F(flakeid, sysfs_layout_malformed)
{
	static const char *const syntax[] = {
		"41:4:3:5", "41:4:3:5:10:1", "abc", "\n", "41:4:3:5:",
		":4:3:5:10", "41:4:3:5:x", "41,4,3,5,10", "41:4:3:5:-1",
		"41:4:3:5:10x", "41 4 3 5 10", "41:4:3:5:10:",
	};
	/* Well formed, against the layout rules. */
	static const char *const rules[] = {
		"41:4:3:5:0", "31:4:3:5:10", "41:4:3:5:12", "41:4:3:5:33",
		"64:0:0:0:1", "32:0:0:0:33", "41:4:3:16:1", "0:0:0:0:10",
		"99999999999:4:3:5:10", "41:4:3:5:4294967306",
		/* The current time does not fit 32 timestamp bits. */
		"32:4:3:5:20",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(syntax); i++)
		expect_refused(_metadata, "layout", syntax[i], -EINVAL, -EINVAL);
	for (i = 0; i < ARRAY_SIZE(rules); i++)
		expect_refused(_metadata, "layout", rules[i], -EINVAL, -ERANGE);
	/* A narrower shift would need a jump of years: ERANGE. */
	expect_refused(_metadata, "layout", "41:4:3:5:9", -ERANGE, -ERANGE);
	expect_refused(_metadata, "layout", "42:4:3:5:9", -ERANGE, -ERANGE);
	expect_refused(_metadata, "layout", "41:0:0:0:1", -ERANGE, -ERANGE);
}

/* The current ids must fit the new layout. */
TEST_F(flakeid, sysfs_layout_ids_must_fit)
{
	char buf[64];
	long ret;

	ASSERT_LT(0L, fl_sysfs_write_settled("region_id", "5"));
	ret = fl_sysfs_write("layout", "41:2:3:7:10");
	EXPECT_TRUE(ret == -EINVAL || ret == -ERANGE) TH_LOG("got %ld", ret);
	ASSERT_EQ(0, fl_sysfs_read("layout", buf, sizeof(buf)));
	EXPECT_STREQ(FL_DEFAULT_LAYOUT, buf);
	EXPECT_EQ(5ULL, fl_sysfs_u64("region_id"));
	/* Fits: region 5 needs 3 bits. */
	EXPECT_LT(0L, fl_sysfs_write_settled("layout", "41:3:3:6:10"));
	ASSERT_EQ(0, fl_sysfs_read("layout", buf, sizeof(buf)));
	EXPECT_STREQ("41:3:3:6:10", buf);
}

/* Valid layouts apply to the next IDs, which still exceed earlier ones. */
TEST_F(flakeid, sysfs_layout_valid)
{
	static const char *const layouts[] = {
		"41:4:3:14:1", "40:4:3:5:10\n", "42:4:3:5:10", "41:0:0:12:10",
		FL_DEFAULT_LAYOUT,
	};
	struct flakeid_config c;
	struct flakeid_decode d;
	struct fl_layout l;
	struct fl_fields f;
	uint64_t prev, ids[16];
	char want[32], buf[64];
	size_t i;
	long n;
	int fd, k;

	ASSERT_EQ(1L, fl_read(self->fd, &prev, 1));
	for (i = 0; i < ARRAY_SIZE(layouts); i++) {
		ASSERT_EQ((long)strlen(layouts[i]),
			  fl_sysfs_write_settled("layout", layouts[i]))
			TH_LOG("%s", layouts[i]);
		snprintf(want, sizeof(want), "%s", layouts[i]);
		want[strcspn(want, "\n")] = '\0';
		ASSERT_EQ(0, fl_sysfs_read("layout", buf, sizeof(buf)));
		EXPECT_STREQ(want, buf);
		ASSERT_EQ(0, fl_get_config(self->fd, &c));
		fl_layout_of(&c, &l);
		snprintf(buf, sizeof(buf), "%u:%u:%u:%u:%u", l.ts, l.region,
			 l.app, l.machine, l.seq);
		EXPECT_STREQ(want, buf);

		/* Every ID issued after the change exceeds earlier ones. */
		fd = open(FLAKEID_DEVICE_PATH, O_RDONLY);
		ASSERT_LE(0, fd);
		n = fl_read(fd, ids, 16);
		close(fd);
		ASSERT_LT(0L, n);
		for (k = 0; k < n; k++) {
			EXPECT_LT(prev, ids[k]) TH_LOG("layout %s", want);
			prev = ids[k];
			fl_split(&l, ids[k], &f);
			ASSERT_EQ(0, fl_decode(self->fd, ids[k], &d));
			EXPECT_EQ(f.ts, d.timestamp);
			EXPECT_EQ(f.seq, d.sequence);
			EXPECT_EQ(0U, d.region_id);
			EXPECT_EQ(0U, d.machine_id);
		}
		if (l.ts + l.region + l.app + l.machine + l.seq == 64) {
			/* A 64-bit layout: every ID decodes, bit 63 included. */
			ASSERT_EQ(0, fl_decode(self->fd, ~0ULL, &d));
			EXPECT_EQ(fl_mask(l.ts), d.timestamp);
			EXPECT_EQ((uint32_t)fl_mask(l.seq), d.sequence);
		} else {
			EXPECT_EQ(-EINVAL, fl_decode(self->fd, ~0ULL, &d));
		}
	}
}

/* ---- permissions --------------------------------------------------------- */

/*
 * Runs fn in a child process (it drops privileges there) and returns its
 * exit code, or -1 when the child could not run or did not exit normally.
 */
static int child_exit_code(int (*fn)(void))
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(fn());
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* Runs in a child; returns 0 or the number of the check that failed. */
static int unprivileged_checks(void)
{
	struct flakeid_config c;
	struct flakeid_decode d;
	uint64_t ids[8];
	int fd;

	if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
		return 1;
	fd = open(FLAKEID_DEVICE_PATH, O_RDONLY);
	if (fd < 0)
		return 2;
	if (fl_read(fd, ids, 8) != 8)
		return 3;
	if (fl_batch(fd, ids, 8, 0) != 8 || ids[0] >= ids[7])
		return 4;
	if (fl_decode(fd, ids[0], &d))
		return 5;
	if (fl_get_config(fd, &c))
		return 6;
	if (open(SYSFS_DIR "region_id", O_WRONLY) >= 0 || errno != EACCES)
		return 7;
	if (open(SYSFS_DIR "layout", O_RDWR) >= 0 || errno != EACCES)
		return 8;
	if (open(FLAKEID_DEVICE_PATH, O_WRONLY) >= 0 || errno != EACCES)
		return 9;
	/* Counters and config stay readable. */
	if (fl_sysfs_u64("ids_issued") == UINT64_MAX ||
	    fl_sysfs_u64("region_id") == UINT64_MAX)
		return 10;
	return 0;
}

TEST_F(flakeid, unprivileged_user)
{
	int rc = child_exit_code(unprivileged_checks);

	EXPECT_EQ(0, rc) {
		TH_LOG("unprivileged check %d failed", rc);
	}
}

/* Root without CAP_SYS_ADMIN: open works (mode 0644), store refuses. */
static int no_admin_checks(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];
	long ret;
	int fd;

	if (syscall(SYS_capget, &h, data))
		return 1;
	data[CAP_SYS_ADMIN / 32].effective &= ~(1U << (CAP_SYS_ADMIN % 32));
	data[CAP_SYS_ADMIN / 32].permitted &= ~(1U << (CAP_SYS_ADMIN % 32));
	data[CAP_SYS_ADMIN / 32].inheritable &= ~(1U << (CAP_SYS_ADMIN % 32));
	if (syscall(SYS_capset, &h, data))
		return 2;
	fd = open(SYSFS_DIR "region_id", O_WRONLY);
	if (fd < 0)
		return errno == EACCES ? 0 : 3;
	ret = write(fd, "3", 1);
	if (ret >= 0 || (errno != EPERM && errno != EACCES))
		return 4;
	close(fd);
	if (fl_sysfs_write("layout", NARROW_LAYOUT) >= 0)
		return 5;
	if (fl_sysfs_write("floor_ms", "1") >= 0)
		return 6;
	if (fl_sysfs_write("floor_state", "floor_ms=1") >= 0)
		return 7;
	return 0;
}

TEST_F(flakeid, store_needs_cap_sys_admin)
{
	uint64_t g0 = fl_sysfs_u64("generation");
	int rc = child_exit_code(no_admin_checks);

	EXPECT_EQ(0, rc) {
		TH_LOG("no-CAP_SYS_ADMIN check %d failed", rc);
	}
	EXPECT_EQ(0ULL, fl_sysfs_u64("region_id"));
	EXPECT_EQ(g0, fl_sysfs_u64("generation"));
}

/* ---- floor_ms ------------------------------------------------------------ */

TEST_F(flakeid, floor_raises_clock)
{
	struct flakeid_decode d;
	uint64_t x, ids[4], prev;
	int64_t ahead;
	long n;
	int fd, i;

	ASSERT_EQ(1L, fl_read(self->fd, &prev, 1));
	x = (uint64_t)fl_idclock_ms() + 5000;
	ASSERT_LT(0L, fl_sysfs_write_u64("floor_ms", x));
	EXPECT_LE(x, fl_sysfs_u64("floor_ms"));

	/* Every fd, every ID after the write: timestamp above x. */
	fd = open(FLAKEID_DEVICE_PATH, O_RDONLY);
	ASSERT_LE(0, fd);
	for (i = 0; i < 2; i++) {
		n = fl_read(i ? fd : self->fd, ids, 4);
		ASSERT_EQ(4L, n);
		ASSERT_EQ(0, fl_decode(fd, ids[0], &d));
		EXPECT_LT(x, d.unix_ms);
		EXPECT_LT(prev, ids[0]);
	}
	close(fd);
	/* The clock was raised and runs on from there. */
	ahead = fl_sysfs_s64("ahead_ms");
	EXPECT_LE(4000LL, (long long)ahead);
	fl_sleep_ms(300);
	ASSERT_EQ(1L, fl_read(self->fd, &prev, 1));
	ASSERT_EQ(0, fl_decode(self->fd, prev, &d));
	EXPECT_LE(x + 250, d.unix_ms);
}

TEST_F(flakeid, floor_never_lowered)
{
	uint64_t f0, f1, a, b;

	ASSERT_EQ(1L, fl_read(self->fd, &a, 1));
	f0 = fl_sysfs_u64("floor_ms");
	ASSERT_NE(UINT64_MAX, f0);
	EXPECT_LT(0L, fl_sysfs_write_u64("floor_ms", f0 - 100000));
	EXPECT_LT(0L, fl_sysfs_write_u64("floor_ms", f0));
	EXPECT_LT(0L, fl_sysfs_write("floor_ms", "0"));
	f1 = fl_sysfs_u64("floor_ms");
	EXPECT_LE(f0, f1);
	EXPECT_GE(f0 + 60000, f1);
	ASSERT_EQ(1L, fl_read(self->fd, &b, 1));
	EXPECT_LT(a, b);
}

/* Writing back the value just read moves past it: IDs at that ms exist. */
TEST_F(flakeid, floor_write_back_moves_past)
{
	struct flakeid_decode d;
	uint64_t f0, id;

	ASSERT_EQ(1L, fl_read(self->fd, &id, 1));
	f0 = fl_sysfs_u64("floor_ms");
	ASSERT_LT(0L, fl_sysfs_write_u64("floor_ms", f0));
	ASSERT_EQ(1L, fl_read(self->fd, &id, 1));
	ASSERT_EQ(0, fl_decode(self->fd, id, &d));
	EXPECT_LT(f0, d.unix_ms);
}

/* The largest possible floor: past the kernel's time, refused. */
TEST_F(flakeid, floor_past_ktime_erange)
{
	expect_refused(_metadata, "floor_ms", "9223372036854", -ERANGE,
		       -ERANGE);
	expect_refused(_metadata, "floor_ms", "9223372036855", -ERANGE,
		       -ERANGE);
}

/* floor_state: floor_ms and the live epoch and layout, in one line. */
TEST_F(flakeid, floor_state_reads_live_config)
{
	unsigned long long ms, epoch;
	unsigned int t, r, a, m, q;
	uint64_t id, f0, f1;
	char buf[160];

	ASSERT_EQ(1L, fl_read(self->fd, &id, 1));
	f0 = fl_sysfs_u64("floor_ms");
	ASSERT_EQ(0, fl_sysfs_read("floor_state", buf, sizeof(buf)));
	f1 = fl_sysfs_u64("floor_ms");
	ASSERT_EQ(7, sscanf(buf, "floor_ms=%llu floor_epoch_ms=%llu floor_layout=%u:%u:%u:%u:%u",
			    &ms, &epoch, &t, &r, &a, &m, &q)) TH_LOG("%s", buf);
	EXPECT_LE(f0, ms);
	EXPECT_GE(f1, ms);
	EXPECT_EQ(FLAKEID_DEFAULT_EPOCH_MS, epoch);
	EXPECT_EQ(41U, t);
	EXPECT_EQ(4U, r);
	EXPECT_EQ(3U, a);
	EXPECT_EQ(5U, m);
	EXPECT_EQ(10U, q);
}

/* A refused floor_state write moves neither the floor nor the config. */
static void expect_floor_state_refused(struct __test_metadata *_metadata,
				       const char *val, int err)
{
	uint64_t f0 = fl_sysfs_u64("floor_ms"), g0 = fl_sysfs_u64("generation");

	EXPECT_EQ((long)err, fl_sysfs_write("floor_state", val))
		TH_LOG("floor_state <- \"%s\"", val);
	EXPECT_GE(f0 + 1000, fl_sysfs_u64("floor_ms"))
		TH_LOG("floor_state <- \"%s\"", val);
	EXPECT_EQ(g0, fl_sysfs_u64("generation"));
}

TEST_F(flakeid, floor_state_bad_input)
{
	static const char *const einval[] = {
		"\n", "abc", "floor_ms", "floor_ms=", "floor_ms=abc",
		"floor_ms=-1", "floor_ms=0x10", "floor_epoch_ms=5",
		"floor_layout=41:4:3:5:10", "floor_ms=1 floor_ms=2",
		"floor_ms=1 floor_epoch_ms=1 floor_epoch_ms=2",
		"floor_ms=1 epoch_ms=5", "floor_ms=1 bogus",
		"floor_ms=1 floor_layout=300:0:0:0:10",
		"floor_ms=1 floor_layout=41:4:3:5:12",
		"floor_ms=1 floor_layout=41:4:3:5",
		"floor_ms=1 floor_layout=",
		"floor_ms=1 floor_ms_x=1",
		"floor_ms=1 floor_epoch_ms=1 floor_layout=41:4:3:5:10 floor_ms=1 floor_epoch_ms=1 floor_layout=41:4:3:5:10 floor_ms=1 floor_epoch_ms=1 floor_layout=41:4:3:5:10",
	};
	char buf[160];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(einval); i++)
		expect_floor_state_refused(_metadata, einval[i], -EINVAL);
	expect_floor_state_refused(_metadata, "floor_ms=18446744073709551616",
				   -ERANGE);
	expect_floor_state_refused(_metadata, "floor_ms=9223372036854",
				   -ERANGE);
	/* A floor whose timestamp does not fit 41 bits. */
	snprintf(buf, sizeof(buf), "floor_ms=%llu",
		 (unsigned long long)(FLAKEID_DEFAULT_EPOCH_MS + (1ULL << 41)));
	expect_floor_state_refused(_metadata, buf, -ERANGE);
}

/*
 * A floor taken under another epoch or layout is placed in ID space: IDs
 * after it exceed every ID that configuration could stamp by floor_ms.
 */
TEST_F(flakeid, floor_state_other_config)
{
	uint64_t e = FLAKEID_DEFAULT_EPOCH_MS, now, id, bound;
	struct flakeid_decode d;
	char buf[160];

	now = (uint64_t)fl_idclock_ms();
	/* Its IDs were smaller (a later epoch): only the time floor counts. */
	snprintf(buf, sizeof(buf),
		 "floor_ms=%llu floor_epoch_ms=%llu floor_layout=41:4:3:5:10\n",
		 (unsigned long long)(now + 300), (unsigned long long)(e + 500));
	ASSERT_LT(0L, fl_sysfs_write("floor_state", buf));
	ASSERT_EQ(1L, fl_read(self->fd, &id, 1));
	ASSERT_EQ(0, fl_decode(self->fd, id, &d));
	EXPECT_LT(now + 300, d.unix_ms);
	EXPECT_GE(now + 300 + 1000, d.unix_ms);

	/* Its IDs were larger (epoch 600 ms earlier): placed above them. */
	now = fl_sysfs_u64("floor_ms");
	snprintf(buf, sizeof(buf),
		 "floor_epoch_ms=%llu floor_ms=%llu",
		 (unsigned long long)(e - 600), (unsigned long long)now);
	ASSERT_LT(0L, fl_sysfs_write("floor_state", buf));
	bound = ((now - (e - 600) + 1) << 22) - 1;
	ASSERT_EQ(1L, fl_read(self->fd, &id, 1));
	EXPECT_LT(bound, id);

	/* A wider timestamp shift (IDs twice as large): too far, refused. */
	now = fl_sysfs_u64("floor_ms");
	snprintf(buf, sizeof(buf), "floor_ms=%llu floor_layout=40:4:3:5:11",
		 (unsigned long long)now);
	expect_floor_state_refused(_metadata, buf, -ERANGE);
	/* An epoch 10 s earlier: 10 s ahead, more than a change may move. */
	snprintf(buf, sizeof(buf), "floor_ms=%llu floor_epoch_ms=%llu",
		 (unsigned long long)now, (unsigned long long)(e - 10000));
	expect_floor_state_refused(_metadata, buf, -ERANGE);
	/* A narrower shift (its IDs a quarter as large): accepted. */
	snprintf(buf, sizeof(buf), "floor_ms=%llu floor_layout=43:4:3:5:8",
		 (unsigned long long)now);
	EXPECT_LT(0L, fl_sysfs_write("floor_state", buf));
	self->settle = true;
}

/*
 * The allocator never moves back: borrow ahead, then move the epoch back
 * (IDs grow, so no jump is needed); floor_ms must still cover the
 * borrowed IDs already issued.
 */
TEST_F(flakeid, reconfig_keeps_borrowed_floor)
{
	enum { N = 65536 };
	uint64_t *ids = malloc(N * sizeof(*ids));
	uint64_t e = fl_sysfs_u64("epoch_ms"), top = 0;
	struct flakeid_decode d;
	long n, total = 0;

	ASSERT_TRUE(ids != NULL);
	self->settle = true;
	fl_settle();
	ASSERT_LT(0L, fl_sysfs_write("max_borrow_ms", "900"));
	while (total < 2000000) {
		n = fl_batch(self->fd, ids, N, FLAKEID_BATCH_NONBLOCK);
		if (n == -EAGAIN)
			break;
		ASSERT_LT(0L, n);
		total += n;
		top = ids[n - 1];
	}
	ASSERT_EQ(0, fl_decode(self->fd, top, &d));
	EXPECT_LT((uint64_t)fl_idclock_ms() + 300, d.unix_ms)
		TH_LOG("did not borrow ahead (%ld IDs)", total);
	ASSERT_LT(0L, fl_sysfs_write_u64("epoch_ms", e - 1000));
	EXPECT_LE(d.unix_ms, fl_sysfs_u64("floor_ms"));
	ASSERT_EQ(1L, fl_read(self->fd, ids, 1));
	EXPECT_LT(top, ids[0]);
	free(ids);
}

/* ---- until_ms: the timestamp ceiling ------------------------------------ */

static void expect_until(struct __test_metadata *_metadata, const char *want)
{
	char buf[64];

	ASSERT_EQ(0, fl_sysfs_read("until_ms", buf, sizeof(buf)));
	EXPECT_STREQ(want, buf);
}

/*
 * Set the ceiling @ahead ms past the floor (the ID clock, or the newest
 * millisecond granted if a test left the allocator borrowing ahead).
 */
static uint64_t set_until_ahead(struct __test_metadata *_metadata,
				int64_t ahead)
{
	uint64_t floor = fl_sysfs_u64("floor_ms");
	uint64_t until = floor + ahead;

	EXPECT_LT(0L, fl_sysfs_write_u64("until_ms", until));
	return until;
}

/* Read or batch one ID; the ID or -errno. */
static int64_t one_id(int fd, bool batch, bool nonblock, uint64_t *id)
{
	long n = batch ? fl_batch(fd, id, 1, nonblock ? FLAKEID_BATCH_NONBLOCK : 0)
		       : fl_read(fd, id, 1);

	return n == 1 ? 0 : n;
}

TEST_F(flakeid, until_defaults)
{
	struct flakeid_config c;

	expect_until(_metadata, "none");
	EXPECT_EQ((uint64_t)FLAKEID_DEFAULT_UNTIL_WAIT_MS,
		  fl_sysfs_u64("until_wait_ms"));
	ASSERT_EQ(0, fl_get_config(self->fd, &c));
	EXPECT_EQ(FLAKEID_UNTIL_NONE, c.until_ms);
	EXPECT_NE(INT64_MIN, fl_sysfs_s64("until_waits"));
	EXPECT_NE(INT64_MIN, fl_sysfs_s64("until_refused"));
	EXPECT_EQ(0LL, (long long)fl_sysfs_s64("vm_forks"));
}

TEST_F(flakeid, until_bad_input)
{
	static const char *const einval[] = {
		"\n", "abc", "-1", "0x10", "1e3", "nonee", "none x", " none",
		"NONE", "5 5",
	};
	struct flakeid_config c;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(einval); i++) {
		EXPECT_EQ(-EINVAL, fl_sysfs_write("until_ms", einval[i]))
			TH_LOG("until_ms <- \"%s\"", einval[i]);
		expect_until(_metadata, "none");
	}
	EXPECT_EQ(-ERANGE, fl_sysfs_write("until_ms", "9223372036855"));
	EXPECT_EQ(-ERANGE, fl_sysfs_write("until_ms", "18446744073709551615"));
	EXPECT_EQ(-ERANGE, fl_sysfs_write("until_ms", "18446744073709551616"));
	expect_until(_metadata, "none");
	EXPECT_EQ(-ERANGE, fl_sysfs_write("until_wait_ms", "60001"));
	EXPECT_EQ(-EINVAL, fl_sysfs_write("until_wait_ms", "none"));
	EXPECT_EQ(1000ULL, fl_sysfs_u64("until_wait_ms"));
	/* The accepted forms. */
	EXPECT_LT(0L, fl_sysfs_write("until_ms", "none\n"));
	EXPECT_LT(0L, fl_sysfs_write("until_ms", "9223372036854"));
	expect_until(_metadata, "9223372036854");
	ASSERT_EQ(0, fl_get_config(self->fd, &c));
	EXPECT_EQ(9223372036854ULL, c.until_ms);
	EXPECT_LT(0L, fl_sysfs_write("until_ms", "none"));
	expect_until(_metadata, "none");
}

/* No ID above the ceiling; at it, the wait ends in EKEYEXPIRED. */
TEST_F(flakeid, until_caps_timestamps)
{
	enum { N = 4096 };
	uint64_t *ids = malloc(N * sizeof(*ids)), until, refused0, waits0;
	struct flakeid_decode d;
	int64_t t0, took;
	long n, total = 0;

	ASSERT_TRUE(ids != NULL);
	ASSERT_LT(0L, fl_sysfs_write("until_wait_ms", "200"));
	refused0 = fl_sysfs_u64("until_refused");
	waits0 = fl_sysfs_u64("until_waits");
	until = set_until_ahead(_metadata, 150);
	for (;;) {
		n = fl_batch(self->fd, ids, N, FLAKEID_BATCH_NONBLOCK);
		if (n < 0)
			break;
		total += n;
		/* Increasing: the last one has the largest timestamp. */
		ASSERT_EQ(0, fl_decode(self->fd, ids[n - 1], &d));
		ASSERT_GE(until, d.unix_ms) TH_LOG("ID %ld", total);
	}
	EXPECT_EQ(-EAGAIN, n);
	EXPECT_LT(0L, total);
	/*
	 * Other CPUs may still hold blocks at or below the ceiling; once the
	 * clock has passed it they are stale.  Then a blocking call waits
	 * until_wait_ms for a raise that does not come.
	 */
	fl_sleep_ms((long)(until - (uint64_t)fl_idclock_ms()) + 50);
	t0 = fl_now_ms(CLOCK_MONOTONIC);
	EXPECT_EQ(-EKEYEXPIRED, one_id(self->fd, false, false, ids));
	took = fl_now_ms(CLOCK_MONOTONIC) - t0;
	EXPECT_LE(190LL, (long long)took);
	EXPECT_EQ(-EKEYEXPIRED, one_id(self->fd, true, false, ids));
	EXPECT_LE(refused0 + 2, fl_sysfs_u64("until_refused"));
	EXPECT_LE(waits0 + 2, fl_sysfs_u64("until_waits"));
	/* Removing the ceiling lets IDs flow again, above the old ones. */
	ASSERT_LT(0L, fl_sysfs_write("until_ms", "none"));
	ASSERT_EQ(0, one_id(self->fd, false, false, &ids[1]));
	ASSERT_EQ(0, fl_decode(self->fd, ids[1], &d));
	free(ids);
}

/* Fenced (0): every call fails at once, blocking or not. */
TEST_F(flakeid, until_fenced)
{
	struct flakeid_config c;
	uint64_t id, r0, g0;
	int64_t t0;
	int fd;

	ASSERT_LT(0L, fl_sysfs_write("until_wait_ms", "60000"));
	g0 = fl_sysfs_u64("generation");
	r0 = fl_sysfs_u64("until_refused");
	ASSERT_LT(0L, fl_sysfs_write("until_ms", "0"));
	expect_until(_metadata, "0");
	ASSERT_EQ(0, fl_get_config(self->fd, &c));
	EXPECT_EQ(0ULL, c.until_ms);
	fd = open(FLAKEID_DEVICE_PATH, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, fd);
	t0 = fl_now_ms(CLOCK_MONOTONIC);
	EXPECT_EQ(-EKEYEXPIRED, one_id(self->fd, false, false, &id));
	EXPECT_EQ(-EKEYEXPIRED, one_id(self->fd, true, false, &id));
	EXPECT_EQ(-EKEYEXPIRED, one_id(self->fd, true, true, &id));
	EXPECT_EQ(-EKEYEXPIRED, one_id(fd, false, false, &id));
	EXPECT_GT(2000LL, (long long)(fl_now_ms(CLOCK_MONOTONIC) - t0));
	EXPECT_EQ(r0 + 4, fl_sysfs_u64("until_refused"));
	/* A fence is not a configuration change. */
	EXPECT_EQ(g0, fl_sysfs_u64("generation"));
	ASSERT_LT(0L, fl_sysfs_write("until_ms", "none"));
	EXPECT_EQ(0, one_id(fd, false, false, &id));
	close(fd);
}

/* Where a blocking reader would wait for a raise, O_NONBLOCK is EAGAIN. */
TEST_F(flakeid, until_nonblock_eagain)
{
	uint64_t id;
	int fd;

	set_until_ahead(_metadata, -1000);
	fd = open(FLAKEID_DEVICE_PATH, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EAGAIN, one_id(fd, false, false, &id));
	EXPECT_EQ(-EAGAIN, one_id(self->fd, true, true, &id));
	close(fd);
	/* With no wait allowed, nobody would wait: EKEYEXPIRED. */
	ASSERT_LT(0L, fl_sysfs_write("until_wait_ms", "0"));
	EXPECT_EQ(-EKEYEXPIRED, one_id(self->fd, true, true, &id));
	EXPECT_EQ(-EKEYEXPIRED, one_id(self->fd, false, false, &id));
}

struct until_reader {
	int fd;
	int64_t ret;
	uint64_t id;
};

static void *until_reader_main(void *arg)
{
	struct until_reader *r = arg;

	r->ret = one_id(r->fd, false, false, &r->id);
	return NULL;
}

/* A reader blocked at the ceiling wakes when it is raised. */
TEST_F(flakeid, until_raise_wakes_reader)
{
	struct until_reader r = { .fd = self->fd, .ret = 1 };
	struct flakeid_decode d;
	uint64_t until;
	pthread_t th;

	ASSERT_LT(0L, fl_sysfs_write("until_wait_ms", "30000"));
	set_until_ahead(_metadata, -1000);
	ASSERT_EQ(0, pthread_create(&th, NULL, until_reader_main, &r));
	fl_sleep_ms(300);
	until = set_until_ahead(_metadata, 5000);
	pthread_join(th, NULL);
	ASSERT_EQ(0LL, (long long)r.ret);
	ASSERT_EQ(0, fl_decode(self->fd, r.id, &d));
	EXPECT_GE(until, d.unix_ms);
	EXPECT_LE(1ULL, fl_sysfs_u64("until_waits"));
}

static int cpu_count(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 1;
	return CPU_COUNT(&set);
}

struct cpu_reader {
	int cpu;
	int fd;
	long n;
	uint64_t ids[8];
	pthread_barrier_t *go;
};

/* On one CPU: take a few IDs (a block), wait, then try again. */
static void *cpu_reader_main(void *arg)
{
	struct cpu_reader *c = arg;

	fl_pin_cpu(c->cpu);
	c->n = fl_batch(c->fd, c->ids, 4, FLAKEID_BATCH_NONBLOCK);
	pthread_barrier_wait(c->go);	/* every CPU holds a block */
	pthread_barrier_wait(c->go);	/* the ceiling was lowered */
	c->n = fl_batch(c->fd, c->ids, 8, FLAKEID_BATCH_NONBLOCK);
	return NULL;
}

/*
 * Lowering the ceiling voids every CPU's block before the store returns:
 * with blocks in a borrowed millisecond, still fresh for most of a second,
 * no CPU may serve them once the ceiling is below them.
 */
TEST_F(flakeid, until_lower_voids_blocks)
{
	enum { N = 65536, MAXCPU = 64 };
	struct cpu_reader r[MAXCPU];
	pthread_t th[MAXCPU];
	pthread_barrier_t go;
	uint64_t *ids = malloc(N * sizeof(*ids)), until;
	struct flakeid_decode d;
	int ncpu = cpu_count(), i, j, fds[MAXCPU];
	long n;

	ASSERT_TRUE(ids != NULL);
	self->settle = true;
	if (ncpu > MAXCPU)
		ncpu = MAXCPU;
	/* Borrow about 800 ms ahead. */
	ASSERT_LT(0L, fl_sysfs_write("max_borrow_ms", "800"));
	do {
		n = fl_batch(self->fd, ids, N, FLAKEID_BATCH_NONBLOCK);
	} while (n > 0);
	ASSERT_EQ(-EAGAIN, n);
	ASSERT_EQ(0, pthread_barrier_init(&go, NULL, ncpu + 1));
	ASSERT_LT(0L, fl_sysfs_write("max_borrow_ms", "1000"));
	for (i = 0; i < ncpu; i++) {
		fds[i] = open(FLAKEID_DEVICE_PATH, O_RDONLY);
		ASSERT_LE(0, fds[i]);
		r[i] = (struct cpu_reader){ .cpu = i, .fd = fds[i], .go = &go };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, cpu_reader_main, &r[i]));
	}
	pthread_barrier_wait(&go);
	until = (uint64_t)fl_idclock_ms();
	ASSERT_LT(0L, fl_sysfs_write_u64("until_ms", until));
	pthread_barrier_wait(&go);
	for (i = 0; i < ncpu; i++) {
		pthread_join(th[i], NULL);
		close(fds[i]);
		if (r[i].n == -EAGAIN || r[i].n == -EKEYEXPIRED)
			continue;
		ASSERT_LT(0L, r[i].n) TH_LOG("cpu %d: %ld", i, r[i].n);
		for (j = 0; j < r[i].n; j++) {
			ASSERT_EQ(0, fl_decode(self->fd, r[i].ids[j], &d));
			EXPECT_GE(until, d.unix_ms) TH_LOG("cpu %d served a voided block", i);
		}
	}
	pthread_barrier_destroy(&go);
	free(ids);
}

struct until_poller {
	int fd;
	int ret;
	short revents;
};

static void *until_poll_main(void *arg)
{
	struct until_poller *p = arg;
	struct pollfd pfd = { .fd = p->fd, .events = POLLPRI | POLLERR };

	p->ret = poll(&pfd, 1, 10000);
	p->revents = pfd.revents;
	return NULL;
}

/* Wait in poll() on until_ms; @trigger must wake it. */
static void expect_until_poll_wakes(struct __test_metadata *_metadata,
				    void (*trigger)(int fd), int devfd,
				    const char *what)
{
	struct until_poller p = { .ret = -1 };
	char buf[64];
	pthread_t th;

	p.fd = open(SYSFS_DIR "until_ms", O_RDONLY);
	ASSERT_LE(0, p.fd);
	ASSERT_LT(0L, (long)read(p.fd, buf, sizeof(buf)));	/* arm it */
	ASSERT_EQ(0, pthread_create(&th, NULL, until_poll_main, &p));
	fl_sleep_ms(200);
	trigger(devfd);
	pthread_join(th, NULL);
	close(p.fd);
	EXPECT_EQ(1, p.ret) TH_LOG("%s: poll() did not wake", what);
	EXPECT_TRUE(p.revents & (POLLPRI | POLLERR)) TH_LOG("%s", what);
}

static void trigger_store(int devfd)
{
	(void)devfd;
	fl_sysfs_write("until_ms", "0");
}

static void trigger_reach(int devfd)
{
	uint64_t id;

	/* The ceiling is in the past: this read reaches it. */
	fl_batch(devfd, &id, 1, FLAKEID_BATCH_NONBLOCK);
}

TEST_F(flakeid, until_poll_wakes)
{
	expect_until_poll_wakes(_metadata, trigger_store, self->fd,
				"store of until_ms");
	set_until_ahead(_metadata, -500);
	expect_until_poll_wakes(_metadata, trigger_reach, self->fd,
				"ceiling reached by a reader");
}

/* ---- configuration changes keep later IDs above earlier ones ------------ */

TEST_F(flakeid, epoch_forward_refused)
{
	uint64_t e = fl_sysfs_u64("epoch_ms");
	char buf[32];

	ASSERT_EQ(FLAKEID_DEFAULT_EPOCH_MS, e);
	fl_settle();
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)(e + MS_1H));
	expect_refused(_metadata, "epoch_ms", buf, -ERANGE, -ERANGE);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)(e + 5000));
	expect_refused(_metadata, "epoch_ms", buf, -ERANGE, -ERANGE);
}

/* Forward by 500 ms needs a 500 ms jump: accepted, IDs keep growing. */
TEST_F(flakeid, epoch_small_forward_accepted)
{
	uint64_t e = fl_sysfs_u64("epoch_ms"), a, b;
	struct flakeid_decode d;
	int fd;

	ASSERT_EQ(1L, fl_read(self->fd, &a, 1));
	fl_settle();
	ASSERT_LT(0L, fl_sysfs_write_u64("epoch_ms", e + 500));
	EXPECT_EQ(e + 500, fl_sysfs_u64("epoch_ms"));
	fd = open(FLAKEID_DEVICE_PATH, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1L, fl_read(fd, &b, 1));
	close(fd);
	EXPECT_LT(a, b);
	ASSERT_EQ(0, fl_decode(self->fd, b, &d));
	EXPECT_EQ(e + 500 + d.timestamp, d.unix_ms);
}

TEST_F(flakeid, epoch_back_then_restore)
{
	uint64_t e = fl_sysfs_u64("epoch_ms"), a, b, c;
	struct flakeid_decode d;
	int fd;

	ASSERT_EQ(1L, fl_read(self->fd, &a, 1));
	ASSERT_LT(0L, fl_sysfs_write_u64("epoch_ms", e - 1000));
	EXPECT_EQ(e - 1000, fl_sysfs_u64("epoch_ms"));
	fd = open(FLAKEID_DEVICE_PATH, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1L, fl_read(fd, &b, 1));
	EXPECT_LT(a, b);
	ASSERT_EQ(0, fl_decode(fd, b, &d));
	EXPECT_EQ(e - 1000 + d.timestamp, d.unix_ms);

	/* Back to the old epoch: a jump of at most 1000 ms, accepted. */
	fl_settle();
	fl_sleep_ms(50);
	ASSERT_LT(0L, fl_sysfs_write_u64("epoch_ms", e));
	ASSERT_EQ(1L, fl_read(fd, &c, 1));
	close(fd);
	EXPECT_LT(b, c);
	fd = open(FLAKEID_DEVICE_PATH, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1L, fl_read(fd, &a, 1));
	close(fd);
	EXPECT_LT(b, a);
}

/* The current time must fit the timestamp field under the new epoch. */
TEST_F(flakeid, epoch_must_fit_timestamp)
{
	ASSERT_LT(0L, fl_sysfs_write_settled("layout", "40:4:3:5:10"));
	/*
	 * 2^40 ms is 34.8 years: from 1970 or 1985 the current time does
	 * not fit 40 bits.  (Accepting either would move the epoch back for
	 * good: no later write could bring it forward again.)
	 */
	expect_refused(_metadata, "epoch_ms", "0", -ERANGE, -EINVAL);
	expect_refused(_metadata, "epoch_ms", "500000000000", -ERANGE, -EINVAL);
}

/* Lowering an id would lower IDs: the clock moves instead. */
TEST_F(flakeid, id_decrease_keeps_order)
{
	static const char *const names[] = { "region_id", "app_id", "machine_id" };
	static const char *const high[] = { "3", "7", "31" };
	struct flakeid_decode d;
	uint64_t a, b;
	size_t i;
	int fd;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		ASSERT_LT(0L, fl_sysfs_write_settled(names[i], high[i]));
		ASSERT_EQ(1L, fl_read(self->fd, &a, 1));
		ASSERT_LT(0L, fl_sysfs_write_settled(names[i], "0"));
		fd = open(FLAKEID_DEVICE_PATH, O_RDONLY);
		ASSERT_LE(0, fd);
		ASSERT_EQ(1L, fl_read(fd, &b, 1));
		close(fd);
		EXPECT_LT(a, b) TH_LOG("%s %s -> 0", names[i], high[i]);
		ASSERT_EQ(0, fl_decode(self->fd, b, &d));
		EXPECT_EQ(0U, d.region_id + d.app_id + d.machine_id);
		ASSERT_EQ(0, fl_decode(self->fd, a, &d));
		EXPECT_EQ((uint32_t)atoi(high[i]),
			  d.region_id + d.app_id + d.machine_id);
	}
}

/* Each fresh ID after a store carries the stored ids. */
TEST_F(flakeid, ids_apply_immediately)
{
	struct flakeid_decode d;
	uint64_t id;
	int r;

	for (r = 0; r < 16; r++) {
		ASSERT_LT(0L, fl_sysfs_write_u64("region_id", (uint64_t)(15 - r)));
		ASSERT_LT(0L, fl_sysfs_write_u64("app_id", (uint64_t)(r & 7)));
		ASSERT_LT(0L, fl_sysfs_write_u64("machine_id", (uint64_t)(r * 2)));
		ASSERT_EQ(1L, fl_read(self->fd, &id, 1));
		ASSERT_EQ(0, fl_decode(self->fd, id, &d));
		EXPECT_EQ((uint32_t)(15 - r), d.region_id);
		EXPECT_EQ((uint32_t)(r & 7), d.app_id);
		EXPECT_EQ((uint32_t)(r * 2), d.machine_id);
	}
}

/* ---- counters ------------------------------------------------------------ */

TEST_F(flakeid, counters_ids_and_refills)
{
	enum { CALLS = 100, PER = 1000 };
	uint64_t *ids = calloc(PER, sizeof(*ids));
	uint64_t i0, i1, r0, r1;
	long n, total = 0;
	int k;

	ASSERT_TRUE(ids != NULL);
	self->settle = true;
	i0 = fl_sysfs_u64("ids_issued");
	ASSERT_EQ((long)PER, fl_read(self->fd, ids, PER));
	i1 = fl_sysfs_u64("ids_issued");
	EXPECT_LE(i0 + PER, i1);

	r0 = fl_sysfs_u64("refills");
	for (k = 0; k < CALLS; k++) {
		n = fl_batch(self->fd, ids, PER, 0);
		ASSERT_LT(0L, n);
		total += n;
	}
	r1 = fl_sysfs_u64("refills");
	i0 = fl_sysfs_u64("ids_issued");
	EXPECT_LE(i1 + total, i0);
	/* The shared lock is taken once per block, not once per ID. */
	EXPECT_LT(r0, r1);
	EXPECT_GE((uint64_t)total / 16, r1 - r0) {
		TH_LOG("%llu refills for %ld IDs",
		       (unsigned long long)(r1 - r0), total);
	}
	free(ids);
}

/* ---- borrowing, waiting, signals ----------------------------------------- */

/*
 * Switch to a 2-IDs-per-ms layout, borrow @gap_ms milliseconds ahead of the
 * ID clock, then forbid borrowing: the next ID needs the clock to catch up,
 * so any reader must wait about @gap_ms.  Returns the last borrowed
 * millisecond (Unix ms).  The process is pinned to one CPU so per-CPU state
 * is predictable.
 */
static uint64_t make_gap(struct __test_metadata *_metadata,
			 FIXTURE_DATA(flakeid) *self, long gap_ms)
{
	long need = 2 * gap_ms, got = 0, n = 0;
	uint64_t *ids = calloc(need, sizeof(*ids));
	uint64_t b0, b1, tmp[64], last;
	struct flakeid_decode d;
	int64_t left;
	int nb, i;

	ASSERT_TRUE(ids != NULL);
	self->settle = true;
	pin_to_one_cpu();
	ASSERT_EQ((long)strlen(NARROW_LAYOUT),
		  fl_sysfs_write_settled("layout", NARROW_LAYOUT));
	ASSERT_LT(0L, fl_sysfs_write("max_borrow_ms", "60000"));
	b0 = fl_sysfs_u64("borrowed_ms");
	while (got < need) {
		n = fl_batch(self->fd, ids + got, need - got, 0);
		ASSERT_LT(0L, n);
		got += n;
	}
	last = ids[need - 1];
	free(ids);
	ASSERT_LT(0L, fl_sysfs_write("max_borrow_ms", "0"));
	b1 = fl_sysfs_u64("borrowed_ms");
	EXPECT_LE(b0 + gap_ms / 2, b1) {
		TH_LOG("borrowed_ms %llu -> %llu", (unsigned long long)b0,
		       (unsigned long long)b1);
	}
	ASSERT_EQ(0, fl_decode(self->fd, last, &d));

	/* Drain whatever this CPU may still hold. */
	nb = open(FLAKEID_DEVICE_PATH, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, nb);
	for (i = 0; i < 1000; i++) {
		n = fl_read(nb, tmp, 64);
		if (n == -EAGAIN)
			break;
		ASSERT_LT(0L, n);
	}
	close(nb);
	ASSERT_EQ(-EAGAIN, n);
	left = (int64_t)d.unix_ms - fl_idclock_ms();
	ASSERT_LE(800LL, (long long)left) TH_LOG("gap too small: %lld ms",
						 (long long)left);
	return d.unix_ms;
}

/* Nothing may be issued without waiting: every non-blocking form says so. */
TEST_F(flakeid, nonblock_eagain)
{
	struct flakeid_batch b;
	uint64_t ids[16];
	struct iovec iov = { ids, sizeof(ids) };
	int64_t t0;
	int nb;

	make_gap(_metadata, self, 2000);
	nb = open(FLAKEID_DEVICE_PATH, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, nb);
	t0 = fl_now_ms(CLOCK_MONOTONIC);
	EXPECT_EQ(-EAGAIN, fl_read(nb, ids, 16));
	EXPECT_EQ(-EAGAIN, fl_read(nb, ids, 1));
	EXPECT_EQ(-EAGAIN, fl_batch(nb, ids, 16, 0));
	EXPECT_EQ(-EAGAIN, fl_batch(self->fd, ids, 16, FLAKEID_BATCH_NONBLOCK));
	memset(&b, 0, sizeof(b));
	b.size = sizeof(b);
	b.flags = FLAKEID_BATCH_NONBLOCK;
	b.count = 16;
	b.ids = (uintptr_t)ids;
	EXPECT_EQ(-EAGAIN, sys_ioctl(self->fd, FLAKEID_IOC_BATCH, &b));
	/* IOCB_NOWAIT on a blocking file. */
	errno = 0;
	EXPECT_EQ((ssize_t)-1, preadv2(self->fd, &iov, 1, -1, RWF_NOWAIT));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_GT(500LL, (long long)(fl_now_ms(CLOCK_MONOTONIC) - t0));
	close(nb);
}

/*
 * Steady state with no borrowing: a non-blocking reader gets what the
 * current millisecond offers (a short read), then EAGAIN.
 */
TEST_F(flakeid, nonblock_short_then_eagain)
{
	enum { WANT = 100 };
	int eagain = 0, ok = 0, k, nb;
	uint64_t ids[WANT], prev = 0;
	int64_t t0;
	long n;

	pin_to_one_cpu();
	self->settle = true;
	ASSERT_LT(0L, fl_sysfs_write_settled("layout", NARROW_LAYOUT));
	ASSERT_LT(0L, fl_sysfs_write("max_borrow_ms", "0"));
	fl_settle();
	nb = open(FLAKEID_DEVICE_PATH, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, nb);
	/* Spin for up to 3 s: each millisecond offers two IDs. */
	t0 = fl_now_ms(CLOCK_MONOTONIC);
	while (!(eagain >= 5 && ok >= 5) &&
	       fl_now_ms(CLOCK_MONOTONIC) - t0 < 3000) {
		n = fl_read(nb, ids, WANT);
		if (n == -EAGAIN) {
			eagain++;
			continue;
		}
		ASSERT_LT(0L, n);
		EXPECT_GT((long)WANT, n);
		ok++;
		for (k = 0; k < n; k++) {
			ASSERT_LT(prev, ids[k]);
			prev = ids[k];
		}
	}
	close(nb);
	EXPECT_LE(5, eagain);
	EXPECT_LE(5, ok);
}

/* A blocking call that has IDs returns them instead of waiting for more. */
TEST_F(flakeid, blocking_short_read)
{
	uint64_t ids[1000];
	int64_t t0, dt;
	long n;

	pin_to_one_cpu();
	self->settle = true;
	ASSERT_LT(0L, fl_sysfs_write_settled("layout", NARROW_LAYOUT));
	ASSERT_LT(0L, fl_sysfs_write("max_borrow_ms", "0"));
	fl_settle();
	t0 = fl_now_ms(CLOCK_MONOTONIC);
	n = fl_read(self->fd, ids, 1000);
	dt = fl_now_ms(CLOCK_MONOTONIC) - t0;
	ASSERT_LT(0L, n);
	EXPECT_GT(1000L, n) TH_LOG("full read after %lld ms", (long long)dt);
	n = fl_batch(self->fd, ids, 1000, 0);
	ASSERT_LT(0L, n);
	EXPECT_GT(1000L, n);
}

/* A blocking reader with nothing to return sleeps until the clock catches up. */
TEST_F(flakeid, blocking_waits_for_clock)
{
	uint64_t last, w0, id;
	struct flakeid_decode d;
	int64_t left, t0, dt;

	last = make_gap(_metadata, self, 2000);
	w0 = fl_sysfs_u64("waits");
	left = (int64_t)last - fl_idclock_ms();
	t0 = fl_now_ms(CLOCK_MONOTONIC);
	ASSERT_EQ(1L, fl_read(self->fd, &id, 1));
	dt = fl_now_ms(CLOCK_MONOTONIC) - t0;
	EXPECT_LE(left - 200, dt);
	EXPECT_GE(left + 3000, dt);
	ASSERT_EQ(0, fl_decode(self->fd, id, &d));
	EXPECT_LT(last, d.unix_ms);
	EXPECT_LT(w0, fl_sysfs_u64("waits"));
}

/* A signal with nothing copied: EINTR without SA_RESTART. */
TEST_F(flakeid, signal_interrupts_wait)
{
	uint64_t ids[8];
	int64_t t0, dt;
	long n;

	make_gap(_metadata, self, 2500);
	ASSERT_EQ(0, arm_signal(300, false));
	t0 = fl_now_ms(CLOCK_MONOTONIC);
	n = fl_read(self->fd, ids, 8);
	dt = fl_now_ms(CLOCK_MONOTONIC) - t0;
	EXPECT_EQ(-EINTR, n);
	EXPECT_EQ(1, got_signal);
	EXPECT_LE(250LL, (long long)dt);
	EXPECT_GT(1500LL, (long long)dt);

	ASSERT_EQ(0, arm_signal(300, false));
	t0 = fl_now_ms(CLOCK_MONOTONIC);
	n = fl_batch(self->fd, ids, 8, 0);
	dt = fl_now_ms(CLOCK_MONOTONIC) - t0;
	disarm_signal();
	EXPECT_EQ(-EINTR, n);
	EXPECT_EQ(1, got_signal);
	EXPECT_GT(1500LL, (long long)dt);
}

/* With SA_RESTART the wait resumes and the read returns IDs. */
TEST_F(flakeid, signal_restart_completes)
{
	uint64_t last, ids[2];
	struct flakeid_decode d;
	long n;

	last = make_gap(_metadata, self, 1500);
	ASSERT_EQ(0, arm_signal(200, true));
	n = fl_read(self->fd, ids, 2);
	disarm_signal();
	EXPECT_EQ(1, got_signal);
	ASSERT_LT(0L, n);
	ASSERT_EQ(0, fl_decode(self->fd, ids[0], &d));
	EXPECT_LT(last, d.unix_ms);
}

static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return '?';
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

/* A waiting reader sleeps interruptibly and SIGKILL ends it at once. */
TEST_F(flakeid, sigkill_ends_wait)
{
	int64_t t0, dt;
	int status, round;
	pid_t pid;
	char st;

	make_gap(_metadata, self, 3000);
	for (round = 0; round < 2; round++) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			uint64_t ids[64];

			if (round == 0)
				fl_read(self->fd, ids, 64);
			else
				fl_batch(self->fd, ids, 64, 0);
			_exit(3);
		}
		fl_sleep_ms(300);
		ASSERT_EQ(0, waitpid(pid, &status, WNOHANG)) TH_LOG("round %d", round);
		st = proc_state(pid);
		if (st != '?') {
			EXPECT_EQ('S', st) TH_LOG("round %d: state %c", round, st);
		}
		t0 = fl_now_ms(CLOCK_MONOTONIC);
		ASSERT_EQ(0, kill(pid, SIGKILL));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		dt = fl_now_ms(CLOCK_MONOTONIC) - t0;
		EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		EXPECT_GT(500LL, (long long)dt) TH_LOG("round %d", round);
	}
}

struct long_reader {
	int fd;
	bool batch;
	volatile bool stop;
	uint64_t *buf;
	long full, partial, eintr, other, backwards;
	uint64_t last;
};

static void *long_reader_main(void *arg)
{
	struct long_reader *r = arg;
	long n;

	while (!r->stop) {
		if (r->batch)
			n = fl_batch(r->fd, r->buf, FLAKEID_BATCH_MAX, 0);
		else
			n = fl_read(r->fd, r->buf, FLAKEID_BATCH_MAX);
		if (n == FLAKEID_BATCH_MAX)
			r->full++;
		else if (n > 0)
			r->partial++;
		else if (n == -EINTR)
			r->eintr++;
		else
			r->other++;
		if (n > 0) {
			if (r->buf[0] <= r->last)
				r->backwards++;
			r->last = r->buf[n - 1];
		}
	}
	return NULL;
}

/*
 * A long read or batch (no waiting involved: 2^22 IDs per ms) checks for
 * signals between chunks: a signal arriving mid-call ends it with the IDs
 * copied so far, a short count.  A call that ignored signals would always
 * return FLAKEID_BATCH_MAX here.
 */
TEST_F_TIMEOUT(flakeid, signal_shortens_long_calls, 90)
{
	size_t len = (size_t)FLAKEID_BATCH_MAX * 8;
	struct sigaction sa = { .sa_handler = on_signal };
	struct long_reader r;
	pthread_t th;
	int mode, k;

	self->settle = true;
	ASSERT_LT(0L, fl_sysfs_write_settled("layout", "41:0:0:0:22"));
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));	/* no SA_RESTART */
	for (mode = 0; mode < 2; mode++) {
		memset(&r, 0, sizeof(r));
		r.fd = self->fd;
		r.batch = mode;
		r.buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		ASSERT_TRUE(r.buf != MAP_FAILED);
		ASSERT_EQ(0, pthread_create(&th, NULL, long_reader_main, &r));
		fl_sleep_ms(50);
		for (k = 0; k < 10; k++) {
			pthread_kill(th, SIGUSR1);
			fl_sleep_ms(40 + 7 * k);
		}
		r.stop = true;
		pthread_join(th, NULL);
		munmap(r.buf, len);
		TH_LOG("%s: %ld full, %ld short, %ld EINTR, %ld other",
		       mode ? "batch" : "read", r.full, r.partial, r.eintr, r.other);
		EXPECT_LE(3L, r.partial) TH_LOG("mode %d", mode);
		EXPECT_EQ(0L, r.other);
		EXPECT_EQ(0L, r.backwards);
	}
}

/* SIGKILL ends a process looping over maximal reads/batches promptly. */
TEST_F_TIMEOUT(flakeid, sigkill_during_huge_reads, 60)
{
	size_t len = (size_t)FLAKEID_BATCH_MAX * 8;
	int64_t t0, dt, worst = 0;
	int status, round;
	uint64_t *buf;
	pid_t pid;

	self->settle = true;
	ASSERT_LT(0L, fl_sysfs_write_settled("layout", "41:0:0:0:22"));
	for (round = 0; round < 4; round++) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
				   -1, 0);
			if (buf == MAP_FAILED)
				_exit(2);
			for (;;) {
				if (round % 2 == 0 &&
				    fl_read(self->fd, buf, FLAKEID_BATCH_MAX) <= 0)
					_exit(3);
				if (round % 2 == 1 &&
				    fl_batch(self->fd, buf, FLAKEID_BATCH_MAX, 0) <= 0)
					_exit(3);
			}
		}
		fl_sleep_ms(200 + 37 * round);
		ASSERT_EQ(0, waitpid(pid, &status, WNOHANG)) TH_LOG("round %d", round);
		t0 = fl_now_ms(CLOCK_MONOTONIC);
		ASSERT_EQ(0, kill(pid, SIGKILL));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		dt = fl_now_ms(CLOCK_MONOTONIC) - t0;
		EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		if (dt > worst)
			worst = dt;
	}
	TH_LOG("slowest kill: %lld ms", (long long)worst);
	EXPECT_GT(1000LL, (long long)worst);
}

/* ---- UUIDv7: /dev/flakeid-uuid7 and FLAKEID_IOC_UUID7_BATCH -------------- */

FIXTURE(uuid7) {
	int fd;		/* /dev/flakeid-uuid7 */
	int idfd;	/* /dev/flakeid */
	bool settle;
};

FIXTURE_SETUP(uuid7)
{
	self->fd = open(FLAKEID_UUID7_DEVICE_PATH, O_RDONLY);
	ASSERT_LE(0, self->fd) {
		TH_LOG("open %s: %s", FLAKEID_UUID7_DEVICE_PATH, strerror(errno));
	}
	self->idfd = open(FLAKEID_DEVICE_PATH, O_RDONLY);
	ASSERT_LE(0, self->idfd);
}

FIXTURE_TEARDOWN(uuid7)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->idfd >= 0)
		close(self->idfd);
	if (self->settle)
		fl_settle();
	EXPECT_EQ(0, fl_restore_defaults());
}

static uint32_t uuid_low32(const struct fl_uuid *u)
{
	return (uint32_t)u->b[12] << 24 | (uint32_t)u->b[13] << 16 |
	       (uint32_t)u->b[14] << 8 | u->b[15];
}

/* Version 7, variant 0b10, the counter's guard bit clear, on all @n. */
static void check_uuid_bits(struct __test_metadata *_metadata,
			    const struct fl_uuid *u, size_t n)
{
	size_t i, same_rand = 0;

	for (i = 0; i < n; i++) {
		ASSERT_EQ(7, u[i].b[6] >> 4) TH_LOG("UUID %zu: version", i);
		ASSERT_EQ(2, u[i].b[8] >> 6) TH_LOG("UUID %zu: variant", i);
		ASSERT_EQ(0ULL, fl_uuid_counter(&u[i]) >> 41)
			TH_LOG("UUID %zu: guard bit", i);
		if (i && uuid_low32(&u[i]) == uuid_low32(&u[i - 1]))
			same_rand++;
	}
	/* 32 fresh random bits each: a repeat next door is a 2^-32 event. */
	EXPECT_GE(2UL, (unsigned long)same_rand);
}

/* Each of @n UUIDs above the one before, and the first above *@prev. */
static void check_uuid_increasing(struct __test_metadata *_metadata,
				  const struct fl_uuid *u, size_t n,
				  struct fl_uuid *prev)
{
	size_t i;

	for (i = 0; i < n; i++) {
		ASSERT_GT(0, fl_uuid_cmp(prev, &u[i])) TH_LOG("UUID %zu", i);
		*prev = u[i];
	}
}

TEST_F(uuid7, node_is_char_device_0444)
{
	struct stat st;

	ASSERT_EQ(0, stat(FLAKEID_UUID7_DEVICE_PATH, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0444U, (unsigned int)(st.st_mode & 07777));
}

TEST_F(uuid7, version_and_variant)
{
	enum { N = 4096 };
	struct fl_uuid *u = calloc(N, sizeof(*u));

	ASSERT_TRUE(u != NULL);
	ASSERT_EQ((long)N, fl_uuid_read(self->fd, u, N));
	check_uuid_bits(_metadata, u, N);
	memset(u, 0, N * sizeof(*u));
	ASSERT_EQ((long)N, fl_uuid_batch(self->fd, u, N, 0));
	check_uuid_bits(_metadata, u, N);
	/* The ioctl works on either node. */
	memset(u, 0, N * sizeof(*u));
	ASSERT_EQ((long)N, fl_uuid_batch(self->idfd, u, N, 0));
	check_uuid_bits(_metadata, u, N);
	free(u);
}

/*
 * unix_ts_ms is the ID clock when the UUID was issued.  1 ms of slack on
 * each side: ahead_ms, hence fl_idclock_ms(), is rounded to the ms.
 */
TEST_F(uuid7, timestamp_within_clock)
{
	enum { N = 256 };
	struct fl_uuid u[N];
	int64_t t0, t1;
	int i, k;

	fl_settle();
	for (k = 0; k < 20; k++) {
		t0 = fl_idclock_ms();
		ASSERT_EQ((long)N, fl_uuid_read(self->fd, u, N));
		t1 = fl_idclock_ms();
		for (i = 0; i < N; i++) {
			ASSERT_LE(t0 - 1, (int64_t)fl_uuid_ms(&u[i]));
			ASSERT_GE(t1 + 1, (int64_t)fl_uuid_ms(&u[i]));
		}
		fl_sleep_ms(3);
	}
	/* And the wall clock, which no test moved ahead of the ID clock. */
	EXPECT_GE(fl_now_ms(CLOCK_REALTIME) + 1 + fl_sysfs_s64("ahead_ms"),
		  (int64_t)fl_uuid_ms(&u[N - 1]));
}

TEST_F(uuid7, read_lengths)
{
	struct fl_uuid u[4], prev;
	struct iovec iov[3];
	size_t len;

	EXPECT_EQ(0L, sys_read(self->fd, u, 0));
	for (len = 1; len < FLAKEID_UUID7_SIZE; len++)
		EXPECT_EQ(-EINVAL, sys_read(self->fd, u, len)) TH_LOG("%zu", len);
	EXPECT_EQ(16L, sys_read(self->fd, u, 17));
	EXPECT_EQ(16L, sys_read(self->fd, u, 31));
	EXPECT_EQ(32L, sys_read(self->fd, u, 33));
	EXPECT_EQ(64L, sys_read(self->fd, u, 64));
	check_uuid_bits(_metadata, u, 4);
	prev = u[3];

	/* readv: a UUID may straddle two buffers; 20 bytes read one. */
	memset(u, 0, sizeof(u));
	iov[0].iov_base = u[0].b;
	iov[0].iov_len = 10;
	iov[1].iov_base = u[0].b + 10;
	iov[1].iov_len = 10;
	EXPECT_EQ(16L, (long)readv(self->fd, iov, 2));
	iov[0].iov_base = u[1].b;
	iov[0].iov_len = 8;
	iov[1].iov_base = u[1].b + 8;
	iov[1].iov_len = 8;
	iov[2].iov_base = u[2].b;
	iov[2].iov_len = 16;
	EXPECT_EQ(32L, (long)readv(self->fd, iov, 3));
	check_uuid_bits(_metadata, u, 3);
	check_uuid_increasing(_metadata, u, 3, &prev);
	/* The ID node still reads IDs, 8 bytes each. */
	EXPECT_EQ(8L, sys_read(self->idfd, u, 8));
	EXPECT_EQ(-EINVAL, sys_read(self->idfd, u, 7));
}

TEST_F(uuid7, read_bad_buffer_efault)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *p = map_page_then_hole();
	struct fl_uuid a, c;
	long n;

	ASSERT_TRUE(p != NULL);
	ASSERT_EQ(1L, fl_uuid_read(self->fd, &a, 1));
	EXPECT_EQ(-EFAULT, sys_read(self->fd, null_ptr, 16));
	EXPECT_EQ(-EFAULT, sys_read(self->fd, KERNEL_ADDR, 16));
	EXPECT_EQ(-EFAULT, sys_read(self->fd, p + pg, 16));
	/* Two whole UUIDs fit before the hole: those, or EFAULT. */
	n = sys_read(self->fd, p + pg - 40, 1600);
	EXPECT_TRUE(n == 32 || n == -EFAULT) TH_LOG("read %ld", n);
	ASSERT_EQ(1L, fl_uuid_read(self->fd, &c, 1));
	EXPECT_GT(0, fl_uuid_cmp(&a, &c));
	if (n == 32) {
		check_uuid_bits(_metadata, (struct fl_uuid *)(p + pg - 40), 2);
		EXPECT_GT(0, fl_uuid_cmp(p + pg - 24, &c));
	}
	munmap(p, pg);
}

/*
 * Reads and batches of every size on one file: one increasing sequence;
 * the batch ioctl on a /dev/flakeid file too, whose sequence is its own
 * (order is per open file).
 */
TEST_F(uuid7, one_file_strictly_increasing)
{
	enum { MAXN = 1100 };
	struct fl_uuid *u = calloc(MAXN, sizeof(*u)), prev[2];
	long n, k;
	int r;

	ASSERT_TRUE(u != NULL);
	memset(prev, 0, sizeof(prev));
	for (r = 0; r < 300; r++) {
		k = 1 + (r * 37) % MAXN;
		if (r % 3 == 0)
			n = fl_uuid_read(self->fd, u, k);
		else
			n = fl_uuid_batch(r % 3 == 1 ? self->fd : self->idfd,
					  u, k, 0);
		ASSERT_EQ(k, n);
		check_uuid_increasing(_metadata, u, n, &prev[r % 3 == 2]);
		/* IDs on the same file interleave without effect on UUIDs. */
		ASSERT_EQ(1L, fl_batch(self->fd, (uint64_t *)u, 1, 0));
	}
	free(u);
}

struct uuid_worker {
	pthread_t th;
	int fd;
	int cpu;		/* -1: not pinned */
	long want, got, per_call;
	struct fl_uuid *out;
	long bad;		/* a UUID not above the one before, in this thread */
	long err;
};

static void *uuid_worker_main(void *arg)
{
	struct uuid_worker *w = arg;
	long n, i;

	if (w->cpu >= 0)
		fl_pin_cpu(w->cpu);
	while (w->got < w->want) {
		n = w->want - w->got;
		if (n > w->per_call)
			n = w->per_call;
		n = (w->got / w->per_call) % 2 ?
			fl_uuid_read(w->fd, w->out + w->got, n) :
			fl_uuid_batch(w->fd, w->out + w->got, n, 0);
		if (n <= 0) {
			w->err = n;
			break;
		}
		for (i = w->got; i < w->got + n; i++)
			if (i && fl_uuid_cmp(&w->out[i - 1], &w->out[i]) >= 0)
				w->bad++;
		w->got += n;
	}
	return NULL;
}

/*
 * Sorts @u; the number of UUIDs whose first 12 bytes (unix_ts_ms, version,
 * counter, variant) equal the one before.  Stronger than counting equal
 * UUIDs: on one host no two share them, whatever the random bits.
 */
static size_t uuid_dups(struct fl_uuid *u, size_t n)
{
	size_t i, dups = 0;

	qsort(u, n, sizeof(*u), fl_uuid_cmp);
	for (i = 1; i < n; i++)
		if (!memcmp(&u[i - 1], &u[i], 12))
			dups++;
	return dups;
}

/*
 * 8 threads, each with its own file: 10^7 UUIDs (160 MB, well inside the
 * guest's 2 GB), sorted, no two equal; each thread's strictly increasing.
 */
TEST_F_TIMEOUT(uuid7, threads_unique, 300)
{
	enum { NT = 8 };
	const long total = 10000000, per = total / NT;
	struct fl_uuid *all = malloc(total * sizeof(*all));
	struct uuid_worker w[NT];
	int ncpu = cpu_count(), i;

	ASSERT_TRUE(all != NULL);
	self->settle = true;
	for (i = 0; i < NT; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].fd = open(FLAKEID_UUID7_DEVICE_PATH, O_RDONLY);
		ASSERT_LE(0, w[i].fd);
		w[i].cpu = i % ncpu;
		w[i].want = per;
		w[i].per_call = 65536;
		w[i].out = all + i * per;
		ASSERT_EQ(0, pthread_create(&w[i].th, NULL, uuid_worker_main,
					    &w[i]));
	}
	for (i = 0; i < NT; i++) {
		pthread_join(w[i].th, NULL);
		close(w[i].fd);
		EXPECT_EQ(0L, w[i].err);
		EXPECT_EQ(per, w[i].got);
		EXPECT_EQ(0L, w[i].bad) TH_LOG("thread %d", i);
	}
	check_uuid_bits(_metadata, all, 1000);
	EXPECT_EQ(0UL, (unsigned long)uuid_dups(all, total));
	free(all);
}

/* Threads sharing one file: each one's UUIDs increase, none repeat. */
TEST_F_TIMEOUT(uuid7, shared_file_threads, 120)
{
	enum { NT = 4 };
	const long per = 100000;
	struct fl_uuid *all = malloc(NT * per * sizeof(*all));
	struct uuid_worker w[NT];
	int i;

	ASSERT_TRUE(all != NULL);
	self->settle = true;
	for (i = 0; i < NT; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].fd = self->fd;
		w[i].cpu = -1;
		w[i].want = per;
		w[i].per_call = 1 + i * 97;
		w[i].out = all + i * per;
		ASSERT_EQ(0, pthread_create(&w[i].th, NULL, uuid_worker_main,
					    &w[i]));
	}
	for (i = 0; i < NT; i++) {
		pthread_join(w[i].th, NULL);
		EXPECT_EQ(0L, w[i].err);
		EXPECT_EQ(per, w[i].got);
		EXPECT_EQ(0L, w[i].bad) TH_LOG("thread %d", i);
	}
	EXPECT_EQ(0UL, (unsigned long)uuid_dups(all, NT * per));
	free(all);
}

TEST_F(uuid7, ioctl_struct_size)
{
	check_sizes(_metadata, self->fd, FLAKEID_IOC_UUID7_BATCH,
		    FLAKEID_UUID7_BATCH_SIZE_VER0,
		    sizeof(struct flakeid_uuid7_batch));
}

TEST_F(uuid7, ioctl_bad_input)
{
	const uint64_t counts[] = { FLAKEID_BATCH_MAX + 1ULL, 1ULL << 32,
				    1ULL << 61, ~0ULL };
	const uint64_t vals[] = { 1, 1ULL << 31, 1ULL << 63, ~0ULL };
	long pg = sysconf(_SC_PAGESIZE);
	char *p = map_page_then_hole();
	struct flakeid_uuid7_batch b;
	struct fl_uuid u[4], a, c;
	size_t i;
	int bit;

	ASSERT_TRUE(p != NULL);
	memset(u, 0, sizeof(u));
	ASSERT_EQ(1L, fl_uuid_read(self->fd, &a, 1));
	for (bit = 0; bit < 32; bit++) {
		if (1U << bit == FLAKEID_BATCH_NONBLOCK)
			continue;
		memset(&b, 0, sizeof(b));
		b.size = sizeof(b);
		b.flags = 1U << bit;
		b.count = 4;
		b.uuids = (uintptr_t)u;
		EXPECT_EQ(-EINVAL, sys_ioctl(self->fd, FLAKEID_IOC_UUID7_BATCH, &b))
			TH_LOG("flag bit %d", bit);
		EXPECT_EQ(4ULL, b.count);
	}
	for (i = 0; i < ARRAY_SIZE(vals); i++) {
		memset(&b, 0, sizeof(b));
		b.size = sizeof(b);
		b.count = 4;
		b.uuids = (uintptr_t)u;
		b.reserved = vals[i];
		EXPECT_EQ(-EINVAL, sys_ioctl(self->fd, FLAKEID_IOC_UUID7_BATCH, &b));
	}
	for (i = 0; i < ARRAY_SIZE(counts); i++) {
		memset(&b, 0, sizeof(b));
		b.size = sizeof(b);
		b.count = counts[i];
		b.uuids = (uintptr_t)u;
		EXPECT_EQ(-EINVAL, sys_ioctl(self->fd, FLAKEID_IOC_UUID7_BATCH, &b))
			TH_LOG("count %#llx", (unsigned long long)counts[i]);
	}
	/* Nothing was written by any refused call. */
	for (i = 0; i < sizeof(u); i++)
		ASSERT_EQ(0, ((char *)u)[i]);
	EXPECT_EQ(0L, fl_uuid_batch(self->fd, u, 0, 0));

	EXPECT_EQ(-EFAULT, fl_uuid_batch(self->fd, NULL, 4, 0));
	EXPECT_EQ(-EFAULT, fl_uuid_batch(self->fd, (void *)-16L, 1, 0));
	EXPECT_EQ(-EFAULT, fl_uuid_batch(self->fd, KERNEL_ADDR, 4, 0));
	EXPECT_EQ(-EFAULT, fl_uuid_batch(self->fd, (void *)(p + pg), 4, 0));
	EXPECT_EQ(-EFAULT, fl_uuid_batch(self->fd, (void *)(p + pg - 8), 1, 0));
	memset(&b, 0, sizeof(b));
	b.size = sizeof(b);
	b.count = 1;
	b.uuids = 0xdead000000000000ULL;
	EXPECT_EQ(-EFAULT, sys_ioctl(self->fd, FLAKEID_IOC_UUID7_BATCH, &b));
	/* Two whole UUIDs fit before the hole: those, or EFAULT. */
	memset(&b, 0, sizeof(b));
	b.size = sizeof(b);
	b.count = 100;
	b.uuids = (uintptr_t)(p + pg - 40);
	if (sys_ioctl(self->fd, FLAKEID_IOC_UUID7_BATCH, &b) == 0) {
		EXPECT_EQ(2ULL, b.count);
	} else {
		EXPECT_EQ(EFAULT, errno);
	}

	EXPECT_EQ(4L, fl_uuid_batch(self->fd, u, 4, FLAKEID_BATCH_NONBLOCK));
	check_uuid_bits(_metadata, u, 4);
	ASSERT_EQ(1L, fl_uuid_read(self->fd, &c, 1));
	EXPECT_GT(0, fl_uuid_cmp(&a, &u[0]));
	EXPECT_GT(0, fl_uuid_cmp(&u[3], &c));
	if (b.count == 2) {
		EXPECT_GT(0, fl_uuid_cmp(p + pg - 24, &u[0]));
	}
	/* Other drivers' commands and unknown numbers: ENOTTY on this node too. */
	EXPECT_EQ(-ENOTTY, sys_ioctl(self->fd, _IOWR(FLAKEID_IOC_TYPE, 0x05,
						      struct flakeid_uuid7_batch),
				     &b));
	EXPECT_EQ(-ENOTTY, sys_ioctl(self->fd, TCGETS, &b));
	munmap(p, pg);
}

/* The fence and the ceiling stop UUIDs as they stop IDs. */
TEST_F(uuid7, fence_and_ceiling)
{
	enum { N = 4096 };
	struct fl_uuid *u = malloc(N * sizeof(*u));
	uint64_t until;
	long n, total = 0;
	int nb;

	ASSERT_TRUE(u != NULL);
	ASSERT_LT(0L, fl_sysfs_write("until_ms", "0"));
	EXPECT_EQ(-EKEYEXPIRED, fl_uuid_read(self->fd, u, 1));
	EXPECT_EQ(-EKEYEXPIRED, fl_uuid_batch(self->fd, u, 1, 0));
	EXPECT_EQ(-EKEYEXPIRED, fl_uuid_batch(self->idfd, u, 1,
					      FLAKEID_BATCH_NONBLOCK));
	nb = open(FLAKEID_UUID7_DEVICE_PATH, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, nb);
	EXPECT_EQ(-EKEYEXPIRED, fl_uuid_read(nb, u, 1));
	ASSERT_LT(0L, fl_sysfs_write("until_ms", "none"));
	EXPECT_EQ(1L, fl_uuid_read(nb, u, 1));

	ASSERT_LT(0L, fl_sysfs_write("until_wait_ms", "200"));
	until = set_until_ahead(_metadata, 150);
	for (;;) {
		n = fl_uuid_batch(self->fd, u, N, FLAKEID_BATCH_NONBLOCK);
		if (n < 0)
			break;
		total += n;
		ASSERT_GE(until, fl_uuid_ms(&u[n - 1])) TH_LOG("UUID %ld", total);
	}
	EXPECT_EQ(-EAGAIN, n);
	EXPECT_LT(0L, total);
	EXPECT_EQ(-EAGAIN, fl_uuid_read(nb, u, 1));
	fl_sleep_ms((long)(until - (uint64_t)fl_idclock_ms()) + 50);
	EXPECT_EQ(-EKEYEXPIRED, fl_uuid_read(self->fd, u, 1));
	ASSERT_LT(0L, fl_sysfs_write("until_ms", "none"));
	EXPECT_EQ(1L, fl_uuid_read(self->fd, u, 1));
	EXPECT_LT(until, fl_uuid_ms(&u[0]));
	close(nb);
	free(u);
}

/*
 * Leave the allocator a few hundred ms ahead of the clock, so that a
 * configuration change finds cur_ms in the future: the case where the
 * new placement is not past the slots already granted.  The largest UUID
 * read goes to *@top.
 */
static void borrow_ahead(struct __test_metadata *_metadata, int fd,
			 struct fl_uuid *top)
{
	enum { N = 65536 };
	struct fl_uuid *u = malloc(N * sizeof(*u));
	long n, total = 0;

	ASSERT_TRUE(u != NULL);
	while (total < 300000) {
		n = fl_uuid_batch(fd, u, N, FLAKEID_BATCH_NONBLOCK);
		if (n == -EAGAIN)
			break;
		ASSERT_LT(0L, n);
		total += n;
		*top = u[n - 1];
	}
	free(u);
}

/* A fresh file's first UUID, and the next on @fd: both above *@top. */
static void expect_above(struct __test_metadata *_metadata, int fd,
			 struct fl_uuid *top, const char *what)
{
	struct fl_uuid a, b;
	int nfd = open(FLAKEID_UUID7_DEVICE_PATH, O_RDONLY);

	ASSERT_LE(0, nfd);
	ASSERT_EQ(1L, fl_uuid_read(nfd, &a, 1));
	close(nfd);
	ASSERT_EQ(1L, fl_uuid_read(fd, &b, 1));
	EXPECT_GT(0, fl_uuid_cmp(top, &a)) {
		TH_LOG("%s: new file's UUID not above (ms %llu ctr %#llx <= ms %llu ctr %#llx)",
		       what, (unsigned long long)fl_uuid_ms(&a),
		       (unsigned long long)fl_uuid_counter(&a),
		       (unsigned long long)fl_uuid_ms(top),
		       (unsigned long long)fl_uuid_counter(top));
	}
	EXPECT_GT(0, fl_uuid_cmp(top, &b)) TH_LOG("%s: same file", what);
	*top = fl_uuid_cmp(&a, &b) > 0 ? a : b;
}

/* Node IDs up (IDs stay above in ID space, the slots would repeat) and down. */
TEST_F(uuid7, node_id_change_keeps_order)
{
	static const char *const names[] = { "machine_id", "region_id",
					     "app_id", "machine_id" };
	static const char *const vals[] = { "5", "3", "7", "0" };
	struct fl_uuid top;
	size_t i;

	self->settle = true;
	fl_settle();
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		borrow_ahead(_metadata, self->fd, &top);
		ASSERT_LT(0L, fl_sysfs_write_settled(names[i], vals[i]));
		expect_above(_metadata, self->fd, &top, names[i]);
	}
	borrow_ahead(_metadata, self->fd, &top);
	ASSERT_LT(0L, fl_sysfs_write_settled("layout", "41:4:3:6:9"));
	expect_above(_metadata, self->fd, &top, "layout");
}

TEST_F(uuid7, epoch_change_keeps_order)
{
	uint64_t e = fl_sysfs_u64("epoch_ms");
	struct fl_uuid top;

	ASSERT_EQ(FLAKEID_DEFAULT_EPOCH_MS, e);
	self->settle = true;
	fl_settle();
	borrow_ahead(_metadata, self->fd, &top);
	ASSERT_LT(0L, fl_sysfs_write_u64("epoch_ms", e - 1000));
	expect_above(_metadata, self->fd, &top, "epoch back 1000 ms");
	/* Forward again: a 1000 ms jump, accepted once the clock caught up. */
	ASSERT_LT(0L, fl_sysfs_write_settled("epoch_ms", "1704067200000"));
	expect_above(_metadata, self->fd, &top, "epoch forward 1000 ms");
}

/* A floor puts every later UUID above floor_ms, on every file. */
TEST_F(uuid7, floor_keeps_order)
{
	struct fl_uuid top, u;
	uint64_t x;

	ASSERT_EQ(1L, fl_uuid_read(self->fd, &top, 1));
	x = (uint64_t)fl_idclock_ms() + 2000;
	ASSERT_LT(0L, fl_sysfs_write_u64("floor_ms", x));
	ASSERT_EQ(1L, fl_uuid_read(self->fd, &u, 1));
	EXPECT_LT(x, fl_uuid_ms(&u));
	expect_above(_metadata, self->fd, &top, "floor");
	/* Writing back floor_ms as read moves past it, for UUIDs too. */
	x = fl_sysfs_u64("floor_ms");
	ASSERT_LT(0L, fl_sysfs_write_u64("floor_ms", x));
	ASSERT_EQ(1L, fl_uuid_read(self->fd, &u, 1));
	EXPECT_LT(x, fl_uuid_ms(&u));
}

/* The wall clock stepped back: UUIDs go on above, the ID clock holds. */
TEST_F(uuid7, clock_step_back_keeps_order)
{
	static const int64_t steps[] = { -5, -1000, -1 };
	struct fl_uuid top, u[64];
	int64_t back = 0;
	size_t i;

	self->settle = true;
	ASSERT_EQ(64L, fl_uuid_read(self->fd, u, 64));
	top = u[63];
	for (i = 0; i < ARRAY_SIZE(steps); i++) {
		ASSERT_EQ(0, fl_step_wall_clock(steps[i]));
		back += steps[i];
		expect_above(_metadata, self->fd, &top, "clock step back");
		ASSERT_EQ(64L, fl_uuid_batch(self->fd, u, 64, 0));
		check_uuid_increasing(_metadata, u, 64, &top);
	}
	EXPECT_EQ(0, fl_step_wall_clock(-back));
	expect_above(_metadata, self->fd, &top, "clock restored");
}

/*
 * 2 slots per ms (a 1-bit sequence), max_borrow_ms 2: asking for far more
 * than 2 * (2 + 1) UUIDs without blocking gives a short count, then EAGAIN.
 * A blocking call waits when it has nothing yet, and returns what it has
 * rather than wait once it has some: never EAGAIN, never 0.
 */
TEST_F(uuid7, borrow_limit)
{
	enum { N = 2000 };
	struct fl_uuid *u = malloc(N * sizeof(*u));
	long n = 0, total;
	int i, nb;

	ASSERT_TRUE(u != NULL);
	self->settle = true;
	pin_to_one_cpu();
	ASSERT_LT(0L, fl_sysfs_write_settled("layout", NARROW_LAYOUT));
	ASSERT_LT(0L, fl_sysfs_write("max_borrow_ms", "2"));
	n = fl_uuid_batch(self->fd, u, N, FLAKEID_BATCH_NONBLOCK);
	EXPECT_LT(0L, n);
	EXPECT_GT((long)N, n);
	for (i = 0; i < 1000; i++) {
		n = fl_uuid_batch(self->fd, u, N, FLAKEID_BATCH_NONBLOCK);
		if (n == -EAGAIN)
			break;
		ASSERT_LT(0L, n);
		EXPECT_GT((long)N, n);
	}
	EXPECT_EQ(-EAGAIN, n);
	nb = open(FLAKEID_UUID7_DEVICE_PATH, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, nb);
	for (i = 0; i < 1000; i++) {
		n = fl_uuid_read(nb, u, N);
		if (n == -EAGAIN)
			break;
		ASSERT_LT(0L, n);
		EXPECT_GT((long)N, n);
	}
	EXPECT_EQ(-EAGAIN, n);
	close(nb);
	for (i = 0, total = 0; total < 200 && i < 1000; i++) {
		n = i % 2 ? fl_uuid_read(self->fd, u, 200 - total) :
			    fl_uuid_batch(self->fd, u, 200 - total, 0);
		ASSERT_LT(0L, n);
		total += n;
	}
	EXPECT_EQ(200L, total);
	free(u);
}

static int cmp_u64_slot(const void *a, const void *b)
{
	return fl_cmp_u64(a, b);
}

/*
 * IDs and UUIDs drawn in turn on one CPU spend distinct slots: no ID's
 * (unix_ms, sequence) is a UUID's (unix_ts_ms, low sequence_bits of the
 * counter).
 */
TEST_F(uuid7, interleaved_with_ids_distinct_slots)
{
	enum { ROUNDS = 3000, K = 4 };
	uint64_t *slots = malloc(ROUNDS * 2 * K * sizeof(*slots));
	struct flakeid_config c;
	struct flakeid_decode d;
	struct fl_uuid u[K];
	uint64_t ids[K], seqmask;
	size_t ns = 0, i, dups = 0;
	int r, k, j;

	ASSERT_TRUE(slots != NULL);
	pin_to_one_cpu();
	ASSERT_EQ(0, fl_get_config(self->idfd, &c));
	seqmask = (1ULL << c.sequence_bits) - 1;
	for (r = 0; r < ROUNDS; r++) {
		k = 1 + r % K;
		ASSERT_EQ((long)k, fl_read(self->idfd, ids, k));
		for (j = 0; j < k; j++) {
			ASSERT_EQ(0, fl_decode(self->idfd, ids[j], &d));
			slots[ns++] = d.unix_ms << c.sequence_bits | d.sequence;
		}
		ASSERT_EQ((long)k, r % 2 ? fl_uuid_read(self->fd, u, k) :
					   fl_uuid_batch(self->idfd, u, k, 0));
		for (j = 0; j < k; j++)
			slots[ns++] = fl_uuid_ms(&u[j]) << c.sequence_bits |
				      (fl_uuid_counter(&u[j]) & seqmask);
	}
	qsort(slots, ns, sizeof(*slots), cmp_u64_slot);
	for (i = 1; i < ns; i++)
		if (slots[i] == slots[i - 1])
			dups++;
	EXPECT_EQ(0UL, (unsigned long)dups) TH_LOG("of %zu slots", ns);
	free(slots);
}

/* ids_issued counts slots, whatever they became. */
TEST_F(uuid7, ids_issued_counts_uuids)
{
	enum { N = 1000 };
	struct fl_uuid *u = malloc(N * sizeof(*u));
	uint64_t i0, i1;

	ASSERT_TRUE(u != NULL);
	i0 = fl_sysfs_u64("ids_issued");
	ASSERT_EQ((long)N, fl_uuid_read(self->fd, u, N));
	i1 = fl_sysfs_u64("ids_issued");
	EXPECT_LE(i0 + N, i1);
	free(u);
}

/* Within a millisecond the counter is one seed, then the sequence. */
TEST_F(uuid7, counter_is_seed_then_sequence)
{
	enum { N = 4096 };
	struct fl_uuid *u = malloc(N * sizeof(*u));
	struct flakeid_config c;
	uint64_t hi_mask, a, b;
	int i, same_ms = 0, bad = 0;

	ASSERT_TRUE(u != NULL);
	ASSERT_EQ(0, fl_get_config(self->idfd, &c));
	hi_mask = ~((1ULL << c.sequence_bits) - 1);
	ASSERT_EQ((long)N, fl_uuid_batch(self->fd, u, N, 0));
	for (i = 1; i < N; i++) {
		if (fl_uuid_ms(&u[i]) != fl_uuid_ms(&u[i - 1]))
			continue;
		same_ms++;
		a = fl_uuid_counter(&u[i - 1]);
		b = fl_uuid_counter(&u[i]);
		if ((a & hi_mask) != (b & hi_mask) || a >= b)
			bad++;
	}
	EXPECT_LT(0, same_ms);
	EXPECT_EQ(0, bad);
	free(u);
}

TEST_HARNESS_MAIN
