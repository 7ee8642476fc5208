/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The orbit trace system (tracefs events/orbit/, perf trace -e 'orbit:*',
 * bpftrace tracepoint:orbit:*).  Orbit and call ids are the ones main's
 * context gives them; main is main's pid in the initial namespace.  The
 * clock is read for a duration only while its event is enabled, so the
 * latency of a call issued before orbit_call_done was enabled reads 0.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM orbit

#if !defined(_ORBIT_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _ORBIT_TRACE_H

#include <linux/tracepoint.h>

/* A call was queued: its snapshots' cost (pages frozen, pages copied). */
TRACE_EVENT(orbit_call_issue,
	    TP_PROTO(pid_t main, u32 orbit, u32 call, u32 nareas, u64 frozen,
		     u64 copied, u64 snapshot_ns),
	    TP_ARGS(main, orbit, call, nareas, frozen, copied, snapshot_ns),
	    TP_STRUCT__entry(__field(pid_t, main)
			     __field(u32, orbit)
			     __field(u32, call)
			     __field(u32, nareas)
			     __field(u64, frozen)
			     __field(u64, copied)
			     __field(u64, snapshot_ns)),
	    TP_fast_assign(__entry->main = main;
			   __entry->orbit = orbit;
			   __entry->call = call;
			   __entry->nareas = nareas;
			   __entry->frozen = frozen;
			   __entry->copied = copied;
			   __entry->snapshot_ns = snapshot_ns;),
	    TP_printk("main=%d orbit=%u call=%u areas=%u frozen=%llu copied=%llu snapshot_ns=%llu",
		      __entry->main, __entry->orbit, __entry->call, __entry->nareas,
		      __entry->frozen, __entry->copied, __entry->snapshot_ns)
);

/* A call ended: its result or error, and the time since it was issued. */
TRACE_EVENT(orbit_call_done,
	    TP_PROTO(u32 orbit, u32 call, long retval, int error,
		     u64 latency_ns),
	    TP_ARGS(orbit, call, retval, error, latency_ns),
	    TP_STRUCT__entry(__field(u32, orbit)
			     __field(u32, call)
			     __field(long, retval)
			     __field(int, error)
			     __field(u64, latency_ns)),
	    TP_fast_assign(__entry->orbit = orbit;
			   __entry->call = call;
			   __entry->retval = retval;
			   __entry->error = error;
			   __entry->latency_ns = latency_ns;),
	    TP_printk("orbit=%u call=%u retval=%ld error=%d latency_ns=%llu",
		      __entry->orbit, __entry->call, __entry->retval,
		      __entry->error, __entry->latency_ns)
);

/* An orbit installed a call's snapshots: pages that changed in its views. */
TRACE_EVENT(orbit_install,
	    TP_PROTO(u32 orbit, u32 call, u32 nareas, u64 changed,
		     u64 install_ns),
	    TP_ARGS(orbit, call, nareas, changed, install_ns),
	    TP_STRUCT__entry(__field(u32, orbit)
			     __field(u32, call)
			     __field(u32, nareas)
			     __field(u64, changed)
			     __field(u64, install_ns)),
	    TP_fast_assign(__entry->orbit = orbit;
			   __entry->call = call;
			   __entry->nareas = nareas;
			   __entry->changed = changed;
			   __entry->install_ns = install_ns;),
	    TP_printk("orbit=%u call=%u areas=%u changed=%llu install_ns=%llu",
		      __entry->orbit, __entry->call, __entry->nareas,
		      __entry->changed, __entry->install_ns)
);

/* A generation of an orbit ended (cause: ORBIT_DEATH_*). */
TRACE_EVENT(orbit_death,
	    TP_PROTO(u32 orbit, u32 gen, u32 cause, s32 code, u32 failed_calls),
	    TP_ARGS(orbit, gen, cause, code, failed_calls),
	    TP_STRUCT__entry(__field(u32, orbit)
			     __field(u32, gen)
			     __field(u32, cause)
			     __field(s32, code)
			     __field(u32, failed_calls)),
	    TP_fast_assign(__entry->orbit = orbit;
			   __entry->gen = gen;
			   __entry->cause = cause;
			   __entry->code = code;
			   __entry->failed_calls = failed_calls;),
	    TP_printk("orbit=%u gen=%u cause=%s code=%d failed_calls=%u",
		      __entry->orbit, __entry->gen,
		      __print_symbolic(__entry->cause,
				       { ORBIT_DEATH_EXIT, "exit" },
				       { ORBIT_DEATH_SIGNAL, "signal" },
				       { ORBIT_DEATH_OOM, "oom" },
				       { ORBIT_DEATH_TIMEOUT, "timeout" },
				       { ORBIT_DEATH_DESTROYED, "destroyed" },
				       { ORBIT_DEATH_FAILED, "failed" },
				       { ORBIT_DEATH_EXEC, "exec" },
				       { ORBIT_DEATH_CLOSED, "closed" }),
		      __entry->code, __entry->failed_calls)
);

/* orbit_apply's check refused an entry (kind: ORBIT_CHECK_*). */
TRACE_EVENT(orbit_apply_reject,
	    TP_PROTO(pid_t main, u32 orbit, u32 index, u32 kind, u64 addr,
		     u64 len, int error),
	    TP_ARGS(main, orbit, index, kind, addr, len, error),
	    TP_STRUCT__entry(__field(pid_t, main)
			     __field(u32, orbit)
			     __field(u32, index)
			     __field(u32, kind)
			     __field(u64, addr)
			     __field(u64, len)
			     __field(int, error)),
	    TP_fast_assign(__entry->main = main;
			   __entry->orbit = orbit;
			   __entry->index = index;
			   __entry->kind = kind;
			   __entry->addr = addr;
			   __entry->len = len;
			   __entry->error = error;),
	    TP_printk("main=%d orbit=%u index=%u kind=%s addr=0x%llx len=%llu error=%d",
		      __entry->main, __entry->orbit, __entry->index,
		      __entry->kind == ORBIT_CHECK_AREA ? "modify" :
		      __entry->kind == ORBIT_CHECK_EXEC ? "operation" :
		      __entry->kind == ORBIT_CHECK_MAPPED ? "mapped" : "?",
		      __entry->addr, __entry->len, __entry->error)
);

#endif /* _ORBIT_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE orbit_trace
#include <trace/define_trace.h>
