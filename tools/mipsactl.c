/*
 * mipsactl: talk to a mipsa daemon's control socket.
 *   mipsactl [-s SOCKET] [--json] COMMAND [ARGS...]
 * The commands are the daemon's: "mipsactl help" asks it for its list, or
 * with no socket prints every daemon's from common/ctl_cmds.h, the lists
 * the daemons' tables are built from.
 */
#include "config.h"

#include "ctl.h"
#include "ctl_cmds.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: mipsactl [-s SOCKET] [-j] COMMAND [ARGS...]\n"
		"       mipsactl help | -h | -V\n"
		"  -s, --socket SOCKET  the daemon's control socket (default: $MIPSA_CTL)\n"
		"  -j, --json           JSON output\n"
		"  -h, --help           this text\n"
		"  -V, --version        the version\n"
		"COMMAND is the daemon's: 'help' with a socket asks the daemon for its list,\n"
		"without one prints every daemon's (mipsactl(8))\n");
	exit(status);
}

struct mipsactl_cmd {
	const char *name, *args, *help;
};

#define MIPSACTL_ROW(name, args, help, run) {#name, args, help},
static const struct mipsactl_cmd fa_cmds[] = {FA_CTL_CMDS(MIPSACTL_ROW){NULL, NULL, NULL}};
static const struct mipsactl_cmd ha_cmds[] = {HA_CTL_CMDS(MIPSACTL_ROW){NULL, NULL, NULL}};
static const struct mipsactl_cmd mn_cmds[] = {MN_CTL_CMDS(MIPSACTL_ROW){NULL, NULL, NULL}};
static const struct mipsactl_cmd dbs_cmds[] = {DBS_CTL_CMDS(MIPSACTL_ROW){NULL, NULL, NULL}};
#undef MIPSACTL_ROW

static void print_cmds(const char *daemon, const struct mipsactl_cmd *cmds)
{
	printf("%s:\n", daemon);
	for (const struct mipsactl_cmd *c = cmds; c->name != NULL; c++) {
		char head[64];

		snprintf(head, sizeof(head), "%s%s%s", c->name, c->args[0] ? " " : "", c->args);
		printf("  %-14s %s\n", head, c->help);
	}
	printf("  %-14s %s\n", "help", "this daemon's commands");
}

/* "mipsactl help" with no socket: every daemon's commands, from the tables they run. */
static int help_offline(void)
{
	print_cmds("mipsa-fa", fa_cmds);
	print_cmds("mipsa-ha", ha_cmds);
	print_cmds("mipsa-mn", mn_cmds);
	print_cmds("mipsa-dbs", dbs_cmds);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"socket", required_argument, NULL, 's'},
					     {"json", no_argument, NULL, 'j'},
					     {"help", no_argument, NULL, 'h'},
					     {"version", no_argument, NULL, 'V'},
					     {NULL, 0, NULL, 0}};
	const char *sock = getenv("MIPSA_CTL");
	bool json = false;
	char *body = NULL;
	int ch, r;

	while ((ch = getopt_long(argc, argv, "+s:jhV", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(0);
			break;
		case 'V':
			printf("mipsactl %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(1);
		}
	}
	if (optind >= argc)
		usage(1);
	if (sock == NULL && optind + 1 == argc && strcmp(argv[optind], CTL_HELP) == 0)
		return help_offline();
	if (sock == NULL) {
		fprintf(stderr, "mipsactl: no socket: -s SOCKET or MIPSA_CTL\n");
		return 1;
	}
	r = ctl_request(sock, json, argc - optind, argv + optind, &body);
	if (r < 0) {
		fprintf(stderr, "mipsactl: cannot talk to %s\n", sock);
		return 2;
	}
	if (r > 0) {
		fprintf(stderr, "mipsactl: %s\n", body);
		free(body);
		return 1;
	}
	fputs(body, stdout);
	free(body);
	return 0;
}
