/* cpu.c - where the set-up runs. */
#define _GNU_SOURCE
#include "runtime/cpu.h"

#include <sched.h>
#include <stdbool.h>

static cpu_set_t home_cpus;
static bool spread;

void cpu_spread_prepare(void)
{
	spread =
	    sched_getaffinity(0, sizeof(home_cpus), &home_cpus) == 0 && CPU_COUNT(&home_cpus) >= 2;
}

void cpu_spread_child(pid_t pid)
{
	int me = sched_getcpu();
	if (!spread || me < 0 || me >= CPU_SETSIZE)
		return;
	cpu_set_t others = home_cpus;
	CPU_CLR(me, &others);
	if (CPU_COUNT(&others) > 0)
		sched_setaffinity(pid, sizeof(others), &others);
}

void cpu_unspread(void)
{
	if (spread)
		sched_setaffinity(0, sizeof(home_cpus), &home_cpus);
}
