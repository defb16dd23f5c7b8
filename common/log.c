#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define RL_PER_SEC 5
#define RL_BURST   10

static struct {
	const char *ident;
	enum log_level level;
	bool use_syslog;
	bool journal; /* stderr is systemd's journal: priorities, no time of ours */
} log_cfg = {"mipsa", LOG_LVL_INFO, false, false};

static const char *const log_names[] = {"err", "warn", "notice", "info", "debug"};

/*
 * systemd connects a unit's stderr to the journal and names that stream in
 * JOURNAL_STREAM ("device:inode"); when stderr is that very stream, each
 * line starts with its syslog priority ("<3>"), which the journal takes
 * as the line's priority, and carries no time (the journal stamps it).
 */
bool log_stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_init(const char *ident, enum log_level level, bool use_syslog)
{
	log_cfg.ident = ident;
	log_cfg.level = level;
	log_cfg.use_syslog = use_syslog;
	log_cfg.journal = !use_syslog && log_stderr_is_journal();
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_level(enum log_level level)
{
	log_cfg.level = level;
}

int log_level_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++)
		if (strcmp(name, log_names[i]) == 0)
			return (int)i;
	return -1;
}

static void log_vmsg(enum log_level level, const char *func, const char *suffix, const char *fmt,
		     va_list ap) __attribute__((format(printf, 4, 0)));

static void log_vmsg(enum log_level level, const char *func, const char *suffix, const char *fmt,
		     va_list ap)
{
	static const int syslog_prio[] = {LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG};
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	if (log_cfg.use_syslog) {
		syslog(syslog_prio[level], "%s: %s%s", func, line, suffix);
		return;
	}
	if (log_cfg.journal) {
		fprintf(stderr, "<%d>%s[%s] %s: %s%s\n", syslog_prio[level], log_cfg.ident,
			log_names[level], func, line, suffix);
		return;
	}
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	fprintf(stderr, "%02d:%02d:%02d.%06ld %s[%s] %s: %s%s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
		ts.tv_nsec / 1000, log_cfg.ident, log_names[level], func, line, suffix);
}

void log_msg(enum log_level level, const char *func, const char *fmt, ...)
{
	va_list ap;

	if (level > log_cfg.level)
		return;
	va_start(ap, fmt);
	log_vmsg(level, func, "", fmt, ap);
	va_end(ap);
}

static uint64_t log_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Refill the bucket for the time passed and take one token if there is one. */
bool log_ratelimit_take(struct log_ratelimit *rl)
{
	uint64_t now = log_now_ms();
	uint64_t refill = (now - rl->last_ms) * RL_PER_SEC;

	if (rl->last_ms == 0)
		refill = RL_BURST * 1000;
	rl->last_ms = now;
	if (refill > RL_BURST * 1000 - rl->tokens_milli)
		rl->tokens_milli = RL_BURST * 1000;
	else
		rl->tokens_milli += (uint32_t)refill;
	if (rl->tokens_milli < 1000)
		return false;
	rl->tokens_milli -= 1000;
	return true;
}

void log_msg_rl(struct log_ratelimit *rl, enum log_level level, const char *func, const char *fmt,
		...)
{
	char suffix[64] = "";
	va_list ap;

	if (level > log_cfg.level)
		return;
	if (!log_ratelimit_take(rl)) {
		rl->suppressed++;
		return;
	}
	if (rl->suppressed > 0)
		snprintf(suffix, sizeof(suffix), " (%u similar lines suppressed)", rl->suppressed);
	rl->suppressed = 0;
	va_start(ap, fmt);
	log_vmsg(level, func, suffix, fmt, ap);
	va_end(ap);
}
