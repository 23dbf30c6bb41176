/* Two threads of one connected UDP socket send one datagram each at the same moment, as
 * glibc/musl resolvers send A and AAAA queries. One socket per round, so every round is a
 * new flow for conntrack. Written for conntrack-backport's kernel validation run. */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static pthread_barrier_t start;
static int fd;

static void *sender(void *arg)
{
	const char *payload = arg;

	pthread_barrier_wait(&start);
	if (send(fd, payload, strlen(payload), 0) < 0)
		perror("send");
	return NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_in dst = { .sin_family = AF_INET };
	int rounds, i;

	if (argc != 4) {
		fprintf(stderr, "usage: %s ADDR PORT ROUNDS\n", argv[0]);
		return 2;
	}
	inet_pton(AF_INET, argv[1], &dst.sin_addr);
	dst.sin_port = htons(atoi(argv[2]));
	rounds = atoi(argv[3]);
	for (i = 0; i < rounds; i++) {
		pthread_t a, b;

		fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0) {
			perror("socket/connect");
			return 1;
		}
		pthread_barrier_init(&start, NULL, 2);
		pthread_create(&a, NULL, sender, "query A");
		pthread_create(&b, NULL, sender, "query AAAA");
		pthread_join(a, NULL);
		pthread_join(b, NULL);
		pthread_barrier_destroy(&start);
		close(fd);
	}
	return 0;
}
