/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * orbit: ioctl ABI between orbit.ko (/dev/orbit) and libuorbit.
 *
 * Every file descriptor obtained by opening /dev/orbit must first complete
 * the ORBIT_IOC_API handshake (as userfaultfd's UFFDIO_API): user space
 * states the API version it speaks and the features it wants; the module
 * answers with the features and ioctls it supports and remembers the
 * features asked for.  A feature that was not asked for cannot be used
 * (EINVAL).  Any other ioctl before the handshake fails with EINVAL, except
 * ORBIT_IOC_STATS and ORBIT_IOC_LIST, which work on any descriptor.
 *
 * A handshaken /dev/orbit descriptor is a *main context*: the thread group
 * that completed the handshake owns it and is the only one allowed to use it
 * (EPERM otherwise).  The context lives as long as main's address space:
 * when main exits or execs (whether or not the descriptor survives the
 * exec), or when the last reference to the descriptor is released, its
 * orbits are killed, their calls fail with ESRCH and its areas are
 * released.  Closing one of several descriptors for it changes nothing.
 * The handshake maps a one-page, inaccessible "[orbit-ctx]" anchor into
 * main to learn when its address space goes away; unmapping it ends the
 * context.
 *
 * ORBIT_IOC_CREATE returns a second kind of descriptor, the *orbit
 * descriptor*, which the orbit process inherits and uses for
 * ORBIT_IOC_ATTACH, the task loop (ORBIT_IOC_RUN) and ORBIT_IOC_PUSH.
 *
 * Every structure has explicit padding, 64-bit user pointers and no
 * implicit holes, so the ABI is identical for every user-space ABI.  Every
 * flags field is checked against its mask below, and every pad and
 * reserved field must be zero (EINVAL otherwise), so that either can be
 * given a meaning later.
 */
#ifndef _UAPI_LINUX_ORBIT_H
#define _UAPI_LINUX_ORBIT_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define ORBIT_API_VERSION	2

/* Features negotiated through ORBIT_IOC_API (bit mask). */
#define ORBIT_FEAT_COPY_MODE	(1ULL << 0)	/* per-area COPY snapshots */
#define ORBIT_FEAT_AUTO_MODE	(1ULL << 1)	/* per-page COW/COPY choice */
#define ORBIT_FEAT_UPDATES	(1ULL << 2)	/* orbit -> main updates */
#define ORBIT_FEAT_RESTART	(1ULL << 3)	/* ORBIT_IOC_RESPAWN */
#define ORBIT_FEAT_TIMEOUT	(1ULL << 4)	/* per-orbit call timeout */
#define ORBIT_FEAT_LIST		(1ULL << 5)	/* ORBIT_IOC_LIST */
#define ORBIT_FEAT_CANCEL	(1ULL << 6)	/* ORBIT_IOC_CANCEL, ORBIT_CALL_LATEST */
#define ORBIT_FEAT_OBSERVE	(1ULL << 7)	/* ORBIT_CREATE_OBSERVE */
#define ORBIT_FEAT_QUERY	(1ULL << 8)	/* ORBIT_IOC_QUERY */
#define ORBIT_FEAT_AREA_MODE	(1ULL << 9)	/* ORBIT_IOC_AREA_MODE */
#define ORBIT_FEAT_CHECK_MAPPED	(1ULL << 10)	/* ORBIT_CHECK_MAPPED */
#define ORBIT_FEAT_TAG		(1ULL << 11)	/* orbit_call_req.tag */
#define ORBIT_FEAT_DISCARD	(1ULL << 12)	/* ORBIT_IOC_AREA_DISCARD */
#define ORBIT_FEAT_QUIET	(1ULL << 13)	/* ORBIT_CALL_QUIET */
#define ORBIT_FEAT_PULL_END	(1ULL << 14)	/* ORBIT_PULL_RELEASE, .retval */
#define ORBIT_FEAT_RUN_PUSH	(1ULL << 15)	/* ORBIT_RUN_PUSH */
#define ORBIT_FEAT_RUN_NOWAIT	(1ULL << 16)	/* ORBIT_RUN_NOWAIT */
/* Every feature this header defines. */
#define ORBIT_FEAT_ALL		((1ULL << 17) - 1)

#define ORBIT_NAME_MAX		32

/* Entries one ORBIT_IOC_CHECK may hold, records one ORBIT_IOC_LIST fills. */
#define ORBIT_CHECK_MAX		4096
#define ORBIT_LIST_MAX		4096

struct orbit_api {
	__u64 api;		/* in: ORBIT_API_VERSION */
	__u64 features;		/* in: wanted; out: supported */
	__u64 ioctls;		/* out: bit (1 << _IOC_NR) per supported ioctl */
	__u32 max_arg_size;	/* out: largest argument buffer (bytes) */
	__u32 max_call_areas;	/* out: largest area list per call */
	__u64 max_area_size;	/* out: largest single area (bytes) */
	__u32 max_update;	/* out: largest update (bytes) */
	__u32 pad;
	__u64 reserved[3];	/* must be zero */
};

/* struct orbit_create.flags (CLOEXEC also for struct orbit_respawn.flags) */
#define ORBIT_CREATE_CLOEXEC	(1U << 0)	/* orbit fd gets O_CLOEXEC */
#define ORBIT_CREATE_OBSERVE	(1U << 1)	/* observe only: pushes fail, EPERM */
#define ORBIT_CREATE_FLAGS	(ORBIT_CREATE_CLOEXEC | ORBIT_CREATE_OBSERVE)
#define ORBIT_RESPAWN_FLAGS	ORBIT_CREATE_CLOEXEC

struct orbit_create {
	char name[ORBIT_NAME_MAX];	/* in: NUL-terminated */
	__u32 flags;			/* in: ORBIT_CREATE_* */
	__u32 id;			/* out: orbit id (> 0) */
	__s32 orbit_fd;			/* out: descriptor for the orbit */
	__u32 pad;
	__u64 timeout_ns;		/* in: per-call time, 0 = none */
	__u64 reserved[3];		/* must be zero */
};

/*
 * A dead orbit (its process exited, crashed, was killed or timed out) is
 * brought back by ORBIT_IOC_RESPAWN: same id, areas and bindings, a new
 * orbit descriptor for the new process.  Descriptors of the old process
 * are stale from then on (ESRCH).
 */
struct orbit_respawn {
	__u32 id;		/* in */
	__u32 flags;		/* in: ORBIT_CREATE_CLOEXEC */
	__s32 orbit_fd;		/* out */
	__u32 pad;
	__u64 reserved[2];
};

/* ORBIT_IOC_DESTROY and ORBIT_IOC_AREA_DESTROY: an orbit or area id. */
struct orbit_ref {
	__u32 id;		/* in */
	__u32 flags;		/* in: none defined, must be zero */
	__u64 reserved[2];
};

/* struct orbit_area_req.flags */
#define ORBIT_AREA_COPY		(1U << 0)	/* snapshot by copying */
#define ORBIT_AREA_NOAUTO	(1U << 1)	/* no per-page COPY choice */
#define ORBIT_AREA_FLAGS	(ORBIT_AREA_COPY | ORBIT_AREA_NOAUTO)

struct orbit_area_req {
	__u64 addr;	/* in: page aligned address, same in every orbit */
	__u64 size;	/* in: maximum size in bytes, page multiple */
	__u32 flags;	/* in: ORBIT_AREA_* */
	__u32 orbit_id;	/* in: orbit to bind to, 0 for none */
	__u32 id;	/* out: area id (> 0) */
	__u32 pad;
	__u64 reserved[2];
};

struct orbit_bind {
	__u32 area_id;
	__u32 orbit_id;
	__u32 flags;	/* in: none defined, must be zero */
	__u32 pad;
	__u64 reserved[2];
};

/* struct orbit_call_req.flags */
#define ORBIT_CALL_SYNC		(1U << 0)	/* wait for the result */
#define ORBIT_CALL_NOFUTURE	(1U << 1)	/* fire and forget */
/*
 * The latest of its kind: queued calls of the same orbit and function
 * that have not started fail with ECANCELED (ORBIT_FEAT_CANCEL).
 */
#define ORBIT_CALL_LATEST	(1U << 2)
/* The library's own call: not in the orbit's call counts (ORBIT_FEAT_QUIET). */
#define ORBIT_CALL_QUIET	(1U << 3)
#define ORBIT_CALL_FLAGS	(ORBIT_CALL_SYNC | ORBIT_CALL_NOFUTURE | \
				 ORBIT_CALL_LATEST | ORBIT_CALL_QUIET)

struct orbit_call_req {
	__u32 orbit_id;	/* in */
	__u32 flags;	/* in: ORBIT_CALL_* */
	__u64 func;	/* in: task function (opaque to the module) */
	__u64 areas;	/* in: user pointer to __u32 area ids */
	__u32 narea;	/* in: number of ids */
	__u32 argsize;	/* in: bytes at arg */
	__u64 arg;	/* in: user pointer to the argument buffer */
	__u64 call_id;	/* out: future id (0 with NOFUTURE) */
	__s64 retval;	/* out: with SYNC, the task's return value */
	__u32 result;	/* out: with SYNC, ORBIT_RESULT_* */
	__u32 pad;
	__u64 tag;	/* in: opaque, handed to the task (ORBIT_FEAT_TAG) */
};

/*
 * struct orbit_call_req.result: updates wait, pull them, then WAIT.  A
 * sync call that fails discards the updates its task pushed.
 */
#define ORBIT_RESULT_UPDATES	(1U << 0)

struct orbit_wait {
	__u64 call_id;	/* in */
	__s64 retval;	/* out */
	__u64 reserved[2];
};

/*
 * ORBIT_IOC_CANCEL: a queued call fails with ECANCELED and never runs.
 * EBUSY if it runs already, EALREADY if it ended, ENOENT if there is no
 * such future.
 */
struct orbit_cancel {
	__u64 call_id;		/* in: future id */
	__u32 flags;		/* in: none defined, must be zero */
	__u32 pad;
	__u64 reserved[2];
};

/* ORBIT_IOC_QUERY: an orbit of this context, as it is now. */
struct orbit_query {
	__u32 id;		/* in */
	__u32 flags;		/* in: none defined; out: ORBIT_CREATE_OBSERVE */
	__u32 state;		/* out: ORBIT_STATE_* */
	__u32 restarts;		/* out */
	__u32 gen;		/* out: generation (respawns so far) */
	__s32 pid;		/* out: in the caller's pid namespace, 0 if none */
	__u64 calls_done;	/* out */
	__u64 calls_queued;	/* out: including a running call */
	__u64 calls_failed;	/* out */
	__u32 death;		/* out: ORBIT_DEATH_* of the last death */
	__s32 death_code;	/* out */
	__u64 reserved[2];
};

/* ORBIT_IOC_AREA_MODE: an area's snapshot mode, changed. */
struct orbit_area_mode {
	__u32 id;		/* in: area id */
	__u32 flags;		/* in: ORBIT_AREA_COPY or ORBIT_AREA_NOAUTO or 0 */
	__u64 reserved[2];
};

/*
 * ORBIT_IOC_AREA_DISCARD: the area's pages in [offset, offset + len) go
 * (page-aligned); main reads zeros there next, later snapshots lack them.
 */
struct orbit_area_discard {
	__u32 id;		/* in: area id */
	__u32 flags;		/* in: none defined, must be zero */
	__u64 offset;		/* in: bytes from the area's start */
	__u64 len;		/* in: bytes */
	__u64 reserved[2];
};

/* The library's spawner: a child of main, running as main's user. */
struct orbit_spawner {
	__s32 pid;		/* in: in the caller's pid namespace */
	__u32 flags;		/* in: none defined, must be zero */
	__u64 reserved[2];
};

struct orbit_attach {
	__u32 id;		/* out: orbit id */
	__s32 main_pid;		/* out: main's pid in the caller's namespace */
	__u64 reserved[2];	/* in: zero */
};

/* struct orbit_run.flags (in) */
#define ORBIT_RUN_HAVE_RESULT	(1U << 0)	/* retval holds the last result */
/*
 * With HAVE_RESULT (ORBIT_FEAT_RUN_PUSH): push is a user pointer to a
 * struct orbit_push, the update appended to the call just before its end,
 * so that main's pull finds both together (ORBIT_PULL_UPDATE_END).  RUN
 * fails (EFAULT, EINVAL) only if it cannot read the request or a reserved
 * word is set.  An update ORBIT_IOC_PUSH would refuse (EPERM, EMSGSIZE,
 * ENOBUFS, EDQUOT, EFAULT) ends the call with that error instead of its
 * result; for a call without a future it is dropped.  A RUN restarted
 * after a signal finds no call to end and pushes nothing.
 */
#define ORBIT_RUN_PUSH		(1U << 1)
/*
 * ORBIT_FEAT_RUN_NOWAIT: with no call queued, RUN returns EAGAIN at once
 * (having ended the previous call, with HAVE_RESULT) instead of waiting:
 * a loop that serves its calls elsewhere (libuorbit's direct orbits)
 * takes the calls queued here without staying for more.
 */
#define ORBIT_RUN_NOWAIT	(1U << 2)
#define ORBIT_RUN_FLAGS		(ORBIT_RUN_HAVE_RESULT | ORBIT_RUN_PUSH | \
				 ORBIT_RUN_NOWAIT)

/*
 * One thread of an orbit runs its task loop: from the moment it enters
 * ORBIT_IOC_RUN until it has returned the result of every call it took,
 * ORBIT_IOC_RUN from any other thread fails with EBUSY.
 */
struct orbit_run {
	__u32 flags;	/* in: ORBIT_RUN_* */
	__u32 argcap;	/* in: bytes available at argbuf */
	__s64 retval;	/* in: result of the previous call */
	__u64 argbuf;	/* in: user buffer for the next call's argument */
	__u64 func;	/* out: function to run */
	__u64 call_id;	/* out */
	__u32 argsize;	/* out: bytes written to argbuf */
	__u32 pad;
	__u64 tag;	/* out: the call's orbit_call_req.tag */
	__u64 push;	/* in: with ORBIT_RUN_PUSH; else zero */
};

/*
 * Updates travel as opaque bytes (libuorbit encodes and validates them).
 * ORBIT_IOC_PUSH appends one to the call the orbit is running.  An update
 * of at least ORBIT_UPDATE_MOVE_MIN bytes at a page-aligned buffer of the
 * orbit's private anonymous memory keeps the orbit's pages instead of
 * being copied (the orbit must not write them again); any other is copied.
 */
#define ORBIT_UPDATE_MOVE_MIN	16384

struct orbit_push {
	__u64 buf;	/* in: user pointer */
	__u64 len;	/* in: bytes */
	__u64 reserved[2];
};

/* struct orbit_pull.status */
#define ORBIT_PULL_END		0	/* the call ended; error tells how */
#define ORBIT_PULL_UPDATE	1	/* one update copied to buf */
/*
 * One update copied to buf, the call's last: the call has ended and
 * error and retval tell how, as with END, which does not follow.  Only
 * with ORBIT_PULL_RELEASE.
 */
#define ORBIT_PULL_UPDATE_END	2

/*
 * struct orbit_pull.flags (ORBIT_FEAT_PULL_END).  RELEASE: a pull that
 * reports the call's end (END or UPDATE_END) also collects the future,
 * as ORBIT_IOC_WAIT would: its id is gone, and retval and error are the
 * call's result.  A main that pulls a call to its end then needs no WAIT.
 * A pull or wait that cannot write its result out (EFAULT) takes nothing:
 * the update goes back, the future stays, the next pull or wait gets
 * them.  The same holds for a sync call's result (its id was written
 * when the call was issued: WAIT collects it).  Updates come in push
 * order to one puller; with two pulling one call at once, one may get
 * the next update before the other's failed pull put its own back.
 * Two collecting one call at once (WAITs, releasing pulls, or one of
 * each): one reports the end, the other reports it too or fails with
 * ENOENT; an update reaches one puller at most, and a WAIT that collects
 * first frees the updates nobody pulled.
 */
#define ORBIT_PULL_RELEASE	(1U << 0)

struct orbit_pull {
	__u64 call_id;	/* in: future id */
	__u64 buf;	/* in: user buffer */
	__u64 cap;	/* in: its size; ENOSPC with len set if too small */
	__u64 len;	/* out: update size */
	__u32 status;	/* out: ORBIT_PULL_* */
	__s32 error;	/* out: with END, 0 or the call's errno */
	__s64 retval;	/* out: with END (ORBIT_FEAT_PULL_END), the result */
	__u32 flags;	/* in: ORBIT_PULL_* flags, 0 without the feature */
	__u32 pad;	/* must be zero */
};

/* struct orbit_check_entry.kind */
#define ORBIT_CHECK_AREA	1	/* range inside a mapped, writable area */
#define ORBIT_CHECK_EXEC	2	/* address in an executable mapping */
/* [addr, addr + len) is one area of main's, mapped whole there */
#define ORBIT_CHECK_MAPPED	3

struct orbit_check_entry {
	__u64 addr;
	__u64 len;
	__u32 kind;
	__u32 pad;
};

struct orbit_check {
	__u32 orbit_id;	/* in: areas bound to it; 0: any area of main */
	__u32 count;	/* in: entries, at most ORBIT_CHECK_MAX */
	__u64 entries;	/* in: user pointer to struct orbit_check_entry */
	__u32 failed;	/* out: index of the first failing entry */
	__u32 pad;
	__u64 reserved[2];
};

/*
 * Module-wide counters (ORBIT_IOC_STATS); any /dev/orbit fd, no handshake.
 * The live counts include no snapshot dropped before the request: it
 * waits until those are freed, interruptibly (EINTR without SA_RESTART).
 */
struct orbit_stats {
	__u64 contexts;		/* live main contexts */
	__u64 orbits;		/* live orbits */
	__u64 areas;		/* live areas */
	__u64 views;		/* live orbit views of areas */
	__u64 pages;		/* pages held by the module */
	__u64 nodes;		/* snapshot tree nodes */
	__u64 calls;		/* live call objects */
	__u64 updates;		/* live update objects */
	__u64 calls_total;	/* calls issued since load */
	__u64 calls_failed;	/* calls that ended with an error */
	__u64 cow_faults;	/* main faults that copied a frozen page */
	__u64 copy_pages;	/* pages copied at snapshot time */
	__u64 snapshots;	/* area snapshots taken */
	__u64 orbit_deaths;	/* orbits that died or were killed */
	__u64 update_pages;	/* update pages moved instead of copied */
	__u64 install_failures;	/* calls an orbit could not install */
	__u64 charged;		/* bytes charged to users (pages, calls, updates) */
	__u64 polls;		/* sleepers that polled after an early wakeup */
	__u64 polls_missed;	/* such polls that ran out of time (poll_us) */
	__u64 reserved[3];
};

/*
 * ORBIT_IOC_LIST (any /dev/orbit descriptor, no handshake): one record per
 * orbit the caller may see: all for a caller with CAP_SYS_ADMIN, else those
 * whose main program runs as the caller's effective user.  Pids are given
 * in the caller's pid namespace (0 for a process outside it).  count is
 * the number visible; at most cap records (and ORBIT_LIST_MAX) are written.
 * It waits for each context's lock in turn, interruptibly: EINTR when a
 * signal arrives meanwhile (nothing is written then).  A context whose
 * main has just started may or may not be listed.
 */
#define ORBIT_STATE_SPAWNING	0
#define ORBIT_STATE_READY	1	/* attached, idle or running */
#define ORBIT_STATE_DEAD	2

/* struct orbit_info.death: how the orbit last died */
#define ORBIT_DEATH_NONE	0	/* never died */
#define ORBIT_DEATH_EXIT	1	/* its process exited; death_code: status */
#define ORBIT_DEATH_SIGNAL	2	/* killed by signal death_code */
#define ORBIT_DEATH_OOM		3	/* killed by the OOM killer */
#define ORBIT_DEATH_TIMEOUT	4	/* a call outlived the timeout */
#define ORBIT_DEATH_DESTROYED	5	/* main destroyed it, or main ended */
#define ORBIT_DEATH_FAILED	6	/* could not install a call (e.g. ENOMEM) */
#define ORBIT_DEATH_EXEC	7	/* its process exec'd */
#define ORBIT_DEATH_CLOSED	8	/* its descriptor was closed */

struct orbit_info {
	__s32 pid;		/* orbit process, 0 if none or not visible */
	__s32 main_pid;		/* 0 if not visible */
	__u32 id;		/* in its main */
	__u32 state;		/* ORBIT_STATE_* */
	__u32 uid;		/* main's effective user */
	__u32 restarts;
	__u64 calls_done;
	__u64 calls_queued;	/* including a running call */
	__u64 area_bytes;	/* size of the areas bound to it */
	__u64 area_pages;	/* pages present in those areas */
	__u64 cow_faults;	/* main's COW faults in those areas */
	char name[ORBIT_NAME_MAX];
	char main_comm[16];	/* main's command name */
	__u64 calls_failed;	/* calls of this orbit that failed */
	__u32 death;		/* ORBIT_DEATH_* of its last death */
	__s32 death_code;	/* exit status or signal number */
	__u64 reserved[2];
};

struct orbit_list {
	__u64 buf;	/* in: user pointer to struct orbit_info[cap] */
	__u32 cap;	/* in */
	__u32 count;	/* out */
	__u64 reserved[2];
};

#define ORBIT_IOC_MAGIC		0xB7

#define ORBIT_IOC_API		_IOWR(ORBIT_IOC_MAGIC, 0x00, struct orbit_api)
#define ORBIT_IOC_CREATE	_IOWR(ORBIT_IOC_MAGIC, 0x01, struct orbit_create)
#define ORBIT_IOC_DESTROY	_IOW(ORBIT_IOC_MAGIC, 0x02, struct orbit_ref)
#define ORBIT_IOC_AREA_CREATE	_IOWR(ORBIT_IOC_MAGIC, 0x03, struct orbit_area_req)
#define ORBIT_IOC_AREA_DESTROY	_IOW(ORBIT_IOC_MAGIC, 0x04, struct orbit_ref)
#define ORBIT_IOC_AREA_BIND	_IOW(ORBIT_IOC_MAGIC, 0x05, struct orbit_bind)
#define ORBIT_IOC_CALL		_IOWR(ORBIT_IOC_MAGIC, 0x06, struct orbit_call_req)
#define ORBIT_IOC_WAIT		_IOWR(ORBIT_IOC_MAGIC, 0x07, struct orbit_wait)
#define ORBIT_IOC_SPAWNER	_IOW(ORBIT_IOC_MAGIC, 0x08, struct orbit_spawner)
#define ORBIT_IOC_PULL		_IOWR(ORBIT_IOC_MAGIC, 0x09, struct orbit_pull)
#define ORBIT_IOC_CHECK		_IOWR(ORBIT_IOC_MAGIC, 0x0a, struct orbit_check)
#define ORBIT_IOC_RESPAWN	_IOWR(ORBIT_IOC_MAGIC, 0x0b, struct orbit_respawn)
#define ORBIT_IOC_CANCEL	_IOW(ORBIT_IOC_MAGIC, 0x0c, struct orbit_cancel)
#define ORBIT_IOC_QUERY		_IOWR(ORBIT_IOC_MAGIC, 0x0d, struct orbit_query)
#define ORBIT_IOC_AREA_MODE	_IOW(ORBIT_IOC_MAGIC, 0x0e, struct orbit_area_mode)
#define ORBIT_IOC_AREA_DISCARD	_IOW(ORBIT_IOC_MAGIC, 0x0f, struct orbit_area_discard)
#define ORBIT_IOC_ATTACH	_IOWR(ORBIT_IOC_MAGIC, 0x10, struct orbit_attach)
#define ORBIT_IOC_RUN		_IOWR(ORBIT_IOC_MAGIC, 0x11, struct orbit_run)
#define ORBIT_IOC_PUSH		_IOW(ORBIT_IOC_MAGIC, 0x12, struct orbit_push)
#define ORBIT_IOC_STATS		_IOR(ORBIT_IOC_MAGIC, 0x20, struct orbit_stats)
#define ORBIT_IOC_LIST		_IOWR(ORBIT_IOC_MAGIC, 0x21, struct orbit_list)

#endif /* _UAPI_LINUX_ORBIT_H */
