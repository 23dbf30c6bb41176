/* conntrack-backport test plan: the client side of the races, written for this project.
 *
 *   ctb_race pair   DST PORT TRIALS TIMEOUT_MS MAX_SECONDS
 *       same-flow pair: one UDP socket per trial (a fresh source port), two threads send one
 *       datagram each, released together by a barrier (as resolvers send A and AAAA)
 *   ctb_race serial DST PORT TRIALS TIMEOUT_MS MAX_SECONDS
 *       control: the same two datagrams from one thread, back to back (must never clash)
 *   ctb_race ports  DST PORT TRIALS TIMEOUT_MS MAX_SECONDS SRC1 SRC2
 *       different-flow SNAT port race: two sockets bound to SRC1:P and SRC2:P (P fresh per
 *       trial), one datagram each at the same instant, through MASQUERADE
 *   ctb_race udp2   DST PORT TRIALS TIMEOUT_MS MAX_SECONDS SPAN
 *       different-flow port race, UDP: two sockets of one address (two kernel-chosen source
 *       ports) send one datagram each at the same instant to the trial's destination: DST plus
 *       (trial mod SPAN), so no flow of an earlier trial holds the NAT ports a later one needs
 *   ctb_race tcp2   DST PORT TRIALS TIMEOUT_MS MAX_SECONDS SPAN
 *       the same with two non-blocking TCP connects; a SYN-ACK or a reset is the reply
 *
 * Every reply is awaited for at most TIMEOUT_MS after the sends; the run stops after TRIALS or
 * MAX_SECONDS. Prints one line:
 *   ctb-result mode=M trials=N sent=S replies=R lost=L lost_trials=T two_backends=B
 *       backend1=X backend2=Y errors=E ms=MS split=P
 * split (pair mode): trials whose two replies came from two different (backend, source port as
 * the server saw it): the two datagrams of one socket left as two flows, i.e. the kernel
 * inserted the clash's loser with its own NAT mapping instead of merging it.
 *
 * Figures while it runs: with CTB_EVERY_MS=N (and CTB_CFG naming the configuration), every N ms
 * between two trials it writes to stderr one line, "@@ctb partial CFG ctb-result FIELDS ct=C ck=X":
 * the figures so far, C the router's counters summed over CPUs (hex, in the file's column order)
 * from the file open on descriptor CTB_STAT_FD (the router's /proc/net/stat/nf_conntrack, opened
 * in the router's namespace before this started in the client's; rewound each time), and X the
 * 32-bit FNV-1a hash (hex) of what stands between "ctb-result " and " ck=": a serial console
 * that lost or changed characters fails the check. One short line, since consoles lose more of long output.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { PAIR, SERIAL, PORTS, UDP2, TCP2 };

static int mode;
static pthread_barrier_t go, done;
static int fds[2];
static int trial;
static struct sockaddr_in cur;
static volatile int stop;
static long errors, split;

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void send_one(int fd, int which)
{
	char msg[64];
	int n = snprintf(msg, sizeof(msg), "T%d Q%d", trial, which);

	if (mode == TCP2) {
		/* The SYN leaves now; the reply (SYN-ACK or reset) is awaited with poll. */
		if (connect(fd, (const struct sockaddr *)&cur, sizeof(cur)) < 0 && errno != EINPROGRESS)
			__atomic_add_fetch(&errors, 1, __ATOMIC_RELAXED);
	} else if (send(fd, msg, n, 0) < 0)
		__atomic_add_fetch(&errors, 1, __ATOMIC_RELAXED);
}

static void *second_sender(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_barrier_wait(&go);
		if (stop)
			return NULL;
		send_one(mode == PAIR ? fds[0] : fds[1], 1);
		pthread_barrier_wait(&done);
	}
}

static int open_socket(const struct sockaddr_in *dst, const char *src, int port)
{
	int fd = socket(AF_INET, mode == TCP2 ? SOCK_STREAM | SOCK_NONBLOCK : SOCK_DGRAM, 0);

	if (fd < 0)
		return -1;
	if (mode == TCP2)
		return fd; /* connected when it "sends" */
	if (src) {
		struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(port) };
		int one = 1;

		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		inet_pton(AF_INET, src, &me.sin_addr);
		if (bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
			close(fd);
			return -1;
		}
	}
	if (connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void say(const char *line)
{
	/* One write per line: the console and the pipe never interleave half lines. */
	size_t n = strlen(line);

	if (write(2, line, n) < 0)
		return;
}

static unsigned fnv(unsigned h, const char *s, size_t n)
{
	while (n--)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static void partial(const char *mode, int trials, long sent, long replies, long lost, long lost_trials, long two,
		    const long *by, long ms)
{
	const char *sfd = getenv("CTB_STAT_FD");
	const char *cfg = getenv("CTB_CFG");
	char buf[8192], line[1200], text[1000];
	unsigned long sum[64] = { 0 };
	int fd, len = 0, r, cols = 0, n, i;

	n = snprintf(text, sizeof(text),
		     "mode=%s trials=%d sent=%ld replies=%ld lost=%ld lost_trials=%ld two_backends=%ld backend1=%ld backend2=%ld errors=%ld ms=%ld split=%ld",
		     mode, trials, sent, replies, lost, lost_trials, two, by[1], by[2], errors, ms, split);
	fd = sfd && *sfd ? atoi(sfd) : -1;
	if (fd >= 0 && lseek(fd, 0, SEEK_SET) == 0) {
		while (len < (int)sizeof(buf) - 1 && (r = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
			len += r;
		buf[len] = 0;
		/* Header: the column names; then one row of hex numbers per CPU, summed here. */
		char *row = strchr(buf, '\n');

		for (char *s = buf; s && s < (row ? row : buf + len);) {
			while (*s == ' ' || *s == '\t')
				s++;
			if (!*s || *s == '\n' || cols == 64)
				break;
			cols++;
			while (*s && *s != ' ' && *s != '\t' && *s != '\n')
				s++;
		}
		for (char *s = row; s && *s;) {
			for (i = 0; i < cols; i++) {
				char *e;

				sum[i] += strtoul(s, &e, 16);
				s = e;
			}
			s = strchr(s, '\n');
			if (s)
				s++;
		}
		if (cols && row) {
			n += snprintf(text + n, sizeof(text) - n, " ct=");
			for (i = 0; i < cols && n < (int)sizeof(text) - 20; i++)
				n += snprintf(text + n, sizeof(text) - n, "%s%lx", i ? "," : "", sum[i]);
		}
	}
	snprintf(line, sizeof(line), "@@ctb partial %s ctb-result %s ck=%08x\n", cfg ? cfg : "?", text,
		 fnv(2166136261u, text, strlen(text)));
	say(line);
}

int main(int argc, char **argv)
{
	struct sockaddr_in dst = { .sin_family = AF_INET };
	long sent = 0, replies = 0, lost = 0, lost_trials = 0, two = 0, by[3] = { 0, 0, 0 };
	long t0, deadline, every_ms, next_partial;
	int trials, timeout_ms, nfd, done_trials = 0;
	const char *src[2] = { NULL, NULL };
	unsigned long base, span = 1;
	pthread_t helper;

	if (argc < 7) {
		fprintf(stderr, "usage: %s pair|serial|ports|udp2|tcp2 DST PORT TRIALS TIMEOUT_MS MAX_SECONDS [SRC1 SRC2 | SPAN]\n", argv[0]);
		return 2;
	}
	{
		static const char *const names[] = { "pair", "serial", "ports", "udp2", "tcp2" };

		mode = -1;
		for (int m = 0; m < 5; m++)
			if (!strcmp(argv[1], names[m]))
				mode = m;
	}
	if (mode < 0 || (mode == PORTS && argc < 9) || ((mode == UDP2 || mode == TCP2) && argc < 8)) {
		fprintf(stderr, "ctb_race: unknown mode, or missing SRC1 SRC2 (ports) or SPAN (udp2, tcp2)\n");
		return 2;
	}
	if (mode == PORTS) {
		src[0] = argv[7];
		src[1] = argv[8];
	}
	if (mode == UDP2 || mode == TCP2) {
		span = strtoul(argv[7], NULL, 10);
		if (span < 1 || span > 1048576) {
			fprintf(stderr, "ctb_race: SPAN must be 1..1048576\n");
			return 2;
		}
	}
	if (inet_pton(AF_INET, argv[2], &dst.sin_addr) != 1) {
		fprintf(stderr, "ctb_race: DST is not an IPv4 address\n");
		return 2;
	}
	base = ntohl(dst.sin_addr.s_addr);
	dst.sin_port = htons(atoi(argv[3]));
	trials = atoi(argv[4]);
	timeout_ms = atoi(argv[5]);
	t0 = now_ms();
	deadline = t0 + atol(argv[6]) * 1000L;
	every_ms = getenv("CTB_EVERY_MS") ? atol(getenv("CTB_EVERY_MS")) : 0;
	/* The first one sooner: it is what a user waits for. */
	next_partial = every_ms > 0 ? t0 + (every_ms > 1000 ? 1000 : every_ms) : -1;
	nfd = mode == PAIR || mode == SERIAL ? 1 : 2;
	pthread_barrier_init(&go, NULL, 2);
	pthread_barrier_init(&done, NULL, 2);
	if (mode != SERIAL)
		pthread_create(&helper, NULL, second_sender, NULL);

	for (trial = 0; trial < trials && now_ms() < deadline; trial++) {
		int got = 0, seen = 0, i, answered[2] = { 0, 0 }, differ = 0;
		long first_key = -1;
		long until;
		/* Ports 20000..59999, a different one each trial: a new flow every time. */
		int port = 20000 + trial % 40000;

		cur = dst;
		cur.sin_addr.s_addr = htonl(base + (unsigned long)trial % span);
		for (i = 0; i < nfd; i++) {
			fds[i] = open_socket(&cur, src[i], port);
			if (fds[i] < 0) {
				perror("ctb_race: socket");
				return 1;
			}
		}
		if (mode == SERIAL) {
			send_one(fds[0], 0);
			send_one(fds[0], 1);
		} else {
			pthread_barrier_wait(&go);
			send_one(fds[0], 0);
			pthread_barrier_wait(&done);
		}
		sent += 2;
		until = now_ms() + timeout_ms;
		while (got < 2) {
			short ev = mode == TCP2 ? POLLOUT : POLLIN;
			struct pollfd p[2] = { { .fd = answered[0] ? -1 : fds[0], .events = ev },
					       { .fd = nfd > 1 && !answered[1] ? fds[1] : -1, .events = ev } };
			long left = until - now_ms();
			char buf[128];

			if (left <= 0 || poll(p, 2, (int)left) <= 0)
				break;
			for (i = 0; i < nfd; i++) {
				ssize_t n;
				char *s;

				if (mode == TCP2) {
					/* Connected, or refused by a reset: either way the SYN got through and back. */
					if (p[i].revents & (POLLOUT | POLLERR | POLLHUP)) {
						answered[i] = 1;
						got++;
					}
					continue;
				}
				if (!(p[i].revents & POLLIN))
					continue;
				n = recv(fds[i], buf, sizeof(buf) - 1, 0);
				if (n <= 0)
					continue;
				buf[n] = 0;
				if (nfd > 1)
					answered[i] = 1;
				s = strstr(buf, " S");
				if (s && atoi(s + 2) >= 1 && atoi(s + 2) <= 2) {
					char *pp = strstr(s, " P");
					long key = atoi(s + 2) * 65536L + (pp ? atoi(pp + 2) : 0);

					by[atoi(s + 2)]++;
					seen |= 1 << atoi(s + 2);
					if (first_key < 0)
						first_key = key;
					else if (key != first_key)
						differ = 1;
				}
				got++;
			}
		}
		replies += got;
		if (got < 2) {
			lost += 2 - got;
			lost_trials++;
		}
		if (seen == 6)
			two++;
		if (mode == PAIR && got == 2 && differ)
			split++;
		for (i = 0; i < nfd; i++)
			close(fds[i]);
		done_trials++;
		if (next_partial >= 0 && now_ms() >= next_partial && trial + 1 < trials) {
			partial(argv[1], done_trials, sent, replies, lost, lost_trials, two, by, now_ms() - t0);
			next_partial = now_ms() + every_ms;
		}
	}
	if (mode != SERIAL) {
		stop = 1;
		pthread_barrier_wait(&go);
		pthread_join(helper, NULL);
	}
	printf("ctb-result mode=%s trials=%d sent=%ld replies=%ld lost=%ld lost_trials=%ld two_backends=%ld backend1=%ld backend2=%ld errors=%ld ms=%ld split=%ld\n",
	       argv[1], done_trials, sent, replies, lost, lost_trials, two, by[1], by[2], errors, now_ms() - t0, split);
	return 0;
}
