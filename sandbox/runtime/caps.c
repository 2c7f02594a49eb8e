/* caps.c - capability names, the default set, and applying OCI capability sets. */
#define _GNU_SOURCE
#include "runtime/caps.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#define N(x) [CAP_##x] = "CAP_" #x
static const char *const cap_names[CAP_LAST_CAP + 1] = {
    N(CHOWN),
    N(DAC_OVERRIDE),
    N(DAC_READ_SEARCH),
    N(FOWNER),
    N(FSETID),
    N(KILL),
    N(SETGID),
    N(SETUID),
    N(SETPCAP),
    N(LINUX_IMMUTABLE),
    N(NET_BIND_SERVICE),
    N(NET_BROADCAST),
    N(NET_ADMIN),
    N(NET_RAW),
    N(IPC_LOCK),
    N(IPC_OWNER),
    N(SYS_MODULE),
    N(SYS_RAWIO),
    N(SYS_CHROOT),
    N(SYS_PTRACE),
    N(SYS_PACCT),
    N(SYS_ADMIN),
    N(SYS_BOOT),
    N(SYS_NICE),
    N(SYS_RESOURCE),
    N(SYS_TIME),
    N(SYS_TTY_CONFIG),
    N(MKNOD),
    N(LEASE),
    N(AUDIT_WRITE),
    N(AUDIT_CONTROL),
    N(SETFCAP),
    N(MAC_OVERRIDE),
    N(MAC_ADMIN),
    N(SYSLOG),
    N(WAKE_ALARM),
    N(BLOCK_SUSPEND),
    N(AUDIT_READ),
    N(PERFMON),
    N(BPF),
    N(CHECKPOINT_RESTORE),
};
#undef N

/* A newer kernel header adds capabilities: extend the table, or the holes
 * would be nameless. */
_Static_assert(CAP_LAST_CAP == CAP_CHECKPOINT_RESTORE, "update cap_names for the new CAP_LAST_CAP");
_Static_assert(CAP_LAST_CAP < 64, "capability masks are 64 bits");

#define BIT(c) (UINT64_C(1) << (c))

int caps_from_name(const char *name, int *cap)
{
	if (name == NULL)
		return -1;
	const char *s = strncasecmp(name, "CAP_", 4) == 0 ? name + 4 : name;
	if (*s == '\0')
		return -1;
	for (int i = 0; i <= CAP_LAST_CAP; i++) {
		if (strcasecmp(s, cap_names[i] + 4) == 0) {
			*cap = i;
			return 0;
		}
	}
	return -1;
}

const char *caps_name(int cap)
{
	if (cap < 0 || cap > CAP_LAST_CAP)
		return NULL;
	return cap_names[cap];
}

const char *caps_canonical(const char *name)
{
	int c;
	return caps_from_name(name, &c) == 0 ? cap_names[c] : NULL;
}

const char *const *caps_all_names(size_t *n)
{
	if (n)
		*n = ARRAY_SIZE(cap_names);
	return cap_names;
}

uint64_t caps_default_mask(void)
{
	return BIT(CAP_CHOWN) | BIT(CAP_DAC_OVERRIDE) | BIT(CAP_FSETID) | BIT(CAP_FOWNER) |
	       BIT(CAP_MKNOD) | BIT(CAP_NET_RAW) | BIT(CAP_SETGID) | BIT(CAP_SETUID) |
	       BIT(CAP_SETFCAP) | BIT(CAP_SETPCAP) | BIT(CAP_NET_BIND_SERVICE) |
	       BIT(CAP_SYS_CHROOT) | BIT(CAP_KILL) | BIT(CAP_AUDIT_WRITE);
}

static uint64_t all_known_mask(void)
{
	return CAP_LAST_CAP == 63 ? UINT64_MAX : BIT(CAP_LAST_CAP + 1) - 1;
}

/* "unknown capability "X"" plus a suggestion when one is close. */
static int unknown_cap(struct sbx_error **err, const char *where, const char *name)
{
	const char *best = str_closest(name, cap_names, ARRAY_SIZE(cap_names));
	if (best == NULL && strncasecmp(name, "CAP_", 4) != 0) {
		_cleanup_free_ char *full = xasprintf("CAP_%s", name);
		best = str_closest(full, cap_names, ARRAY_SIZE(cap_names));
	}
	if (best)
		return sbx_error_set(err, 0, "%sunknown capability \"%s\"; did you mean \"%s\"?",
		                     where, name, best);
	return sbx_error_set(err, 0, "%sunknown capability \"%s\"", where, name);
}

int caps_resolve(bool from_none, char *const *cap_drop, char *const *cap_add, uint64_t *mask,
                 struct sbx_error **err)
{
	uint64_t m = from_none ? 0 : caps_default_mask();
	int c;

	/* "ALL" anywhere in cap_drop clears the base before the other drops. */
	for (size_t i = 0; cap_drop && cap_drop[i]; i++)
		if (strcasecmp(cap_drop[i], "ALL") == 0)
			m = 0;
	for (size_t i = 0; cap_drop && cap_drop[i]; i++) {
		const char *name = cap_drop[i];
		if (strcasecmp(name, "ALL") == 0)
			continue;
		if (caps_from_name(name, &c) < 0)
			return unknown_cap(err, "cap_drop: ", name);
		m &= ~BIT(c);
	}
	for (size_t i = 0; cap_add && cap_add[i]; i++) {
		const char *name = cap_add[i];
		if (strcasecmp(name, "ALL") == 0) {
			m |= all_known_mask();
			continue;
		}
		if (caps_from_name(name, &c) < 0)
			return unknown_cap(err, "cap_add: ", name);
		m |= BIT(c);
	}
	*mask = m;
	return 0;
}

json_t *caps_mask_to_json(uint64_t mask)
{
	json_t *a = json_array();
	if (a == NULL)
		abort();
	for (int i = 0; i <= CAP_LAST_CAP; i++)
		if (mask & BIT(i))
			json_array_append_new(a, json_string_nocheck(cap_names[i]));
	return a;
}

static const char *const oci_sets[] = {"bounding", "effective", "inheritable", "permitted",
                                       "ambient"};

static int oci_set(json_t *arr, const char *key, uint64_t *out, struct sbx_error **err)
{
	if (!json_is_array(arr))
		return sbx_error_set(err, 0, "process.capabilities.%s: expected an array", key);
	uint64_t m = 0;
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		if (!json_is_string(v))
			return sbx_error_set(
			    err, 0, "process.capabilities.%s[%zu]: expected a string", key, i);
		const char *name = json_string_value(v);
		int c;
		/* OCI names are canonical: "CAP_CHOWN", not "chown". */
		if (caps_from_name(name, &c) < 0 || strcmp(name, cap_names[c]) != 0) {
			_cleanup_free_ char *where =
			    xasprintf("process.capabilities.%s[%zu]: ", key, i);
			return unknown_cap(err, where, name);
		}
		m |= BIT(c);
	}
	*out = m;
	return 0;
}

int caps_from_oci(json_t *obj, struct sbx_capsets *out, struct sbx_error **err)
{
	struct sbx_capsets c = {0};
	if (obj == NULL) {
		*out = c;
		return 0;
	}
	if (!json_is_object(obj))
		return sbx_error_set(err, 0, "process.capabilities: expected an object");
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v)
	{
		uint64_t *dst = NULL;
		if (strcmp(key, "bounding") == 0)
			dst = &c.bounding;
		else if (strcmp(key, "effective") == 0)
			dst = &c.effective;
		else if (strcmp(key, "inheritable") == 0)
			dst = &c.inheritable;
		else if (strcmp(key, "permitted") == 0)
			dst = &c.permitted;
		else if (strcmp(key, "ambient") == 0)
			dst = &c.ambient;
		if (dst == NULL) {
			const char *best = str_closest(key, oci_sets, ARRAY_SIZE(oci_sets));
			if (best)
				return sbx_error_set(
				    err, 0,
				    "process.capabilities: unknown key \"%s\"; did "
				    "you mean \"%s\"?",
				    key, best);
			return sbx_error_set(err, 0, "process.capabilities: unknown key \"%s\"",
			                     key);
		}
		if (oci_set(v, key, dst, err) < 0)
			return -1;
	}
	*out = c;
	return 0;
}

/* Highest capability the running kernel knows; it may be newer than our
 * headers, and those extra capabilities must go from the bounding set too.
 * Probed once per process with PR_CAPBSET_READ, which fails with EINVAL
 * past it: from our headers' last, up or down, two calls where
 * /proc/sys/kernel/cap_last_cap takes three and a path walk. */
static int kernel_last_cap(void)
{
	static int last = -1;
	if (last >= 0)
		return last;
	int i = CAP_LAST_CAP;
	while (i < 63 && prctl(PR_CAPBSET_READ, (unsigned long)i + 1, 0, 0, 0) >= 0)
		i++;
	while (i > 0 && prctl(PR_CAPBSET_READ, (unsigned long)i, 0, 0, 0) < 0)
		i--;
	return last = i;
}

static uint64_t known_mask(int last)
{
	return last >= 63 ? UINT64_MAX : BIT(last + 1) - 1;
}

/* "CAP_A, CAP_B" for error messages. */
static char *mask_names(uint64_t m)
{
	char *out = xstrdup("");
	for (int i = 0; i < 64; i++) {
		if (!(m & BIT(i)))
			continue;
		const char *name = caps_name(i);
		char *n = name ? xasprintf("%s%s%s", out, *out ? ", " : "", name)
		               : xasprintf("%s%scapability %d", out, *out ? ", " : "", i);
		free(out);
		out = n;
	}
	return out;
}

static int verify_set(const char *set, uint64_t got, uint64_t want, struct sbx_error **err)
{
	if (got == want)
		return 0;
	_cleanup_free_ char *extra = mask_names(got & ~want);
	_cleanup_free_ char *missing = mask_names(want & ~got);
	return sbx_error_set(err, EPERM,
	                     "%s capabilities are not as requested after setting them (extra: "
	                     "%s; missing: %s)",
	                     set, *extra ? extra : "none", *missing ? missing : "none");
}

/* Every capability outside the set is dropped; one the kernel dropped is
 * gone, so only those meant to stay are checked: in HELD, the set before
 * the drops when the caller read it (a drop takes no other capability
 * away), else read back with a prctl each. */
static int drop_bounding(const struct sbx_capsets *c, const uint64_t *held, struct sbx_error **err)
{
	int last = kernel_last_cap();
	uint64_t kept = 0;
	for (int i = 0; i <= last; i++) {
		if (i < 64 && (c->bounding & BIT(i))) {
			if (held) {
				kept |= *held & BIT(i);
				continue;
			}
			int r = prctl(PR_CAPBSET_READ, (unsigned long)i, 0, 0, 0);
			if (r < 0)
				return sbx_error_set(err, errno, "cannot read the bounding set");
			if (r > 0)
				kept |= BIT(i);
			continue;
		}
		if (prctl(PR_CAPBSET_DROP, (unsigned long)i, 0, 0, 0) < 0) {
			/* Not a capability of this kernel after all. */
			if (errno == EINVAL && i > CAP_LAST_CAP)
				break;
			const char *name = caps_name(i);
			if (name)
				return sbx_error_set(err, errno,
				                     "cannot drop %s from the bounding set", name);
			return sbx_error_set(err, errno,
			                     "cannot drop capability %d from the bounding set", i);
		}
	}
	return verify_set("bounding", kept, c->bounding & known_mask(last), err);
}

int caps_drop_bounding(const struct sbx_capsets *c, struct sbx_error **err)
{
	return drop_bounding(c, NULL, err);
}

int caps_drop_bounding_held(const struct sbx_capsets *c, uint64_t held, struct sbx_error **err)
{
	return drop_bounding(c, &held, err);
}

/* Reads the three sets with capget, as the kernel sees them. */
static int read_proc_caps(uint64_t *eff, uint64_t *prm, uint64_t *inh)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) < 0)
		return -1;
	*eff = d[0].effective | (uint64_t)d[1].effective << 32;
	*prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	*inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	return 0;
}

int caps_apply(const struct sbx_capsets *c, struct sbx_error **err)
{
	int last = kernel_last_cap();
	/* Capabilities this kernel does not know cannot be held: ignore them, as
	 * runc does, rather than fail on an older kernel. */
	uint64_t known = known_mask(last);
	uint64_t bnd = c->bounding & known, eff = c->effective & known;
	uint64_t prm = c->permitted & known, inh = c->inheritable & known;
	uint64_t amb = c->ambient & known;

	if (eff & ~prm) {
		_cleanup_free_ char *n = mask_names(eff & ~prm);
		return sbx_error_set(err, 0, "effective capabilities must also be permitted: %s",
		                     n);
	}
	if (amb & ~(prm & inh)) {
		_cleanup_free_ char *n = mask_names(amb & ~(prm & inh));
		return sbx_error_set(err, 0,
		                     "ambient capabilities must also be permitted and "
		                     "inheritable: %s",
		                     n);
	}

	/* The kernel only lets inheritable grow within the bounding set. */
	if (inh & ~bnd) {
		_cleanup_free_ char *n = mask_names(inh & ~bnd);
		return sbx_error_set(
		    err, 0, "inheritable capabilities must also be in the bounding set: %s", n);
	}

	/* capset itself: libcap would add a capget and its allocations. */
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {
	    {(uint32_t)eff, (uint32_t)prm, (uint32_t)inh},
	    {(uint32_t)(eff >> 32), (uint32_t)(prm >> 32), (uint32_t)(inh >> 32)}};
	if (syscall(SYS_capset, &h, d) < 0) {
		int e = errno;
		uint64_t ge = 0, gp = 0, gi = 0;
		if (read_proc_caps(&ge, &gp, &gi) == 0 && (prm & ~gp)) {
			_cleanup_free_ char *n = mask_names(prm & ~gp);
			return sbx_error_set(err, e,
			                     "cannot set capabilities: not held, so not grantable: "
			                     "%s",
			                     n);
		}
		return sbx_error_set(err, e, "cannot set capabilities");
	}

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    !(errno == EINVAL && amb == 0))
		return sbx_error_set(err, errno, "cannot clear the ambient capabilities");
	for (int i = 0; i <= last && i < 64; i++) {
		if (!(amb & BIT(i)))
			continue;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long)i, 0, 0) < 0)
			return sbx_error_set(err, errno, "cannot raise ambient capability %s",
			                     caps_name(i) ? caps_name(i) : "?");
	}

	/* Check what the kernel actually did (CVE-2020-5291: trust, but verify).
	 * An ambient capability is always permitted and inheritable (the kernel
	 * keeps that invariant), so only those are read back; the bounding set
	 * was checked by caps_drop_bounding and cannot grow. */
	uint64_t ge, gp, gi, ga = 0;
	if (read_proc_caps(&ge, &gp, &gi) < 0)
		return sbx_error_set(err, errno, "capget");
	for (int i = 0; i <= last && i < 64; i++) {
		if (!(gp & gi & BIT(i)))
			continue;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, (unsigned long)i, 0, 0) > 0)
			ga |= BIT(i);
	}
	if (verify_set("effective", ge, eff, err) < 0 ||
	    verify_set("permitted", gp, prm, err) < 0 ||
	    verify_set("inheritable", gi, inh, err) < 0 || verify_set("ambient", ga, amb, err) < 0)
		return -1;
	return 0;
}
