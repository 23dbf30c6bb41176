/* conntrack-backport test plan: the UDP server behind the router. Answers every datagram with
 * the datagram itself followed by " S<id>", so the client can tell which backend answered.
 * Bounded: exits after MAX_SECONDS even if nobody stops it.
 *   ctb_srv ID PORT MAX_SECONDS */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in me = { .sin_family = AF_INET };
	char buf[512];
	int fd, id, one = 1;

	if (argc != 4) {
		fprintf(stderr, "usage: %s ID PORT MAX_SECONDS\n", argv[0]);
		return 2;
	}
	id = atoi(argv[1]);
	me.sin_port = htons(atoi(argv[2]));
	alarm(atoi(argv[3]));
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
		perror("ctb_srv: socket/bind");
		return 1;
	}
	for (;;) {
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf) - 16, 0, (struct sockaddr *)&from, &flen);

		if (n < 0)
			continue;
		n += snprintf(buf + n, 16, " S%d", id);
		sendto(fd, buf, n, 0, (struct sockaddr *)&from, flen);
	}
}
