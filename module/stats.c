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
	pt_flush();	/* live counts include no tree already dropped */
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
}

long orbit_stats_ioctl(void __user *arg)
{
	struct orbit_stats st;

	orbit_stats_fill(&st);
	if (copy_to_user(arg, &st, sizeof(st)))
		return -EFAULT;
	return 0;
}

/* Every handshaken context, for ORBIT_IOC_LIST. */
static LIST_HEAD(ctx_list);
static DEFINE_MUTEX(ctx_list_lock);	/* protects ctx_list; before ctx->lock */

void orbit_list_add(struct orbit_ctx *ctx)
{
	mutex_lock(&ctx_list_lock);
	list_add_tail(&ctx->all, &ctx_list);
	mutex_unlock(&ctx_list_lock);
}

void orbit_list_del(struct orbit_ctx *ctx)
{
	mutex_lock(&ctx_list_lock);
	list_del_init(&ctx->all);
	mutex_unlock(&ctx_list_lock);
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

long orbit_list_ioctl(void __user *uarg)
{
	struct orbit_list req;
	struct orbit_info *oi;
	struct orbit_ctx *ctx;
	struct orbit *ob;
	bool all = capable(CAP_SYS_ADMIN);
	u32 count = 0, cap;
	int id, err = 0;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (memchr_inv(req.reserved, 0, sizeof(req.reserved)))
		return -EINVAL;
	cap = min_t(u32, req.cap, ORBIT_LIST_MAX);
	oi = kvcalloc(max_t(u32, cap, 1), sizeof(*oi), GFP_KERNEL_ACCOUNT);
	if (!oi)
		return -ENOMEM;
	mutex_lock(&ctx_list_lock);
	list_for_each_entry(ctx, &ctx_list, all) {
		mutex_lock(&ctx->lock);
		if (!all && !uid_eq(ctx->cred->euid, current_euid())) {
			mutex_unlock(&ctx->lock);
			continue;
		}
		idr_for_each_entry(&ctx->orbits, ob, id) {
			if (count < cap)
				orbit_info_fill(ctx, ob, &oi[count]);
			count++;
		}
		mutex_unlock(&ctx->lock);
	}
	mutex_unlock(&ctx_list_lock);
	if (copy_to_user(u64_to_user_ptr(req.buf), oi,
			 array_size(min(count, cap), sizeof(*oi))) ||
	    put_user(count, &((struct orbit_list __user *)uarg)->count))
		err = -EFAULT;
	kvfree(oi);
	return err;
}
