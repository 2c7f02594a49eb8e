/* affinity.h - a sandbox's set-up kept on one CPU. */
#ifndef SBX_AFFINITY_H
#define SBX_AFFINITY_H

/* Keeps the calling process (and what it clones) on the CPU it runs on,
 * and remembers the CPUs it was allowed. Nothing happens when the set
 * cannot be read. */
void affinity_pin(void);
/* Gives the calling process back the CPUs it was allowed before
 * affinity_pin; a system call only, for any process of the set-up. */
void affinity_restore(void);

#endif
