// SPDX-License-Identifier: GPL-2.0
/*
 * Orbit lifecycle and the orbit side of the ABI.
 *
 * ORBIT_IOC_CREATE makes an orbit and an *orbit descriptor*; the library
 * hands the descriptor to its spawner, whose forked child attaches with
 * ORBIT_IOC_ATTACH and then loops in ORBIT_IOC_RUN.  The orbit dies when
 * its process closes the descriptor or exits (flush from its own thread
 * group, or release of the last reference), when a call outlives the
 * orbit's timeout, when main destroys it, or when main goes away; every
 * call in flight or queued then fails (ESRCH, ETIMEDOUT for a timed-out
 * call) and its waiters wake.  A dead orbit can be respawned: a new
 * generation with a new descriptor; descriptors carry their generation,
 * so an old process can neither act for nor kill the new one.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "orbit_internal.h"

/* An orbit descriptor: the orbit and the generation it was made for. */
struct orbit_handle {
	struct orbit *ob;
	u32 gen;
};

/*
 * Call timeouts: one module-wide scanner instead of per-orbit work, so
 * that an orbit's last reference never has to cancel work it runs in.
 */
static LIST_HEAD(timed_orbits);		/* orbits with a timeout */
static DEFINE_SPINLOCK(timed_lock);	/* protects timed_orbits */
static void orbit_timeout_scan(struct work_struct *work);
static DECLARE_DELAYED_WORK(timeout_work, orbit_timeout_scan);

static void orbit_timeout_arm(unsigned long deadline)
{
	long delay = (long)(deadline - jiffies);

	/* Only ever brings the next scan forward. */
	if (!delayed_work_pending(&timeout_work) ||
	    time_before(deadline, timeout_work.timer.expires))
		mod_delayed_work(system_wq, &timeout_work, max(delay, 1L));
}

static void orbit_timeout_scan(struct work_struct *work)
{
	struct orbit *ob, *expired[16];
	unsigned long next = 0;
	bool more = false;
	int i, n = 0;

	spin_lock(&timed_lock);
	list_for_each_entry(ob, &timed_orbits, timed) {
		struct orbit_call *call;

		spin_lock(&ob->lock);
		call = ob->running;
		if (call && time_after_eq(jiffies, call->deadline)) {
			if (n < ARRAY_SIZE(expired) &&
			    kref_get_unless_zero(&ob->ref))
				expired[n++] = ob;
			else
				more = true;
		} else if (call && (!next ||
				    time_before(call->deadline, next))) {
			next = call->deadline;
		}
		spin_unlock(&ob->lock);
	}
	spin_unlock(&timed_lock);

	for (i = 0; i < n; i++) {
		orbit_kill(expired[i], -ETIMEDOUT);
		orbit_put(expired[i]);
	}
	if (more)
		next = jiffies + 1;
	if (next)
		orbit_timeout_arm(next);
}

void orbit_timeouts_exit(void)
{
	cancel_delayed_work_sync(&timeout_work);
}

static void orbit_release(struct kref *ref)
{
	struct orbit *ob = container_of(ref, struct orbit, ref);

	if (ob->timeout) {
		spin_lock(&timed_lock);
		list_del(&ob->timed);
		spin_unlock(&timed_lock);
	}
	put_pid(ob->pid);
	xa_destroy(&ob->bound);
	ctx_put(ob->ctx);
	kfree(ob);
	ostat_dec(OS_ORBITS);
}

void orbit_put(struct orbit *ob)
{
	if (ob)
		kref_put(&ob->ref, orbit_release);
}

/*
 * Marks generation gen of the orbit dead (any generation if gen is
 * ORBIT_ANY_GEN), fails its calls with err (queued ones with ESRCH),
 * kills its process and drops its views.  Idempotent.
 */
static void orbit_kill_gen(struct orbit *ob, int err, u32 gen)
{
	struct orbit_call *running, *call, *tmp;
	struct orbit_view *view, *vtmp;
	struct pid *pid;
	LIST_HEAD(queued);
	LIST_HEAD(views);

	spin_lock(&ob->lock);
	if (ob->state == ORBIT_DEAD || (gen != ORBIT_ANY_GEN && gen != ob->gen)) {
		spin_unlock(&ob->lock);
		return;
	}
	ob->state = ORBIT_DEAD;
	pid = get_pid(ob->pid);
	running = ob->running;
	ob->running = NULL;
	list_splice_init(&ob->queue, &queued);
	ob->nqueued = 0;
	spin_unlock(&ob->lock);
	wake_up_all(&ob->wq);
	ostat_inc(OS_ORBIT_DEATHS);

	if (running)
		call_finish(running, 0, err);
	list_for_each_entry_safe(call, tmp, &queued, node) {
		list_del_init(&call->node);
		call_finish(call, 0, -ESRCH);
	}
	if (pid) {
		kill_pid(pid, SIGKILL, 1);
		put_pid(pid);
	}

	mutex_lock(&ob->view_lock);
	list_splice_init(&ob->views, &views);
	mutex_unlock(&ob->view_lock);
	list_for_each_entry_safe(view, vtmp, &views, node) {
		list_del_init(&view->node);
		view_put(view);
	}
}

void orbit_kill(struct orbit *ob, int err)
{
	orbit_kill_gen(ob, err, ORBIT_ANY_GEN);
}

/* Is current the process of this handle's (current) generation? */
static bool orbit_is_self(struct orbit_handle *h)
{
	struct orbit *ob = h->ob;
	bool self;

	spin_lock(&ob->lock);
	self = ob->gen == h->gen && ob->pid && task_tgid(current) == ob->pid;
	spin_unlock(&ob->lock);
	return self;
}

static int orbit_fd_flush(struct file *file, fl_owner_t id)
{
	struct orbit_handle *h = file->private_data;

	/* The orbit closed its descriptor, exec'd or is exiting. */
	if (orbit_is_self(h))
		orbit_kill_gen(h->ob, -ESRCH, h->gen);
	return 0;
}

static int orbit_fd_release(struct inode *inode, struct file *file)
{
	struct orbit_handle *h = file->private_data;

	orbit_kill_gen(h->ob, -ESRCH, h->gen);
	orbit_put(h->ob);
	kfree(h);
	return 0;
}

static long orbit_attach(struct orbit_handle *h, void __user *uarg)
{
	struct orbit *ob = h->ob;
	struct orbit_ctx *ctx = ob->ctx;
	struct orbit_attach at;
	int err = 0;

	if (current->mm == ctx->mm || task_tgid_nr(current) == ctx->tgid)
		return -EPERM;	/* an orbit needs its own address space */
	if (!uid_eq(current_euid(), ctx->euid))
		return -EPERM;	/* and runs as its main's user */
	memset(&at, 0, sizeof(at));
	at.id = ob->id;
	at.main_pid = ctx->tgid;
	if (copy_to_user(uarg, &at, sizeof(at)))
		return -EFAULT;

	spin_lock(&ob->lock);
	if (ob->state == ORBIT_DEAD || ob->gen != h->gen) {
		err = -ESRCH;
	} else if (ob->state != ORBIT_SPAWNING) {
		err = -EBUSY;
	} else {
		ob->state = ORBIT_READY;
		ob->pid = get_pid(task_tgid(current));
		ob->mm = current->mm;
	}
	spin_unlock(&ob->lock);
	return err;
}

/* Drops the views of destroyed areas: their pages and their addresses. */
static void orbit_reap_views(struct orbit *ob)
{
	struct orbit_view *view, *tmp;

	list_for_each_entry_safe(view, tmp, &ob->views, node) {
		if (!READ_ONCE(view->area->dead))
			continue;
		list_del_init(&view->node);
		view_unmap(view);
		view_put(view);
	}
}

static struct orbit_view *orbit_view_of(struct orbit *ob,
					struct orbit_area *area)
{
	struct orbit_view *view;

	list_for_each_entry(view, &ob->views, node)
		if (view->area == area)
			return view;
	view = view_create(area);
	if (!IS_ERR(view))
		list_add(&view->node, &ob->views);
	return view;
}

/* Installs the call's snapshots in the orbit's address space. */
static int orbit_install(struct orbit *ob, struct orbit_call *call)
{
	unsigned int i;
	int err = 0;

	mutex_lock(&ob->view_lock);
	orbit_reap_views(ob);
	for (i = 0; i < call->nsnap; i++) {
		struct orbit_view *view = orbit_view_of(ob, call->snap[i].area);

		if (IS_ERR(view)) {
			err = PTR_ERR(view);
			break;
		}
		/* NULL if the call ended meanwhile: installs an empty view. */
		view_install(view, call_take_root(call, i));
	}
	mutex_unlock(&ob->view_lock);
	return err;
}

/* Takes the running call off the orbit; NULL if someone else finished it. */
static struct orbit_call *orbit_take_running(struct orbit *ob,
					     struct orbit_call *expect)
{
	struct orbit_call *call;

	spin_lock(&ob->lock);
	call = ob->running;
	if (expect && call != expect)
		call = NULL;
	if (call) {
		ob->running = NULL;
		ob->calls_done++;
	}
	spin_unlock(&ob->lock);
	return call;
}

/* The handle's generation is over (dead or respawned). */
static bool orbit_gone(struct orbit_handle *h)
{
	return READ_ONCE(h->ob->state) == ORBIT_DEAD ||
	       READ_ONCE(h->ob->gen) != h->gen;
}

static struct orbit_call *orbit_next_call(struct orbit *ob)
{
	struct orbit_call *call = NULL;

	spin_lock(&ob->lock);
	if (ob->state != ORBIT_DEAD && !list_empty(&ob->queue)) {
		call = list_first_entry(&ob->queue, struct orbit_call, node);
		list_del_init(&call->node);
		ob->nqueued--;
		call->state = CALL_RUNNING;
		ob->running = call;
		if (ob->timeout)
			call->deadline = jiffies + nsecs_to_jiffies(ob->timeout);
	}
	spin_unlock(&ob->lock);
	if (call && ob->timeout)
		orbit_timeout_arm(call->deadline);
	return call;
}

static long orbit_run(struct orbit_handle *h, void __user *uarg)
{
	struct orbit *ob = h->ob;
	struct orbit_run run;
	struct orbit_call *call;
	int err;

	if (!orbit_is_self(h) || current->mm != ob->mm)
		return READ_ONCE(ob->gen) != h->gen ? -ESRCH : -EPERM;
	if (copy_from_user(&run, uarg, sizeof(run)))
		return -EFAULT;
	if (run.flags & ~ORBIT_RUN_HAVE_RESULT)
		return -EINVAL;
	if (run.flags & ORBIT_RUN_HAVE_RESULT) {
		call = orbit_take_running(ob, NULL);
		if (call)
			call_finish(call, run.retval, 0);
	}
	for (;;) {
		/*
		 * A dying orbit must leave: with calls queued the wait below
		 * returns at once, and installs fail for a dying task.
		 */
		if (fatal_signal_pending(current))
			return -EINTR;
		if (wait_event_interruptible(ob->wq, orbit_gone(h) ||
					     !list_empty_careful(&ob->queue)))
			return -ERESTARTSYS;
		if (orbit_gone(h))
			return -ESRCH;
		call = orbit_next_call(ob);
		if (!call)
			continue;
		err = orbit_install(ob, call);
		if (!err && call->argsize > run.argcap)
			err = -EINVAL;
		if (!err && call->argsize &&
		    copy_to_user(u64_to_user_ptr(run.argbuf), call->arg,
				 call->argsize))
			err = -EFAULT;
		run.func = call->func;
		run.call_id = call->id;
		run.argsize = call->argsize;
		if (!err && copy_to_user(uarg, &run, sizeof(run)))
			err = -EFAULT;
		if (!err)
			return 0;
		/*
		 * An orbit that cannot install a snapshot in its own address
		 * space (or copy out the call) is broken, or dying: the call
		 * fails with ESRCH, this generation ends (a restart policy
		 * brings a fresh process), and we return to user space now,
		 * never looping here on failure after failure.
		 */
		ostat_inc(OS_INSTALL_FAILURES);
		call = orbit_take_running(ob, call);
		if (call)
			call_finish(call, 0, -ESRCH);
		orbit_kill_gen(ob, -ESRCH, h->gen);
		return err;
	}
}

long orbit_fd_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct orbit_handle *h = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case ORBIT_IOC_ATTACH:
		return orbit_attach(h, uarg);
	case ORBIT_IOC_RUN:
		return orbit_run(h, uarg);
	case ORBIT_IOC_PUSH:
		if (!orbit_is_self(h))
			return -EPERM;
		return update_push(h->ob, uarg);
	case ORBIT_IOC_STATS:
		return orbit_stats_ioctl(uarg);
	}
	return -ENOTTY;
}

static const struct file_operations orbit_fops = {
	.owner		= THIS_MODULE,
	.flush		= orbit_fd_flush,
	.release	= orbit_fd_release,
	.unlocked_ioctl	= orbit_fd_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

struct orbit *orbit_alloc(struct orbit_ctx *ctx, const char *name,
			  u64 timeout_ns)
{
	struct orbit *ob = kzalloc(sizeof(*ob), GFP_KERNEL_ACCOUNT);

	if (!ob)
		return NULL;
	ob->timeout = timeout_ns;
	if (timeout_ns) {
		spin_lock(&timed_lock);
		list_add(&ob->timed, &timed_orbits);
		spin_unlock(&timed_lock);
	}
	kref_init(&ob->ref);
	kref_get(&ctx->ref);
	ob->ctx = ctx;
	strscpy(ob->name, name, sizeof(ob->name));
	spin_lock_init(&ob->lock);
	init_waitqueue_head(&ob->wq);
	INIT_LIST_HEAD(&ob->queue);
	mutex_init(&ob->view_lock);
	INIT_LIST_HEAD(&ob->views);
	xa_init(&ob->bound);
	ob->state = ORBIT_SPAWNING;
	ostat_inc(OS_ORBITS);
	return ob;
}

/*
 * Records that the orbit sees area area_id, so its pushed modifications
 * may target that area.  Called with ctx->lock; an area already bound is
 * not stored again (a call names its areas every time).
 */
int orbit_bind_area(struct orbit *ob, u32 area_id)
{
	if (xa_load(&ob->bound, area_id))
		return 0;
	return xa_err(xa_store(&ob->bound, area_id, xa_mk_value(1),
			       GFP_KERNEL));
}

/* A descriptor for the orbit's current generation, with its reference. */
static struct file *orbit_file(struct orbit *ob)
{
	struct orbit_handle *h = kzalloc(sizeof(*h), GFP_KERNEL_ACCOUNT);
	struct file *file;

	if (!h)
		return ERR_PTR(-ENOMEM);
	kref_get(&ob->ref);
	h->ob = ob;
	h->gen = READ_ONCE(ob->gen);
	file = anon_inode_getfile("[orbit]", &orbit_fops, h, O_RDWR);
	if (IS_ERR(file)) {
		orbit_put(ob);
		kfree(h);
	}
	return file;
}

/*
 * Installs a close-on-exec descriptor for the orbit's current generation
 * after *fdp (a user pointer) got its number.  Returns 0 or an errno.
 */
int orbit_install_fd(struct orbit *ob, s32 __user *fdp)
{
	struct file *file;
	int fd;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return fd;
	file = orbit_file(ob);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		return PTR_ERR(file);
	}
	if (put_user(fd, fdp)) {
		fput(file);
		put_unused_fd(fd);
		return -EFAULT;
	}
	fd_install(fd, file);
	return 0;
}

/* Starts a new generation of a dead orbit. */
int orbit_respawn(struct orbit *ob)
{
	struct pid *old;
	int err = 0;

	spin_lock(&ob->lock);
	if (ob->state != ORBIT_DEAD) {
		err = -EBUSY;
	} else {
		ob->gen++;
		ob->state = ORBIT_SPAWNING;
		old = ob->pid;
		ob->pid = NULL;
		ob->mm = NULL;
		ob->restarts++;
	}
	spin_unlock(&ob->lock);
	if (!err)
		put_pid(old);
	return err;
}
