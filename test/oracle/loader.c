// SPDX-License-Identifier: MIT
/*
 * kmodsim oracle loader: the guest's worker. Reads a cases file (the format of
 * server/src/cli/cases.ts: id TAB ko TAB flags TAB params [TAB options]) and, for
 * each case, makes the module system call and writes one JSON line to the result
 * port: rc, errno, the /dev/kmsg records the call produced, the taint mask before
 * and after, and what /proc/modules and /sys/module show of a module that loaded.
 *
 *   loader CASES RESULT_TTY QUIET_MS SETTLE_MS
 *
 * Built with gcc -static so the initramfs needs nothing but busybox beside it.
 * Results go to their own serial port so console output can never split a line.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define MAX_LINE 65536
#define MAX_RECORD 8192
#define MAX_MODULES 512

static FILE *out;
static int kmsg_fd = -1;

/*
 * A line printk cut short loses its newline, and the ring buffer keeps such a record open
 * (unseen by /dev/kmsg readers) until the next record is reserved. After each case the loader
 * logs this marker itself, so a case's cut line is read with the case; the marker is skipped.
 */
static const char kmsg_marker[] = "kmsim-loader: end of case";

/* --- JSON output ------------------------------------------------------- */

static void json_string(const char *s, size_t n)
{
	fputc('"', out);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void json_cstr(const char *s)
{
	json_string(s, strlen(s));
}

/* --- small file helpers ------------------------------------------------ */

static ssize_t read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, total = 0;

	if (fd < 0)
		return -1;
	while ((size_t)total + 1 < size && (n = read(fd, buf + total, size - 1 - total)) > 0)
		total += n;
	close(fd);
	buf[total] = 0;
	return total;
}

static void chomp(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = 0;
}

static long read_taint(void)
{
	char buf[64];

	if (read_file("/proc/sys/kernel/tainted", buf, sizeof(buf)) < 0)
		return -1;
	return strtol(buf, NULL, 10);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* --- /dev/kmsg ------------------------------------------------------------ */

/*
 * One read() of /dev/kmsg returns one record: "prefix,seq,usec,flags;text\n"
 * followed by " KEY=value" lines. Only the level and the text matter here; the
 * text keeps the kernel's \xHH escapes, which the host undoes.
 */
static int kmsg_emit_records(int emit)
{
	char rec[MAX_RECORD];
	int count = 0;

	for (;;) {
		ssize_t n = read(kmsg_fd, rec, sizeof(rec) - 1);
		if (n < 0) {
			if (errno == EPIPE)
				continue; /* overwritten records: skip ahead */
			break;
		}
		rec[n] = 0;
		char *semi = strchr(rec, ';');
		if (!semi)
			continue;
		char *end = strchr(semi + 1, '\n');
		size_t len = end ? (size_t)(end - semi - 1) : strlen(semi + 1);
		if (len == sizeof(kmsg_marker) - 1 && !memcmp(semi + 1, kmsg_marker, len))
			continue;
		if (emit) {
			fprintf(out, "%s{\"level\":%ld,\"text\":", count ? "," : "",
				strtol(rec, NULL, 10) & 7);
			json_string(semi + 1, len);
			fputc('}', out);
		}
		count++;
	}
	return count;
}

/*
 * Each write opens /dev/kmsg anew: the write ratelimit (10 lines in 5 s) is per open file.
 * Level 7 with no facility: the kernel files it as LOG_USER and the console does not print it.
 */
static void kmsg_write_marker(void)
{
	char buf[64];
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	int n = snprintf(buf, sizeof(buf), "<7>%s\n", kmsg_marker);
	if (write(fd, buf, n) < 0)
		perror("loader: /dev/kmsg");
	close(fd);
}

/* Waits until the log has been quiet for quiet_ms, so late boot lines are not a case's. */
static int kmsg_wait_quiet(long quiet_ms, long limit_ms)
{
	long start = now_ms(), last = now_ms();
	int drained = 0;

	while (now_ms() - last < quiet_ms && now_ms() - start < limit_ms) {
		struct pollfd p = { kmsg_fd, POLLIN, 0 };
		if (poll(&p, 1, 50) > 0) {
			drained += kmsg_emit_records(0);
			last = now_ms();
		}
	}
	return drained;
}

/* --- /proc/modules and /sys/module ---------------------------------------- */

struct module_list {
	int count;
	char names[MAX_MODULES][64];
};

static void list_modules(struct module_list *m)
{
	static char buf[1 << 16];
	char *line, *save = NULL;

	m->count = 0;
	if (read_file("/proc/modules", buf, sizeof(buf)) < 0)
		return;
	for (line = strtok_r(buf, "\n", &save); line && m->count < MAX_MODULES;
	     line = strtok_r(NULL, "\n", &save)) {
		size_t n = strcspn(line, " ");
		if (n >= sizeof(m->names[0]))
			n = sizeof(m->names[0]) - 1;
		memcpy(m->names[m->count], line, n);
		m->names[m->count][n] = 0;
		m->count++;
	}
}

static int has_module(const struct module_list *m, const char *name)
{
	for (int i = 0; i < m->count; i++)
		if (!strcmp(m->names[i], name))
			return 1;
	return 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The module's own taint letters and every readable parameter, in name order. */
static void emit_loaded(const char *name)
{
	char path[512], buf[4096];
	char *names[256];
	int n = 0;

	snprintf(path, sizeof(path), "/sys/module/%s/taint", name);
	if (read_file(path, buf, sizeof(buf)) < 0)
		buf[0] = 0;
	chomp(buf);
	fputs("{\"name\":", out);
	json_cstr(name);
	fputs(",\"taint\":", out);
	json_cstr(buf);
	fputs(",\"parameters\":{", out);

	snprintf(path, sizeof(path), "/sys/module/%s/parameters", name);
	DIR *d = opendir(path);
	struct dirent *e;
	while (d && (e = readdir(d)) && n < 256)
		if (e->d_name[0] != '.')
			names[n++] = strdup(e->d_name);
	if (d)
		closedir(d);
	qsort(names, n, sizeof(names[0]), compare_names);
	int shown = 0;
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s", name, names[i]);
		if (read_file(path, buf, sizeof(buf)) >= 0) {
			chomp(buf);
			fprintf(out, "%s", shown++ ? "," : "");
			json_cstr(names[i]);
			fputc(':', out);
			json_cstr(buf);
		}
		free(names[i]);
	}
	fputs("}}", out);
}

/* --- the cases file ------------------------------------------------------- */

static void unescape(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (*r != '\\' || !r[1]) {
			*w++ = *r;
			continue;
		}
		char c = *++r;
		if (c == 't')
			*w++ = '\t';
		else if (c == 'n')
			*w++ = '\n';
		else if (c == 'r')
			*w++ = '\r';
		else if (c == '\\')
			*w++ = '\\';
		else if (c == 'x' && r[1] && r[2]) {
			char hex[3] = { r[1], r[2], 0 };
			*w++ = (char)strtol(hex, NULL, 16);
			r += 2;
		} else {
			*w++ = '\\';
			*w++ = c;
		}
	}
	*w = 0;
}

struct options {
	int init, keep, params_null;
	long settle_ms;
	char rmmod[64];
};

static void parse_options(char *text, struct options *o)
{
	char *save = NULL;

	memset(o, 0, sizeof(*o));
	for (char *w = strtok_r(text, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		if (!strcmp(w, "init"))
			o->init = 1;
		else if (!strcmp(w, "keep"))
			o->keep = 1;
		else if (!strcmp(w, "params=null"))
			o->params_null = 1;
		else if (!strncmp(w, "settle=", 7))
			o->settle_ms = strtol(w + 7, NULL, 10);
		else if (!strncmp(w, "rmmod=", 6))
			snprintf(o->rmmod, sizeof(o->rmmod), "%s", w + 6);
	}
}

static unsigned long parse_flags(const char *s)
{
	unsigned long v = 0;
	char copy[256], *save = NULL;

	snprintf(copy, sizeof(copy), "%s", s);
	for (char *p = strtok_r(copy, "|", &save); p; p = strtok_r(NULL, "|", &save)) {
		if (!strncmp(p, "MODULE_INIT_", 12))
			p += 12;
		if (!strcmp(p, "IGNORE_MODVERSIONS"))
			v |= 1;
		else if (!strcmp(p, "IGNORE_VERMAGIC"))
			v |= 2;
		else if (!strcmp(p, "COMPRESSED_FILE"))
			v |= 4;
		else if (strcmp(p, "-"))
			v |= strtoul(p, NULL, 0);
	}
	return v;
}

static char *read_whole(const char *path, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf;

	if (fd < 0 || fstat(fd, &st) < 0)
		return NULL;
	buf = malloc(st.st_size + 1);
	size_t got = 0;
	while (buf && got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, st.st_size - got);
		if (n <= 0)
			break;
		got += n;
	}
	close(fd);
	*len = got;
	return buf;
}

/* --- one case ---------------------------------------------------------- */

static void run_case(char *line, int lineno, long settle_ms)
{
	char *field[5] = { 0 };
	char *p = line;
	int nf = 0;
	struct options o;
	struct module_list before, after;
	const char *call;
	long rc;
	int err = 0;

	/* strsep, not strtok: an empty params field is a field. */
	while (nf < 5 && (field[nf] = strsep(&p, "\t")))
		nf++;
	if (nf < 2)
		return;
	char *params = field[3] ? field[3] : "";
	unescape(params);
	parse_options(field[4] ? field[4] : (char[]){ 0 }, &o);
	unsigned long flags = parse_flags(field[2] ? field[2] : "0");
	if (o.settle_ms > 0)
		settle_ms = o.settle_ms;

	int stray = kmsg_emit_records(0);
	long taint_before = read_taint();
	list_modules(&before);

	if (o.rmmod[0]) {
		call = "delete_module";
		rc = syscall(SYS_delete_module, o.rmmod, O_NONBLOCK);
	} else if (o.init) {
		size_t len = 0;
		char *image = read_whole(field[1], &len);
		call = "init_module";
		rc = image ? syscall(SYS_init_module, image, len, o.params_null ? NULL : params)
			   : -1;
		free(image);
	} else {
		int fd = open(field[1], O_RDONLY | O_CLOEXEC);
		call = "finit_module";
		rc = fd < 0 ? -1 : syscall(SYS_finit_module, fd, o.params_null ? NULL : params,
					   flags);
		if (fd >= 0)
			close(fd);
	}
	if (rc < 0)
		err = errno;

	sleep_ms(settle_ms);
	kmsg_write_marker();
	fprintf(out, "{\"id\":");
	json_cstr(field[0]);
	fprintf(out, ",\"line\":%d,\"call\":\"%s\",\"rc\":%ld,\"errno\":%d,\"stray_before\":%d,"
		"\"kmsg\":[", lineno, call, rc < 0 ? -1L : rc, err, stray);
	kmsg_emit_records(1);
	fprintf(out, "],\"taint_before\":%ld,\"taint_after\":%ld,\"loaded\":[", taint_before,
		read_taint());

	list_modules(&after);
	int shown = 0;
	for (int i = 0; i < after.count; i++) {
		if (has_module(&before, after.names[i]))
			continue;
		if (shown++)
			fputc(',', out);
		emit_loaded(after.names[i]);
		if (!o.keep)
			syscall(SYS_delete_module, after.names[i], O_NONBLOCK);
	}
	fputs("]}\n", out);
	fflush(out);

	/* What an unload printed belongs to no case. */
	if (shown && !o.keep) {
		sleep_ms(settle_ms);
		kmsg_emit_records(0);
	}
}

static void emit_guest_header(long quiet_drained)
{
	struct utsname u;
	char buf[4096];

	uname(&u);
	fputs("{\"guest\":{\"uname_r\":", out);
	json_cstr(u.release);
	fputs(",\"uname_v\":", out);
	json_cstr(u.version);
	read_file("/proc/cmdline", buf, sizeof(buf));
	chomp(buf);
	fputs(",\"cmdline\":", out);
	json_cstr(buf);
	if (read_file("/sys/kernel/security/lockdown", buf, sizeof(buf)) < 0)
		buf[0] = 0;
	chomp(buf);
	fputs(",\"lockdown\":", out);
	json_cstr(buf);
	fprintf(out, ",\"taint\":%ld,\"late_boot_lines\":%ld}}\n", read_taint(), quiet_drained);
	fflush(out);
}

int main(int argc, char **argv)
{
	static char line[MAX_LINE];

	if (argc < 5) {
		fprintf(stderr, "usage: loader CASES RESULT_TTY QUIET_MS SETTLE_MS\n");
		return 2;
	}
	FILE *cases = fopen(argv[1], "r");
	out = fopen(argv[2], "w");
	if (!cases || !out) {
		fprintf(stderr, "loader: cannot open %s or %s\n", argv[1], argv[2]);
		return 1;
	}
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	lseek(kmsg_fd, 0, SEEK_END);
	long late = kmsg_wait_quiet(strtol(argv[3], NULL, 10), 10000);
	long settle = strtol(argv[4], NULL, 10);
	emit_guest_header(late);

	int lineno = 0, ran = 0;
	long start = now_ms();
	while (fgets(line, sizeof(line), cases)) {
		lineno++;
		chomp(line);
		if (!line[0] || line[0] == '#' || line[0] == '!')
			continue;
		run_case(line, lineno, settle);
		ran++;
	}
	fprintf(out, "{\"end\":{\"cases\":%d,\"elapsed_ms\":%ld,\"taint\":%ld}}\n", ran,
		now_ms() - start, read_taint());
	fflush(out);
	sync();
	/* With qemu's -no-reboot a restart ends the emulator at once. */
	reboot(RB_AUTOBOOT);
	return 0;
}
