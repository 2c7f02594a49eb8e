/* affinity.c - a sandbox's set-up kept on one CPU.
 *
 * Starting a sandbox hands control back and forth between sbx, its set-up
 * process, sbx-init and the payload's process about ten times, and each of
 * them does little in between. Spread over CPUs, each hand-off wakes another
 * CPU (an interrupt, and in a virtual machine the host's scheduler); on one
 * CPU it is a context switch. So sbx's set-up stays on the CPU sbx started
 * on, and every process gives the caller's CPUs back before it execs: the
 * payload and sbx-init run where the caller may run. */
#define _GNU_SOURCE
#include "runtime/affinity.h"

#include <sched.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <unistd.h>

static cpu_set_t saved;
static bool pinned;

void affinity_pin(void)
{
	int cpu = sched_getcpu();
	if (cpu < 0 || cpu >= CPU_SETSIZE || sched_getaffinity(0, sizeof(saved), &saved) < 0 ||
	    CPU_COUNT(&saved) < 2)
		return;
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	pinned = sched_setaffinity(0, sizeof(one), &one) == 0;
}

void affinity_restore(void)
{
	if (pinned)
		syscall(SYS_sched_setaffinity, 0, sizeof(saved), &saved);
}
