/*
 * Levelled logging.  Every line names the function it comes from, so a
 * reader can find the code that wrote it.  Anything a remote peer can
 * trigger goes through a rate limiter, so a flood of bad packets cannot
 * flood the log.  Secrets are never passed to these functions.
 */
#ifndef MIPSA_LOG_H
#define MIPSA_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level {
	LOG_LVL_ERR = 0,
	LOG_LVL_WARN,
	LOG_LVL_NOTICE,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

/* Process-wide settings: the daemon's name, the lowest level shown, syslog or stderr. */
void log_init(const char *ident, enum log_level level, bool use_syslog);
void log_set_level(enum log_level level);
/* Whether stderr is systemd's journal (JOURNAL_STREAM names it): log_init asks. */
bool log_stderr_is_journal(void);
/* Parse "err", "warn", "notice", "info", "debug"; -1 if unknown. */
int log_level_from_name(const char *name);

void log_msg(enum log_level level, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_err(...)    log_msg(LOG_LVL_ERR, __func__, __VA_ARGS__)
#define log_warn(...)   log_msg(LOG_LVL_WARN, __func__, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LVL_NOTICE, __func__, __VA_ARGS__)
#define log_info(...)   log_msg(LOG_LVL_INFO, __func__, __VA_ARGS__)
#define log_debug(...)  log_msg(LOG_LVL_DEBUG, __func__, __VA_ARGS__)

/*
 * A token bucket per call site: at most `burst` lines, refilled at `per_sec`
 * lines a second.  Lines dropped meanwhile are counted and reported with the
 * next line that gets through.
 */
struct log_ratelimit {
	uint64_t last_ms;
	uint32_t tokens_milli;
	uint32_t suppressed;
};

/* Take one token from a limiter (also for budgets other than log lines). */
bool log_ratelimit_take(struct log_ratelimit *rl);

void log_msg_rl(struct log_ratelimit *rl, enum log_level level, const char *func, const char *fmt,
		...) __attribute__((format(printf, 4, 5)));

/* Each expansion has its own limiter: 5 lines a second, bursts of 10. */
#define log_rl(level, ...)                                                                         \
	do {                                                                                       \
		static struct log_ratelimit rl_;                                                   \
		log_msg_rl(&rl_, level, __func__, __VA_ARGS__);                                    \
	} while (0)
#define log_rl_err(...)    log_rl(LOG_LVL_ERR, __VA_ARGS__)
#define log_rl_warn(...)   log_rl(LOG_LVL_WARN, __VA_ARGS__)
#define log_rl_notice(...) log_rl(LOG_LVL_NOTICE, __VA_ARGS__)
#define log_rl_info(...)   log_rl(LOG_LVL_INFO, __VA_ARGS__)
#define log_rl_debug(...)  log_rl(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
