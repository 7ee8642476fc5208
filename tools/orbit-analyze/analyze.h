/* SPDX-License-Identifier: GPL-2.0 */
/*
 * orbit-analyze: finds the allocation points whose objects an orbit task
 * reads (they must move into an orbit area), and writes the patch.
 *
 * Files: orbit-analyze.c (options, loading, reports), cx.c (libclang
 * helpers: text, tokens, locations, a walk with ancestors), task.c (what
 * the tasks read), sites.c (allocation and free sites in main's code),
 * base.c (the allocators the needed points reach through wrappers),
 * fix.c (the --fix patch).
 */
#ifndef ORBIT_ANALYZE_H
#define ORBIT_ANALYZE_H

#include <clang-c/Index.h>
#include <stddef.h>

#define MAX_STACK	256

/* ---- cx.c ---- */
struct loc {
	const char *file;	/* interned, as the user names it */
	unsigned int line, col, off;
};

struct walk;
/* Called for every cursor below the root, its ancestors in w. */
typedef void (*walk_fn)(struct walk *w, CXCursor c, void *arg);

struct walk {
	CXCursor stack[MAX_STACK];	/* stack[0] the root ... parent */
	int depth;
	walk_fn fn;
	void *arg;
};

void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *cx_string(CXString s);
const char *intern(const char *s);
const char *display_path(const char *abs);

struct loc cursor_loc(CXCursor c);
struct loc cursor_end(CXCursor c);
int in_user_code(CXCursor c);
char *cursor_text(CXCursor c);
char *cursor_usr(CXCursor c);
char *cursor_name(CXCursor c);
CXCursor strip(CXCursor c);
int child_count(CXCursor c);
CXCursor child(CXCursor c, int i);
int is_assign(CXCursor c);
int is_deref(CXCursor c);
int is_null(CXCursor c);
char *record_usr(CXType t, char **spelling);
int is_global_var(CXCursor decl);
void walk_tree(CXCursor root, walk_fn fn, void *arg);
CXCursor walk_parent(struct walk *w, int up);
const char *file_text(const char *file, size_t *len);

/* ---- the analysis' findings ---- */
struct need {			/* a record type a task dereferences */
	char *usr, *type;
	char *path;		/* the expression that dereferences it */
	struct loc at;
	char *task;
};

struct global_read {
	char *usr, *name, *type;
	struct loc decl, at;
	char *task;
};

struct alloc {
	struct loc at, end;		/* the call's extent */
	struct loc callee_end;		/* end of the callee's name */
	char *callee, *text, *func;	/* function, call text, enclosing */
	char *callee_usr;		/* the allocator's, for base.c */
	char *dest, *dest_type, *dest_usr;	/* where the result goes */
	int needed;			/* dest_usr is needed */
	const char *excluded;		/* why not, when it is not */
	int need_idx;
};

struct base {			/* a base allocator call (base.c) */
	struct loc at;
	char *text, *func;
	char *via;		/* the wrappers that lead to it */
	int points;		/* needed points that reach it */
};

struct freesite {
	struct loc at, callee_end;
	char *arg;			/* the freed expression, as written */
	char *func;
};

struct callsite {		/* an orbit_call*() or orbit_create*() */
	struct loc at, end;
	int create;
	char *areas;		/* the areas argument's variable, or NULL */
	char *func;		/* the enclosing function */
};

struct stack_obj {		/* a local whose bytes a call copies */
	struct loc at, decl;
	char *name, *type, *func;
};

struct analysis {
	/* options */
	char **allocators;	/* malloc-like names, NULL-terminated list */
	int nallocators;
	char **tasks;		/* --task names; none: every task found */
	int ntasks;
	/* translation units */
	CXIndex index;
	CXTranslationUnit *tus;
	int ntus;
	/* function definitions over all units */
	struct fdef { char *usr, *name; CXCursor def; } *fdefs;
	int nfdefs;
	/* findings */
	char **task_names;	/* the task entry points analysed */
	int ntask_names;
	char **orbit_side;	/* USRs of functions that run in an orbit */
	int norbit_side;
	struct need *needs;
	int nneeds;
	struct global_read *globals;
	int nglobals;
	struct callsite *calls;
	int ncalls;
	struct stack_obj *stack;
	int nstack;
	struct alloc *allocs;
	int nallocs;
	struct freesite *frees;
	int nfrees;
	char **wrappers;	/* detected allocator wrappers */
	int nwrappers;
	struct base *bases;
	int nbases;
};

/* ---- task.c ---- */
void collect_defs(struct analysis *a);
void collect_calls(struct analysis *a);
void analyse_tasks(struct analysis *a);
int is_orbit_side(struct analysis *a, const char *usr);
const struct fdef *find_def(struct analysis *a, const char *usr);

/* ---- sites.c ---- */
int is_std_allocator(const char *name);
int is_allocator(struct analysis *a, const char *name);
void collect_sites(struct analysis *a);

/* ---- base.c ---- */
void collect_bases(struct analysis *a);

/* ---- fix.c ---- */
int write_fix(struct analysis *a);

#endif
