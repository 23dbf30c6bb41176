/* conntrack-backport test plan: the UDP server behind the router. Answers every datagram with
 * the datagram itself followed by " S<id> P<port>", so the client can tell which backend answered
 * and from which source port (after the router's NAT) the datagram came.
 * Bound to every address of its namespace: the reply leaves from the address the datagram was
 * sent to (IP_PKTINFO), which matters for the test plan's span of destinations (a local route).
 * Also listens on TCP PORT and accepts (then closes) every connection, so a TCP race's flows
 * are established as a real server's would be (a reset would end their conntrack entries at once).
 * Bounded: exits after MAX_SECONDS even if nobody stops it.
 *   ctb_srv ID PORT MAX_SECONDS */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in me = { .sin_family = AF_INET };
	char buf[512];
	int fd, tfd, id, one = 1;

	if (argc != 4) {
		fprintf(stderr, "usage: %s ID PORT MAX_SECONDS\n", argv[0]);
		return 2;
	}
	id = atoi(argv[1]);
	me.sin_port = htons(atoi(argv[2]));
	alarm(atoi(argv[3]));
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
		perror("ctb_srv: socket/bind");
		return 1;
	}
	tfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (tfd < 0 || setsockopt(tfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(tfd, (struct sockaddr *)&me, sizeof(me)) < 0 || listen(tfd, 4096) < 0) {
		perror("ctb_srv: tcp socket/bind/listen");
		return 1;
	}
	for (;;) {
		struct sockaddr_in from;
		char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 24 };
		struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
		struct in_pktinfo *pi = NULL;
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = tfd, .events = POLLIN } };
		ssize_t n;

		if (poll(p, 2, -1) <= 0)
			continue;
		if (p[1].revents & POLLIN) {
			int c;

			while ((c = accept4(tfd, NULL, NULL, SOCK_NONBLOCK)) >= 0)
				close(c);
		}
		if (!(p[0].revents & POLLIN))
			continue;
		n = recvmsg(fd, &mh, MSG_DONTWAIT);
		if (n < 0)
			continue;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO)
				pi = (struct in_pktinfo *)CMSG_DATA(c);
		n += snprintf(buf + n, 24, " S%d P%d", id, ntohs(from.sin_port));
		iov.iov_len = n;
		mh.msg_flags = 0;
		if (pi) {
			/* Reply from the address asked, whatever interface it lives on. */
			pi->ipi_ifindex = 0;
			pi->ipi_spec_dst = pi->ipi_addr;
			mh.msg_controllen = CMSG_SPACE(sizeof(struct in_pktinfo));
		} else {
			mh.msg_control = NULL;
			mh.msg_controllen = 0;
		}
		sendmsg(fd, &mh, 0);
	}
}
