/* Racing packets for conntrack-backport's kernel validation (bench/kernel/race.sh).
 *   race serve ADDR PORT ID        answer every UDP datagram on ADDR:PORT with "ID"
 *   race same ADDR PORT ROUNDS     one connected UDP socket, two threads send one datagram each
 *   race serial ADDR PORT ROUNDS   one socket, one thread sends both datagrams back to back
 *   race udp2 ADDR PORT ROUNDS     two sockets (two threads), one datagram each, new dport per round
 *   race tcp2 ADDR PORT ROUNDS     two non-blocking TCP connects at once, new dport per round
 * same/serial wait up to 60 ms for the answers and print, per run: rounds, answers missing,
 * rounds answered by two different servers. Written for this project. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static pthread_barrier_t start;
static struct sockaddr_in dst;
static int fds[2];
static int tcp;

static void *sender(void *arg)
{
	long i = (long)arg;

	pthread_barrier_wait(&start);
	if (tcp) {
		if (connect(fds[i], (struct sockaddr *)&dst, sizeof(dst)) < 0 && errno != EINPROGRESS)
			perror("connect");
	} else if (send(fds[i], i ? "query AAAA" : "query A", i ? 10 : 7, 0) < 0) {
		perror("send");
	}
	return NULL;
}

static int serve(const char *addr, int port, const char *id)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct sockaddr_in peer;
	socklen_t pl;
	char buf[512];
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	inet_pton(AF_INET, addr, &a.sin_addr);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("bind");
		return 1;
	}
	for (;;) {
		pl = sizeof(peer);
		if (recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &pl) >= 0)
			sendto(fd, id, strlen(id), 0, (struct sockaddr *)&peer, pl);
	}
}

/* Collect up to two answers within 60 ms; returns how many came and sets *two if ids differ. */
static int answers(int fd, int *two)
{
	char ids[2][16] = { "", "" };
	int got = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (got < 2 && poll(&p, 1, 60) > 0) {
		ssize_t n = recv(fd, ids[got], sizeof(ids[got]) - 1, 0);

		if (n <= 0)
			break;
		ids[got][n] = 0;
		got++;
	}
	*two = got == 2 && strcmp(ids[0], ids[1]) != 0;
	return got;
}

int main(int argc, char **argv)
{
	int rounds, i, missing = 0, twos = 0, base;
	const char *mode;

	if (argc != 5) {
		fprintf(stderr, "usage: %s serve|same|serial|udp2|tcp2 ADDR PORT ROUNDS|ID\n", argv[0]);
		return 2;
	}
	mode = argv[1];
	if (!strcmp(mode, "serve"))
		return serve(argv[2], atoi(argv[3]), argv[4]);
	dst.sin_family = AF_INET;
	inet_pton(AF_INET, argv[2], &dst.sin_addr);
	base = atoi(argv[3]);
	rounds = atoi(argv[4]);
	tcp = !strcmp(mode, "tcp2");
	for (i = 0; i < rounds; i++) {
		int two_sockets = !strcmp(mode, "udp2") || tcp;
		pthread_t a, b;
		int k, two = 0;

		/* Flows of two sockets get a fresh destination port each round, so every round starts
		 * from an empty NAT port space (earlier rounds' entries live on for 30 s). */
		dst.sin_port = htons(two_sockets ? base + i % 20000 : base);
		for (k = 0; k < (two_sockets ? 2 : 1); k++) {
			fds[k] = socket(AF_INET, tcp ? SOCK_STREAM | SOCK_NONBLOCK : SOCK_DGRAM, 0);
			if (fds[k] < 0 || (!tcp && connect(fds[k], (struct sockaddr *)&dst, sizeof(dst)) < 0)) {
				perror("socket/connect");
				return 1;
			}
		}
		if (!two_sockets)
			fds[1] = fds[0];
		if (!strcmp(mode, "serial")) {
			send(fds[0], "query A", 7, 0);
			send(fds[0], "query AAAA", 10, 0);
		} else {
			pthread_barrier_init(&start, NULL, 2);
			pthread_create(&a, NULL, sender, (void *)0L);
			pthread_create(&b, NULL, sender, (void *)1L);
			pthread_join(a, NULL);
			pthread_join(b, NULL);
			pthread_barrier_destroy(&start);
		}
		if (!two_sockets) {
			missing += 2 - answers(fds[0], &two);
			twos += two;
		}
		close(fds[0]);
		if (two_sockets)
			close(fds[1]);
	}
	printf("rounds=%d missing=%d two_backends=%d\n", rounds, missing, twos);
	return 0;
}
