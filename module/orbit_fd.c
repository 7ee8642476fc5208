// SPDX-License-Identifier: GPL-2.0
/*
 * The orbit descriptor: what an orbit's process holds.
 *
 * ORBIT_IOC_CREATE and ORBIT_IOC_RESPAWN make one per generation; the
 * library hands it to its spawner, whose forked child attaches with
 * ORBIT_IOC_ATTACH and then loops in ORBIT_IOC_RUN, pushing updates with
 * ORBIT_IOC_PUSH.  The generation ends when its process exits or execs
 * (flush from that process), or when the descriptor's last reference is
 * released; closing one of several descriptors for it changes nothing.
 *
 * struct orbit_handle: one per descriptor (file), freed with the file.
 * It holds a reference on its orbit and names the generation it was made
 * for: an old generation's process can neither act for nor end the next.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/oom.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "orbit_internal.h"
#include "orbit_trace.h"

struct orbit_handle {
	struct orbit *ob;
	u32 gen;
};

/* Is current (any thread) the attached process of the handle's generation? */
static bool orbit_is_self(struct orbit_handle *h)
{
	struct orbit *ob = h->ob;
	bool self;

	spin_lock(&ob->lock);
	self = ob->gen == h->gen && ob->state == ORBIT_READY &&
	       task_tgid(current) == ob->pid && current->mm == ob->mm;
	spin_unlock(&ob->lock);
	return self;
}

/* How the exiting orbit process died. */
static void orbit_exit_cause(u32 *cause, s32 *code)
{
	int ec = current->signal->group_exit_code ?: current->exit_code;

	if (tsk_is_oom_victim(current)) {
		*cause = ORBIT_DEATH_OOM;
		*code = SIGKILL;
	} else if (ec & 0x7f) {
		*cause = ORBIT_DEATH_SIGNAL;
		*code = ec & 0x7f;
	} else {
		*cause = ORBIT_DEATH_EXIT;
		*code = (ec >> 8) & 0xff;
	}
}

static int orbit_fd_flush(struct file *file, fl_owner_t id)
{
	struct orbit_handle *h = file->private_data;
	struct orbit *ob = h->ob;
	u32 cause = 0;
	s32 code = 0;

	spin_lock(&ob->lock);
	if (ob->gen == h->gen && ob->state == ORBIT_READY &&
	    task_tgid(current) == ob->pid) {
		if (current->flags & PF_EXITING)
			orbit_exit_cause(&cause, &code);
		else if (current->mm != ob->mm)
			cause = ORBIT_DEATH_EXEC;
	}
	spin_unlock(&ob->lock);
	if (cause)
		orbit_kill_gen(ob, -ESRCH, h->gen, cause, code);
	return 0;
}

static int orbit_fd_release(struct inode *inode, struct file *file)
{
	struct orbit_handle *h = file->private_data;

	orbit_kill_gen(h->ob, -ESRCH, h->gen, ORBIT_DEATH_CLOSED, 0);
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

	if (copy_from_user(&at, uarg, sizeof(at)))
		return -EFAULT;
	if (memchr_inv(at.reserved, 0, sizeof(at.reserved)))
		return -EINVAL;
	if (current->mm == ctx->mm || task_tgid(current) == ctx->pid)
		return -EPERM;	/* an orbit needs its own address space */
	if (!uid_eq(current_euid(), ctx->cred->euid))
		return -EPERM;	/* and runs as its main's user */
	at.id = ob->id;
	at.main_pid = pid_vnr(ctx->pid);
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

/*
 * The calling thread becomes the generation's task loop thread: 0, or
 * ESRCH (the generation is over), EPERM (not its process), EBUSY (another
 * thread runs the loop).
 */
static int orbit_loop_enter(struct orbit_handle *h)
{
	struct orbit *ob = h->ob;
	int err = 0;

	spin_lock(&ob->lock);
	if (ob->gen != h->gen || ob->state == ORBIT_DEAD)
		err = -ESRCH;
	else if (ob->state != ORBIT_READY || task_tgid(current) != ob->pid ||
		 current->mm != ob->mm)
		err = -EPERM;
	else if (ob->runner && ob->runner != current)
		err = -EBUSY;
	else
		ob->runner = current;
	spin_unlock(&ob->lock);
	return err;
}

/* The thread leaves the loop, unless it holds a call it must answer. */
static void orbit_loop_leave(struct orbit_handle *h)
{
	struct orbit *ob = h->ob;

	spin_lock(&ob->lock);
	if (ob->gen == h->gen && ob->runner == current && !ob->running)
		ob->runner = NULL;
	spin_unlock(&ob->lock);
}

/* The handle's generation is over (dead or respawned). */
static bool orbit_gone(struct orbit_handle *h)
{
	return READ_ONCE(h->ob->state) == ORBIT_DEAD ||
	       READ_ONCE(h->ob->gen) != h->gen;
}

static bool orbit_has_work(struct orbit_handle *h)
{
	return orbit_gone(h) || !list_empty_careful(&h->ob->queue);
}

/* A prewoken loop's poll: work, or no caller snapshotting any more. */
static bool orbit_prewake_over(void *h)
{
	struct orbit_handle *oh = h;

	return orbit_has_work(oh) || !atomic_read(&oh->ob->prewake);
}

/*
 * Waits for work; prewoken (wake.c), polls for it once, then sleeps.
 * -ERESTARTSYS on a signal.
 */
static int orbit_wait_work(struct orbit_handle *h)
{
	struct orbit *ob = h->ob;
	bool polled = false, spent;

	for (;;) {
		WRITE_ONCE(ob->loop_cpu, raw_smp_processor_id());
		if (wait_event_interruptible(ob->wq, orbit_has_work(h) ||
					     (!polled &&
					      atomic_read(&ob->prewake))))
			return -ERESTARTSYS;
		if (orbit_has_work(h))
			return 0;
		polled = true;
		orbit_poll(orbit_prewake_over, h, &spent);
	}
}

/* Hands a call to the task: snapshot installed, argument copied out. */
static int orbit_hand_out(struct orbit_handle *h, struct orbit_call *call,
			  struct orbit_run *run, void __user *uarg)
{
	u64 t0 = orbit_trace_clock(trace_orbit_install_enabled()), changed = 0;
	int err = orbit_install(h->ob, h->gen, call, &changed);

	if (!err)
		trace_orbit_install(h->ob->id, call->id, call->nsnap, changed,
				    orbit_trace_since(t0));

	if (!err && call->argsize > run->argcap)
		err = -EINVAL;
	if (!err && call->argsize &&
	    copy_to_user(u64_to_user_ptr(run->argbuf), call->arg,
			 call->argsize))
		err = -EFAULT;
	run->func = call->func;
	run->tag = call->tag;
	run->call_id = call->id;
	run->argsize = call->argsize;
	if (!err && copy_to_user(uarg, run, sizeof(*run)))
		err = -EFAULT;
	return err;
}

/*
 * The update a RUN pushes with the result (ORBIT_RUN_PUSH), read before
 * RUN does anything.  Whether the update is acceptable (see
 * orbit_run_end) is the call's business, not RUN's.
 */
static int orbit_run_push_read(struct orbit_handle *h,
			       const struct orbit_run *run,
			       struct orbit_push *push)
{
	u64 need = ORBIT_FEAT_RUN_PUSH | ORBIT_FEAT_UPDATES;

	if (!(run->flags & ORBIT_RUN_HAVE_RESULT) ||
	    (h->ob->ctx->features & need) != need)
		return -EINVAL;
	return update_req_read(push, u64_to_user_ptr(run->push));
}

/*
 * Ends the call the task loop took off the orbit (its reference moves
 * here): its update first, if RUN brought one, then its result.  An
 * update ORBIT_IOC_PUSH would refuse fails the call with that error; a
 * call without a future drops it.
 */
static void orbit_run_end(struct orbit *ob, struct orbit_call *call,
			  const struct orbit_run *run,
			  const struct orbit_push *push)
{
	int err = 0;

	if (run->flags & ORBIT_RUN_PUSH) {
		err = ob->observe ? -EPERM :
		      update_append(ob, call, push, false);
		if (err == -EPIPE)
			err = 0;	/* nobody would pull it */
	}
	call_finish(call, err ? 0 : run->retval, err);
}

static long orbit_run(struct orbit_handle *h, void __user *uarg)
{
	struct orbit *ob = h->ob;
	struct orbit_push push;
	struct orbit_call *call;
	struct orbit_run run;
	int err;

	if (copy_from_user(&run, uarg, sizeof(run)))
		return -EFAULT;
	if ((run.flags & ~ORBIT_RUN_FLAGS) || run.pad ||
	    ((run.flags & ORBIT_RUN_NOWAIT) &&
	     !(ob->ctx->features & ORBIT_FEAT_RUN_NOWAIT)))
		return -EINVAL;
	if (run.flags & ORBIT_RUN_PUSH) {
		err = orbit_run_push_read(h, &run, &push);
		if (err)
			return err;
	} else if (run.push) {
		return -EINVAL;
	}
	err = orbit_loop_enter(h);
	if (err)
		return err;
	if (run.flags & ORBIT_RUN_HAVE_RESULT) {
		call = orbit_take_running(ob, h->gen, NULL);
		if (call)
			orbit_run_end(ob, call, &run, &push);
	}
	for (;;) {
		/*
		 * A dying orbit must leave: with calls queued the wait below
		 * returns at once, and installs fail for a dying task.
		 */
		if (fatal_signal_pending(current)) {
			err = -EINTR;
			break;
		}
		if (READ_ONCE(ob->running) && !orbit_gone(h)) {
			err = -EINVAL;	/* a call still waits for its result */
			break;
		}
		if (run.flags & ORBIT_RUN_NOWAIT)
			err = orbit_has_work(h) ? 0 : -EAGAIN;	/* no wait */
		else
			err = orbit_wait_work(h);
		if (err)
			break;
		if (orbit_gone(h)) {
			err = -ESRCH;
			break;
		}
		call = orbit_next_call(ob, h->gen);
		if (!call)
			continue;
		orbit_wake_early(ob, call);
		err = orbit_hand_out(h, call, &run, uarg);
		if (!err) {
			call_put(call);
			return 0;	/* the thread keeps the loop */
		}
		/*
		 * An orbit that cannot install a snapshot in its own address
		 * space (or copy out the call) is broken, or dying: the call
		 * fails with ESRCH, this generation ends (a restart policy
		 * brings a fresh process), and we return to user space now,
		 * never looping here on failure after failure.
		 */
		ostat_inc(OS_INSTALL_FAILURES);
		if (orbit_take_running(ob, h->gen, call) == call)
			call_finish(call, 0, -ESRCH);
		call_put(call);
		orbit_kill_gen(ob, -ESRCH, h->gen, ORBIT_DEATH_FAILED, 0);
		break;
	}
	orbit_loop_leave(h);
	return err;
}

static long orbit_push(struct orbit_handle *h, void __user *uarg)
{
	if (!orbit_is_self(h))
		return orbit_gone(h) ? -ESRCH : -EPERM;
	if (!(h->ob->ctx->features & ORBIT_FEAT_UPDATES))
		return -EINVAL;
	if (h->ob->observe)
		return -EPERM;	/* an observer changes nothing in main */
	return update_push(h->ob, h->gen, uarg);
}

static long orbit_fd_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	struct orbit_handle *h = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case ORBIT_IOC_ATTACH:
		return orbit_attach(h, uarg);
	case ORBIT_IOC_RUN:
		return orbit_run(h, uarg);
	case ORBIT_IOC_PUSH:
		return orbit_push(h, uarg);
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

/*
 * Installs a descriptor for generation gen of the orbit (close-on-exec
 * with ORBIT_CREATE_CLOEXEC) after *fdp (a user pointer) got its number.
 * Returns 0 or an errno.
 */
int orbit_install_fd(struct orbit *ob, u32 gen, u32 flags, s32 __user *fdp)
{
	struct orbit_handle *h;
	struct file *file;
	int fd;

	h = kzalloc(sizeof(*h), GFP_KERNEL_ACCOUNT);
	if (!h)
		return -ENOMEM;
	fd = get_unused_fd_flags(flags & ORBIT_CREATE_CLOEXEC ? O_CLOEXEC : 0);
	if (fd < 0) {
		kfree(h);
		return fd;
	}
	kref_get(&ob->ref);
	h->ob = ob;
	h->gen = gen;
	file = anon_inode_getfile("[orbit]", &orbit_fops, h, O_RDWR);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		orbit_put(ob);
		kfree(h);
		return PTR_ERR(file);
	}
	if (put_user(fd, fdp)) {
		fput(file);	/* releases h and its reference */
		put_unused_fd(fd);
		return -EFAULT;
	}
	fd_install(fd, file);
	return 0;
}
