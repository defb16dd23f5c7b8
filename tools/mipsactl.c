/*
 * mipsactl: talk to a mipsa daemon's control socket.
 *   mipsactl [-s SOCKET] [--json] COMMAND [ARGS...]
 * The commands are the daemon's: "mipsactl help" asks it for its list
 * (each daemon's *_ctl.c keeps one table; doc/control.md has them all).
 */
#include "ctl.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: mipsactl [-s SOCKET] [--json] COMMAND [ARGS...]\n"
		"  -s, --socket SOCKET  the daemon's control socket\n"
		"  -j, --json           JSON output\n"
		"COMMAND is the daemon's: 'help' lists them (doc/control.md)\n");
	exit(status);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"socket", required_argument, NULL, 's'},
					     {"json", no_argument, NULL, 'j'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *sock = getenv("MIPSA_CTL");
	bool json = false;
	char *body = NULL;
	int ch, r;

	while ((ch = getopt_long(argc, argv, "+s:jh", opts, NULL)) != -1) {
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
		default:
			usage(1);
		}
	}
	if (optind >= argc || sock == NULL)
		usage(1);
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
