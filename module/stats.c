// SPDX-License-Identifier: GPL-2.0
/*
 * Observability: module-wide counters (live objects, for leak checks, and
 * event totals) and the per-orbit listing behind orbitctl.
 */
#include <linux/cred.h>
#include <linux/pid_namespace.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "orbit_internal.h"

atomic64_t orbit_stats[OS_NR];

static void orbit_stats_fill(struct orbit_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->contexts = atomic64_read(&orbit_stats[OS_CONTEXTS]);
	st->orbits = atomic64_read(&orbit_stats[OS_ORBITS]);
	st->areas = atomic64_read(&orbit_stats[OS_AREAS]);
	st->views = atomic64_read(&orbit_stats[OS_VIEWS]);
	st->pages = atomic64_read(&orbit_stats[OS_PAGES]);
	st->nodes = atomic64_read(&orbit_stats[OS_NODES]);
	st->calls = atomic64_read(&orbit_stats[OS_CALLS]);
	st->updates = atomic64_read(&orbit_stats[OS_UPDATES]);
	st->calls_total = atomic64_read(&orbit_stats[OS_CALLS_TOTAL]);
	st->calls_failed = atomic64_read(&orbit_stats[OS_CALLS_FAILED]);
	st->cow_faults = atomic64_read(&orbit_stats[OS_COW_FAULTS]);
	st->copy_pages = atomic64_read(&orbit_stats[OS_COPY_PAGES]);
	st->snapshots = atomic64_read(&orbit_stats[OS_SNAPSHOTS]);
	st->orbit_deaths = atomic64_read(&orbit_stats[OS_ORBIT_DEATHS]);
	st->update_pages = atomic64_read(&orbit_stats[OS_UPDATE_PAGES]);
	st->install_failures =
		atomic64_read(&orbit_stats[OS_INSTALL_FAILURES]);
	st->charged = atomic64_read(&orbit_stats[OS_CHARGED]);
	st->polls = atomic64_read(&orbit_stats[OS_POLLS]);
	st->polls_missed = atomic64_read(&orbit_stats[OS_POLLS_MISSED]);
}

long orbit_stats_ioctl(void __user *arg)
{
	struct orbit_stats st;
	int err;

	/*
	 * Live counts include no tree already dropped.  A free of a huge
	 * tree takes long: the wait ends at a signal (another user's drop
	 * must not hold this one up uninterruptibly).
	 */
	err = pt_wait_freed();
	if (err)
		return err;
	orbit_stats_fill(&st);
	if (copy_to_user(arg, &st, sizeof(st)))
		return -EFAULT;
	return 0;
}

/*
 * Every handshaken context, for ORBIT_IOC_LIST.  A context is on the list
 * from its handshake until its last reference is dropped (ctx_release),
 * so one found here under ctx_list_lock is not freed yet; a listing takes
 * a reference (unless it is already going) and reads it after the lock is
 * dropped.  The lock is a spinlock and nothing sleeps under it: a listing
 * that waits for a busy context's lock must not hold up other listings,
 * or the creation and the end of every context in the system.
 */
static LIST_HEAD(ctx_list);
static DEFINE_SPINLOCK(ctx_list_lock);
static unsigned int ctx_list_len;	/* under ctx_list_lock */

void orbit_list_add(struct orbit_ctx *ctx)
{
	spin_lock(&ctx_list_lock);
	list_add_tail(&ctx->all, &ctx_list);
	ctx_list_len++;
	spin_unlock(&ctx_list_lock);
}

void orbit_list_del(struct orbit_ctx *ctx)
{
	spin_lock(&ctx_list_lock);
	if (!list_empty(&ctx->all)) {
		list_del_init(&ctx->all);
		ctx_list_len--;
	}
	spin_unlock(&ctx_list_lock);
}

static void orbit_info_fill(struct orbit_ctx *ctx, struct orbit *ob,
			    struct orbit_info *oi)
{
	struct pid_namespace *ns = task_active_pid_ns(current);
	struct orbit_area *area;
	int id;

	lockdep_assert_held(&ctx->lock);
	memset(oi, 0, sizeof(*oi));
	oi->main_pid = pid_nr_ns(ctx->pid, ns);
	oi->id = ob->id;
	oi->uid = from_kuid_munged(current_user_ns(), ctx->cred->euid);
	memcpy(oi->name, ob->name, sizeof(oi->name));
	memcpy(oi->main_comm, ctx->comm, sizeof(oi->main_comm));
	idr_for_each_entry(&ctx->areas, area, id) {
		if (!xa_load(&ob->bound, area->id))
			continue;
		oi->area_bytes += area->size;
		oi->area_pages += atomic_long_read(&area->npresent);
		oi->cow_faults += atomic_long_read(&area->cow_faults);
	}
	spin_lock(&ob->lock);
	oi->pid = ob->pid ? pid_nr_ns(ob->pid, ns) : 0;
	oi->state = ob->state == ORBIT_DEAD ? ORBIT_STATE_DEAD :
		    ob->state == ORBIT_READY ? ORBIT_STATE_READY :
					       ORBIT_STATE_SPAWNING;
	oi->restarts = ob->restarts;
	oi->calls_done = ob->calls_done;
	oi->calls_queued = ob->nqueued + (ob->running ? 1 : 0);
	oi->calls_failed = ob->calls_failed;
	oi->death = ob->death;
	oi->death_code = ob->death_code;
	spin_unlock(&ob->lock);
}

/*
 * References on at most max listed contexts, into ctxs (oldest first);
 * how many.
 */
static unsigned int orbit_list_get(struct orbit_ctx **ctxs, unsigned int max)
{
	struct orbit_ctx *ctx;
	unsigned int n = 0;

	spin_lock(&ctx_list_lock);
	list_for_each_entry(ctx, &ctx_list, all) {
		if (n == max)
			break;
		if (kref_get_unless_zero(&ctx->ref))
			ctxs[n++] = ctx;
	}
	spin_unlock(&ctx_list_lock);
	return n;
}

/* The contexts' orbits the caller may see, into oi[0..cap); how many. */
static int orbit_list_fill(struct orbit_ctx **ctxs, unsigned int nctx,
			   struct orbit_info *oi, u32 cap, u32 *count)
{
	bool all = capable(CAP_SYS_ADMIN);
	struct orbit *ob;
	unsigned int i;
	int id, err = 0;

	for (i = 0; i < nctx; i++) {
		struct orbit_ctx *ctx = ctxs[i];

		if (!err && mutex_lock_interruptible(&ctx->lock))
			err = -ERESTARTSYS;	/* a signal: none filled */
		if (!err) {
			if (all || uid_eq(ctx->cred->euid, current_euid()))
				idr_for_each_entry(&ctx->orbits, ob, id) {
					if (*count < cap)
						orbit_info_fill(ctx, ob,
								&oi[*count]);
					(*count)++;
				}
			mutex_unlock(&ctx->lock);
		}
		ctx_put(ctx);
	}
	return err;
}

long orbit_list_ioctl(void __user *uarg)
{
	struct orbit_ctx **ctxs;
	struct orbit_list req;
	struct orbit_info *oi;
	unsigned int nctx;
	u32 count = 0, cap;
	int err;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (memchr_inv(req.reserved, 0, sizeof(req.reserved)))
		return -EINVAL;
	cap = min_t(u32, req.cap, ORBIT_LIST_MAX);
	oi = kvcalloc(max_t(u32, cap, 1), sizeof(*oi), GFP_KERNEL_ACCOUNT);
	/* Contexts handshaken after this are not listed: they are new. */
	nctx = READ_ONCE(ctx_list_len);
	ctxs = kvmalloc_array(max_t(unsigned int, nctx, 1), sizeof(*ctxs),
			      GFP_KERNEL_ACCOUNT);
	if (!oi || !ctxs) {
		kvfree(ctxs);
		kvfree(oi);
		return -ENOMEM;
	}
	nctx = orbit_list_get(ctxs, nctx);
	err = orbit_list_fill(ctxs, nctx, oi, cap, &count);
	if (!err &&
	    (copy_to_user(u64_to_user_ptr(req.buf), oi,
			  array_size(min(count, cap), sizeof(*oi))) ||
	     put_user(count, &((struct orbit_list __user *)uarg)->count)))
		err = -EFAULT;
	kvfree(ctxs);
	kvfree(oi);
	return err;
}
