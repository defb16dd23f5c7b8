#include "ctl.h"
#include "evloop.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

enum { CTL_ROOT, CTL_OBJ, CTL_LIST, CTL_ROW };

#define CTL_MAX_ROWS 100000

struct ctl_table {
	char name[64];
	int ncols;
	char *cols[CTL_MAX_COLS];
	size_t nrows, cap;
	char **cells; /* nrows * CTL_MAX_COLS */
};

void ctl_out_init(struct ctl_out *o, bool json)
{
	memset(o, 0, sizeof(*o));
	o->json = json;
	o->depth = -1;
}

void ctl_daemon_counters(struct ctl_out *o)
{
	if (o->daemon_counters != NULL)
		o->daemon_counters(o->daemon_arg, o);
}

static void ctl_table_free(struct ctl_table *t)
{
	if (t == NULL)
		return;
	for (int i = 0; i < t->ncols; i++)
		free(t->cols[i]);
	for (size_t i = 0; i < t->nrows * CTL_MAX_COLS; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

void ctl_out_free(struct ctl_out *o)
{
	free(o->s);
	ctl_table_free(o->table);
	o->s = NULL;
	o->table = NULL;
}

static void ctl_append(struct ctl_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void ctl_append(struct ctl_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->s ? o->s + o->len : NULL, o->s ? o->cap - o->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->failed = true;
			return;
		}
		if (o->s != NULL && (size_t)n < o->cap - o->len) {
			o->len += (size_t)n;
			return;
		}
		size_t ncap = (o->cap ? o->cap * 2 : 1024) + (size_t)n;
		char *ns = realloc(o->s, ncap);
		if (ns == NULL) {
			o->failed = true;
			return;
		}
		o->s = ns;
		o->cap = ncap;
	}
}

const char *ctl_out_str(struct ctl_out *o)
{
	if (o->s == NULL)
		ctl_append(o, "%s", "");
	return o->failed ? "" : o->s;
}

static void ctl_json_string(struct ctl_out *o, const char *v)
{
	ctl_append(o, "\"");
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*p == '"' || *p == '\\')
			ctl_append(o, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			ctl_append(o, "\\u%04x", *p);
		else
			ctl_append(o, "%c", *p);
	}
	ctl_append(o, "\"");
}

/* JSON: the comma and the name before a member. */
static void ctl_json_member(struct ctl_out *o, const char *name)
{
	if (o->depth >= 0) {
		if (!o->first[o->depth])
			ctl_append(o, ",");
		o->first[o->depth] = false;
	}
	if (name != NULL && o->depth >= 0 && o->kind[o->depth] != CTL_LIST) {
		ctl_json_string(o, name);
		ctl_append(o, ":");
	}
}

static void ctl_push(struct ctl_out *o, uint8_t kind)
{
	if (o->depth + 1 >= CTL_MAX_DEPTH) {
		o->failed = true;
		return;
	}
	o->depth++;
	o->kind[o->depth] = kind;
	o->first[o->depth] = true;
}

static int ctl_text_indent(const struct ctl_out *o)
{
	int n = 0;

	for (int i = 1; i <= o->depth; i++)
		if (o->kind[i] == CTL_OBJ)
			n += 2;
	return n;
}

void ctl_obj_begin(struct ctl_out *o, const char *name)
{
	bool in_list = o->depth >= 0 && o->kind[o->depth] == CTL_LIST;

	if (o->json) {
		ctl_json_member(o, name);
		ctl_append(o, "{");
	} else if (in_list && o->table != NULL) {
		struct ctl_table *t = o->table;
		if (t->nrows == t->cap) {
			size_t ncap = t->cap ? t->cap * 2 : 16;
			char **nc =
				ncap <= CTL_MAX_ROWS
					? realloc(t->cells, ncap * CTL_MAX_COLS * sizeof(char *))
					: NULL;
			if (nc == NULL) {
				o->failed = true;
				return;
			}
			memset(nc + t->cap * CTL_MAX_COLS, 0,
			       (ncap - t->cap) * CTL_MAX_COLS * sizeof(char *));
			t->cells = nc;
			t->cap = ncap;
		}
		t->nrows++;
	} else if (name != NULL) {
		ctl_append(o, "%*s%s:\n", ctl_text_indent(o), "", name);
	}
	ctl_push(o, in_list ? CTL_ROW : (o->depth < 0 ? CTL_ROOT : CTL_OBJ));
}

void ctl_obj_end(struct ctl_out *o)
{
	if (o->depth < 0)
		return;
	if (o->json)
		ctl_append(o, "}");
	o->depth--;
	if (o->json && o->depth < 0)
		ctl_append(o, "\n");
}

void ctl_list_begin(struct ctl_out *o, const char *name)
{
	if (o->json) {
		ctl_json_member(o, name);
		ctl_append(o, "[");
	} else if (o->table == NULL) {
		o->table = calloc(1, sizeof(*o->table));
		if (o->table == NULL)
			o->failed = true;
		else
			snprintf(o->table->name, sizeof(o->table->name), "%s", name ? name : "");
	}
	ctl_push(o, CTL_LIST);
}

static void ctl_table_print(struct ctl_out *o, struct ctl_table *t)
{
	int w[CTL_MAX_COLS];

	ctl_append(o, "%s: %zu\n", t->name, t->nrows);
	if (t->nrows == 0)
		return;
	for (int c = 0; c < t->ncols; c++) {
		w[c] = (int)strlen(t->cols[c]);
		for (size_t r = 0; r < t->nrows; r++) {
			const char *v = t->cells[r * CTL_MAX_COLS + c];
			if (v != NULL && (int)strlen(v) > w[c])
				w[c] = (int)strlen(v);
		}
	}
	for (int c = 0; c < t->ncols; c++)
		ctl_append(o, "  %-*s", w[c], t->cols[c]);
	ctl_append(o, "\n");
	for (size_t r = 0; r < t->nrows; r++) {
		for (int c = 0; c < t->ncols; c++) {
			const char *v = t->cells[r * CTL_MAX_COLS + c];
			ctl_append(o, "  %-*s", w[c], v ? v : "-");
		}
		ctl_append(o, "\n");
	}
}

void ctl_list_end(struct ctl_out *o)
{
	if (o->json) {
		ctl_append(o, "]");
	} else if (o->table != NULL) {
		ctl_table_print(o, o->table);
		ctl_table_free(o->table);
		o->table = NULL;
	}
	o->depth--;
}

/* Text mode inside a list row: store the cell under its column. */
static void ctl_text_cell(struct ctl_out *o, const char *name, const char *v)
{
	struct ctl_table *t = o->table;
	int c;

	if (t == NULL || t->nrows == 0)
		return;
	for (c = 0; c < t->ncols; c++)
		if (strcmp(t->cols[c], name) == 0)
			break;
	if (c == t->ncols) {
		if (t->ncols == CTL_MAX_COLS)
			return;
		t->cols[t->ncols++] = strdup(name);
	}
	char **cell = &t->cells[(t->nrows - 1) * CTL_MAX_COLS + c];
	free(*cell);
	*cell = strdup(v);
}

static void ctl_value(struct ctl_out *o, const char *name, const char *text, bool quote)
{
	if (o->json) {
		ctl_json_member(o, name);
		if (quote)
			ctl_json_string(o, text);
		else
			ctl_append(o, "%s", text);
	} else if (o->depth >= 0 && o->kind[o->depth] == CTL_ROW) {
		ctl_text_cell(o, name, text);
	} else {
		ctl_append(o, "%*s%s: %s\n", ctl_text_indent(o), "", name, text);
	}
}

void ctl_str(struct ctl_out *o, const char *name, const char *v)
{
	ctl_value(o, name, v, true);
}

void ctl_u64(struct ctl_out *o, const char *name, uint64_t v)
{
	char s[32];

	snprintf(s, sizeof(s), "%" PRIu64, v);
	ctl_value(o, name, s, false);
}

void ctl_i64(struct ctl_out *o, const char *name, int64_t v)
{
	char s[32];

	snprintf(s, sizeof(s), "%" PRId64, v);
	ctl_value(o, name, s, false);
}

void ctl_bool(struct ctl_out *o, const char *name, bool v)
{
	ctl_value(o, name, v ? "true" : "false", false);
}

void ctl_addr(struct ctl_out *o, const char *name, struct in_addr a)
{
	char s[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a, s, sizeof(s));
	ctl_str(o, name, s);
}

void ctl_mac(struct ctl_out *o, const char *name, const uint8_t mac[6])
{
	char s[18];

	snprintf(s, sizeof(s), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
	ctl_str(o, name, s);
}

void ctl_raw(struct ctl_out *o, const char *s)
{
	if (!o->json)
		ctl_append(o, "%s", s);
}

/* ---- a daemon's commands ---- */

static const struct ctl_cmd *ctl_cmd_find(const struct ctl_cmd *cmds, const char *name)
{
	for (const struct ctl_cmd *c = cmds; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static void ctl_cmd_row(struct ctl_out *o, const char *name, const char *args, const char *help)
{
	ctl_obj_begin(o, NULL);
	ctl_str(o, "command", name);
	ctl_str(o, "args", args[0] != '\0' ? args : "-");
	ctl_str(o, "answer", help);
	ctl_obj_end(o);
}

static void ctl_cmd_help(const struct ctl_cmd *cmds, struct ctl_out *o)
{
	ctl_list_begin(o, "commands");
	for (const struct ctl_cmd *c = cmds; c->name != NULL; c++)
		ctl_cmd_row(o, c->name, c->args, c->help);
	ctl_cmd_row(o, CTL_HELP, "", "these commands");
	ctl_list_end(o);
}

/* "unknown command 'x' (a, b, ..., help)", cut to errlen. */
static int ctl_cmd_unknown(const struct ctl_cmd *cmds, const char *name, char *err, size_t errlen)
{
	size_t n = (size_t)snprintf(err, errlen, "unknown command '%s' (", name);

	for (const struct ctl_cmd *c = cmds; c->name != NULL && n < errlen; c++)
		n += (size_t)snprintf(err + n, errlen - n, "%s, ", c->name);
	if (n < errlen)
		snprintf(err + n, errlen - n, "%s)", CTL_HELP);
	return -1;
}

int ctl_dispatch(const struct ctl_cmd *cmds, const char *daemon, void *arg, int argc, char **argv,
		 struct ctl_out *o, char *err, size_t errlen)
{
	const char *name = argc > 0 ? argv[0] : "";
	bool help = strcmp(name, CTL_HELP) == 0;
	const struct ctl_cmd *c = help ? NULL : ctl_cmd_find(cmds, name);
	int r = 0;

	if (!help && c == NULL)
		return ctl_cmd_unknown(cmds, name, err, errlen);
	if (!help && c->run == NULL) {
		snprintf(err, errlen, "'%s' is answered by %s's daemon layer, not its library",
			 name, daemon);
		return -1;
	}
	ctl_obj_begin(o, NULL);
	ctl_str(o, "daemon", daemon);
	if (help)
		ctl_cmd_help(cmds, o);
	else
		r = c->run(arg, argc, argv, o, err, errlen);
	ctl_obj_end(o);
	return r;
}

/* ---- server ---- */

#define CTL_REQ_MAX  1024
#define CTL_MAX_ARGS 16
/* A client that has not sent its line, or read the answer, by then is dropped. */
#define CTL_CLIENT_TIMEOUT_S 1
/* The status line: "ok", or this and the reason. */
#define CTL_ERROR "error "

struct ctl_server {
	struct ev_loop *loop;
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	ctl_handler handler;
	void *arg;
};

static void ctl_write_all(int fd, const char *s, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, s, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_warn("control client went away: %s", n < 0 ? strerror(errno) : "eof");
			return;
		}
		s += n;
		len -= (size_t)n;
	}
}

static void ctl_write_str(int fd, const char *s)
{
	ctl_write_all(fd, s, strlen(s));
}

/* Read one request line; the client has CTL_CLIENT_TIMEOUT_S to send it. */
static ssize_t ctl_read_line(int fd, char *line, size_t cap)
{
	size_t len = 0;

	while (len + 1 < cap) {
		ssize_t n = read(fd, line + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(line, '\n', len) != NULL)
			break;
	}
	line[len] = '\0';
	char *nl = strchr(line, '\n');
	if (nl == NULL)
		return -1;
	*nl = '\0';
	return (ssize_t)(nl - line);
}

static void ctl_serve(struct ctl_server *s, int cfd)
{
	char line[CTL_REQ_MAX], err[256] = "";
	char *argv[CTL_MAX_ARGS], *save = NULL;
	int argc = 0;
	struct ctl_out o;

	if (ctl_read_line(cfd, line, sizeof(line)) < 0) {
		ctl_write_str(cfd, CTL_ERROR "request line missing or too long\n");
		return;
	}
	for (char *t = strtok_r(line, " \t", &save); t && argc < CTL_MAX_ARGS;
	     t = strtok_r(NULL, " \t", &save))
		argv[argc++] = t;
	if (argc < 2 || (strcmp(argv[0], "json") != 0 && strcmp(argv[0], "text") != 0)) {
		ctl_write_str(cfd, CTL_ERROR "usage: <text|json> <command> [args]\n");
		return;
	}
	ctl_out_init(&o, strcmp(argv[0], "json") == 0);
	int r = s->handler(s->arg, argc - 1, argv + 1, &o, err, sizeof(err));
	const char *body = ctl_out_str(&o);
	if (r == 0 && !o.failed) {
		ctl_write_str(cfd, "ok\n");
		ctl_write_str(cfd, body);
	} else {
		char status[300];
		int n = snprintf(status, sizeof(status), CTL_ERROR "%s\n",
				 o.failed ? "out of memory" : err);
		ctl_write_all(cfd, status, (size_t)n);
	}
	ctl_out_free(&o);
}

static void ctl_accept(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct ctl_server *s = arg;
	struct timeval tv = {.tv_sec = CTL_CLIENT_TIMEOUT_S};
	int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

	if (cfd < 0) {
		log_rl_warn("accept: %s", strerror(errno));
		return;
	}
	setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	ctl_serve(s, cfd);
	close(cfd);
}

/*
 * The default sockets live in /run/mipsa (a unit's RuntimeDirectory): a
 * daemon started by hand makes that one directory level when it is not
 * there, rather than fail on it.  Nothing above it is made.
 */
static int ctl_make_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) == 0)
		log_notice("made %s for the control socket", dir);
	else if (errno != EEXIST) {
		log_err("control socket %s: making %s: %s", path, dir, strerror(errno));
		return -1;
	}
	return 0;
}

struct ctl_server *ctl_server_open(struct ev_loop *loop, const char *path, ctl_handler h, void *arg)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct ctl_server *s;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_err("control socket path too long: %s", path);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	snprintf(s->path, sizeof(s->path), "%s", path);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	s->loop = loop;
	s->handler = h;
	s->arg = arg;
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		log_err("socket AF_UNIX: %s", strerror(errno));
		free(s);
		return NULL;
	}
	unlink(path); /* a stale socket from a previous run */
	if (ctl_make_parent(path) < 0) {
		close(s->fd);
		free(s);
		return NULL;
	}
	mode_t old = umask(0077);
	int r = bind(s->fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (r < 0 || listen(s->fd, 16) < 0 || ev_io_add(loop, s->fd, EPOLLIN, ctl_accept, s) < 0) {
		log_err("control socket %s: %s", path, strerror(errno));
		close(s->fd);
		free(s);
		return NULL;
	}
	return s;
}

void ctl_server_close(struct ctl_server *s)
{
	if (s == NULL)
		return;
	ev_io_del(s->loop, s->fd);
	close(s->fd);
	unlink(s->path);
	free(s);
}

int ctl_request(const char *path, bool json, int argc, char **argv, char **body)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	char line[CTL_REQ_MAX];
	size_t len = 0, cap = 4096;
	int n, fd;

	*body = NULL;
	n = snprintf(line, sizeof(line), "%s", json ? "json" : "text");
	for (int i = 0; i < argc && n < (int)sizeof(line); i++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " %s", argv[i]);
	if (n + 1 >= (int)sizeof(line) || strlen(path) >= sizeof(sun.sun_path))
		return -1;
	line[n++] = '\n';
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ctl_write_all(fd, line, (size_t)n);
	char *out = malloc(cap);
	ssize_t r;
	while (out != NULL && (r = read(fd, out + len, cap - len - 1)) > 0) {
		len += (size_t)r;
		if (len + 1 == cap) {
			char *no = realloc(out, cap * 2);
			if (no == NULL) {
				free(out);
				out = NULL;
				break;
			}
			out = no;
			cap *= 2;
		}
	}
	close(fd);
	if (out == NULL)
		return -1;
	out[len] = '\0';
	char *nl = strchr(out, '\n');
	if (nl == NULL) {
		free(out);
		return -1;
	}
	*nl = '\0';
	int status = strcmp(out, "ok") == 0 ? 0 : 1;
	if (status == 0) {
		memmove(out, nl + 1, strlen(nl + 1) + 1);
	} else {
		size_t skip =
			strncmp(out, CTL_ERROR, strlen(CTL_ERROR)) == 0 ? strlen(CTL_ERROR) : 0;
		memmove(out, out + skip, strlen(out + skip) + 1);
	}
	*body = out;
	return status;
}
