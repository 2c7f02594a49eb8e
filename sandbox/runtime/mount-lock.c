/* mount-lock.c - the mounts sbx made, locked against the payload.
 *
 * sbx mounts the sandbox in a mount namespace owned by the sandbox's user
 * namespace. A payload given CAP_SYS_ADMIN there (--cap-add SYS_ADMIN, with
 * a seccomp policy that lets mount through) could remount a :ro volume
 * read-write or unmount a mask. The kernel locks the mounts it copies into a
 * mount namespace owned by a less privileged user namespace (MNT_LOCKED,
 * MNT_LOCK_READONLY, ...; see mount_namespaces(7)); bubblewrap relies on
 * that too. So a short-lived child is cloned into a new user namespace and a
 * new mount namespace at once, whose mounts are such a locked copy; the
 * caller joins that mount namespace only, and the child is killed. The
 * caller's user namespace, its capabilities and its other namespaces stay
 * as they were: the payload keeps its capabilities over the sandbox's
 * network (NET_BIND_SERVICE, NET_RAW, ...). The nested user namespace needs
 * no id map: nothing runs in it once the child is gone. */
#define _GNU_SOURCE
#include "runtime/mount-lock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* The child's pid in the sandbox, out of the way: pids are then handed out
 * from where they were, so the payload stays pid 2. Below the smallest
 * pid_max the kernel allows (301). */
#define HOLDER_PID 300

/* The child shares our memory (CLONE_VM: a fork of sbx copying its page
 * tables and tearing them down again measured 1 ms, this 0.1 ms), so it must
 * not run C code: clone3 is issued here and the child only waits in the
 * kernel until it is killed, on a stack of its own for any signal frame. */
static char holder_stack[16384] SBX_UNPOPULATED __attribute__((aligned(16)));

/* The killed holder, until mount_lock_reap. */
static int holder_pidfd = -1;
/* The namespace left behind, until mount_lock_take_old. */
static int old_ns = -1;

#if defined(__x86_64__)
/* Returns the child's pid, or -errno. */
static long clone3_holder(struct clone_args *a)
{
	long ret;
	__asm__ volatile("syscall\n\t"
	                 "test %%rax, %%rax\n\t"
	                 "jnz 1f\n"
	                 "2:\n\t"
	                 "mov %[pause], %%eax\n\t"
	                 "syscall\n\t"
	                 "jmp 2b\n"
	                 "1:"
	                 : "=a"(ret)
	                 : "0"((long)SYS_clone3), "D"(a), "S"(sizeof(*a)), [pause] "i"(SYS_pause)
	                 : "rcx", "r11", "memory");
	return ret;
}
#elif defined(__aarch64__)
static long clone3_holder(struct clone_args *a)
{
	register long x8 __asm__("x8") = SYS_clone3;
	register long x0 __asm__("x0") = (long)a;
	register long x1 __asm__("x1") = (long)sizeof(*a);
	__asm__ volatile("svc #0\n\t"
	                 "cbnz x0, 1f\n"
	                 "2:\n\t"
	                 "mov x8, %[ppoll]\n\t"
	                 "mov x0, #0\n\t"
	                 "mov x1, #0\n\t"
	                 "mov x2, #0\n\t"
	                 "mov x3, #0\n\t"
	                 "svc #0\n\t"
	                 "b 2b\n"
	                 "1:"
	                 : "+r"(x0)
	                 : "r"(x8), "r"(x1), [ppoll] "i"(SYS_ppoll)
	                 : "x2", "x3", "memory");
	return x0;
}
#endif

static int hold(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return 0;
}

static long clone_holder(int *pidfd)
{
	const int flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_VM | CLONE_PIDFD;
#if defined(__x86_64__) || defined(__aarch64__)
	pid_t tid = HOLDER_PID;
	struct clone_args a = {
	    .flags = flags,
	    .pidfd = (unsigned long long)(uintptr_t)pidfd,
	    .exit_signal = SIGCHLD,
	    .stack = (unsigned long long)(uintptr_t)holder_stack,
	    .stack_size = sizeof(holder_stack),
	    .set_tid = (unsigned long long)(uintptr_t)&tid,
	    .set_tid_size = 1,
	};
	long pid = clone3_holder(&a);
	/* The pid taken (EEXIST) or not settable: any pid will do. */
	if (pid == -EEXIST || pid == -EINVAL || pid == -EPERM) {
		a.set_tid = 0;
		a.set_tid_size = 0;
		pid = clone3_holder(&a);
	}
	if (pid >= 0)
		return pid;
	errno = (int)-pid;
	if (errno != ENOSYS)
		return -1;
#endif
	return clone(hold, holder_stack + sizeof(holder_stack), flags | SIGCHLD, NULL, pidfd);
}

int mount_lock(struct sbx_error **err)
{
	int pidfd = -1;
	long pid = clone_holder(&pidfd);
	if (pid < 0 && errno == ENOSPC)
		return sbx_error_setc(
		    err, errno,
		    "cannot lock the sandbox's mounts: cannot create a nested user "
		    "namespace: %s; hint: each sandbox needs two user namespaces, "
		    "and the limit (user.max_user_namespaces) is reached",
		    strerror(errno));
	if (pid < 0)
		return sbx_error_set(
		    err, errno,
		    "cannot lock the sandbox's mounts: cannot create a nested user "
		    "namespace");
	/* Leaving the namespace would tear it down in setns (an unmount of
	 * every mount of the sandbox, and an RCU grace period): held open, it
	 * goes later, off the way to the payload (mount_lock_take_old). */
	old_ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	/* Its namespaces were made by clone: the child need not have run. */
	int r = setns(pidfd, CLONE_NEWNS);
	int e = errno;
	syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	/* Reaped by mount_lock_reap, once it had the time to die: waiting
	 * here would wait for it to be scheduled. */
	holder_pidfd = pidfd;
	if (r < 0) {
		mount_lock_reap();
		return sbx_error_set(err, e, "cannot lock the sandbox's mounts");
	}
	sbx_trace("child: mounts locked");
	return 0;
}

int mount_lock_take_old(void)
{
	int fd = old_ns;
	old_ns = -1;
	return fd;
}

void mount_lock_reap(void)
{
	if (holder_pidfd < 0)
		return;
	siginfo_t si;
	while (waitid(P_PIDFD, (id_t)holder_pidfd, &si, WEXITED) < 0 && errno == EINTR)
		;
	close(holder_pidfd);
	holder_pidfd = -1;
}
