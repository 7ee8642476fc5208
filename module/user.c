// SPDX-License-Identifier: GPL-2.0
/*
 * Per-user charges.  Everything user space can make the module hold (area
 * and snapshot pages, page tree nodes, calls with their arguments,
 * updates) is charged to the user of the main context that holds it,
 * against the max_user_bytes limit: a charge over it fails with EDQUOT (a
 * page fault over it raises SIGBUS).  The memory cgroup of the task that
 * allocates is charged as well (__GFP_ACCOUNT); this limit also bounds
 * what one user can pin across cgroups.  A context made by a process with
 * CAP_SYS_RESOURCE is counted but not limited.
 *
 * struct orbit_user: one per user with a live charge holder.  References:
 * each struct orbit_acct copy (a context, a page pool).  Freed with its
 * last reference; its byte count is zero by then.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/hashtable.h>
#include <linux/slab.h>

#include "orbit_internal.h"

struct orbit_user {
	struct hlist_node node;	/* in users, under users_lock */
	refcount_t ref;
	kuid_t uid;
	atomic_long_t bytes;	/* charged */
};

static DEFINE_HASHTABLE(users, 6);
static DEFINE_SPINLOCK(users_lock);	/* protects users and refs to zero */

static struct orbit_user *user_find(kuid_t uid)
{
	struct orbit_user *u;

	lockdep_assert_held(&users_lock);
	hash_for_each_possible(users, u, node, __kuid_val(uid))
		if (uid_eq(u->uid, uid) && refcount_inc_not_zero(&u->ref))
			return u;
	return NULL;
}

static struct orbit_user *user_get(kuid_t uid)
{
	struct orbit_user *u, *fresh;

	spin_lock(&users_lock);
	u = user_find(uid);
	spin_unlock(&users_lock);
	if (u)
		return u;
	fresh = kzalloc(sizeof(*fresh), GFP_KERNEL_ACCOUNT);
	if (!fresh)
		return NULL;
	refcount_set(&fresh->ref, 1);
	fresh->uid = uid;
	atomic_long_set(&fresh->bytes, 0);
	spin_lock(&users_lock);
	u = user_find(uid);
	if (!u) {
		hash_add(users, &fresh->node, __kuid_val(uid));
		u = fresh;
		fresh = NULL;
	}
	spin_unlock(&users_lock);
	kfree(fresh);
	return u;
}

static void user_put(struct orbit_user *u)
{
	if (!refcount_dec_and_lock(&u->ref, &users_lock))
		return;
	hash_del(&u->node);
	spin_unlock(&users_lock);
	WARN_ON_ONCE(atomic_long_read(&u->bytes));
	kfree(u);
}

/* Charges of the calling task's effective user. */
int orbit_acct_init(struct orbit_acct *acct)
{
	acct->user = user_get(current_euid());
	acct->unlimited = capable(CAP_SYS_RESOURCE);
	return acct->user ? 0 : -ENOMEM;
}

void orbit_acct_copy(struct orbit_acct *to, const struct orbit_acct *from)
{
	refcount_inc(&from->user->ref);
	*to = *from;
}

void orbit_acct_release(struct orbit_acct *acct)
{
	if (acct->user)
		user_put(acct->user);
	acct->user = NULL;
}

/* Charges bytes; EDQUOT if that takes a limited user over the limit. */
int orbit_charge(const struct orbit_acct *acct, size_t bytes)
{
	long now = atomic_long_add_return(bytes, &acct->user->bytes);

	if (!acct->unlimited &&
	    (unsigned long)now > READ_ONCE(orbit_max_user_bytes)) {
		atomic_long_sub(bytes, &acct->user->bytes);
		return -EDQUOT;
	}
	ostat_add(OS_CHARGED, bytes);
	return 0;
}

void orbit_uncharge(const struct orbit_acct *acct, size_t bytes)
{
	atomic_long_sub(bytes, &acct->user->bytes);
	ostat_add(OS_CHARGED, -(long)bytes);
}
