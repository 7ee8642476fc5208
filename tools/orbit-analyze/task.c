// SPDX-License-Identifier: GPL-2.0
/*
 * What the tasks read.  The tasks are the functions a program hands to
 * orbit_create*() (entry and init) and to orbit_call*() (func_once), or
 * those named with --task.  From each, through every function it calls
 * that the sources define, the analysis records
 *  - each record type the task dereferences through a pointer (p->f,
 *    *p, p[i]): objects of that type that the task reaches live in main's
 *    memory and must be in an area, unless the pointer is the task's own
 *    argument buffer or store, or a variable initialised from them (their
 *    memory is the orbit's);
 *  - each global (or static) variable it reads: the orbit gets a fresh
 *    copy of those at its creation.
 * Every function visited runs in the orbit: allocations there are the
 * orbit's own and never reported.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"

static void add_str(char ***v, int *n, const char *s)
{
	*v = xrealloc(*v, sizeof(**v) * (*n + 1));
	(*v)[(*n)++] = xstrdup(s);
}

static int has_str(char **v, int n, const char *s)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return 1;
	return 0;
}

const struct fdef *find_def(struct analysis *a, const char *usr)
{
	int i;

	for (i = 0; i < a->nfdefs; i++)
		if (!strcmp(a->fdefs[i].usr, usr))
			return &a->fdefs[i];
	return NULL;
}

int is_orbit_side(struct analysis *a, const char *usr)
{
	return has_str(a->orbit_side, a->norbit_side, usr);
}

static void def_cb(struct walk *w, CXCursor c, void *arg)
{
	struct analysis *a = arg;
	struct fdef *d;
	char *usr;

	if (clang_getCursorKind(c) != CXCursor_FunctionDecl ||
	    !clang_isCursorDefinition(c) || !in_user_code(c))
		return;
	usr = cursor_usr(c);
	if (find_def(a, usr)) {
		free(usr);
		return;
	}
	a->fdefs = xrealloc(a->fdefs, sizeof(*a->fdefs) * (a->nfdefs + 1));
	d = &a->fdefs[a->nfdefs++];
	d->usr = usr;
	d->name = cursor_name(c);
	d->def = c;
}

void collect_defs(struct analysis *a)
{
	int i;

	for (i = 0; i < a->ntus; i++)
		walk_tree(clang_getTranslationUnitCursor(a->tus[i]), def_cb, a);
}

/* The enclosing function's name, from a walk's ancestors. */
static char *enclosing(struct walk *w)
{
	int i;

	for (i = w->depth - 1; i >= 0; i--)
		if (clang_getCursorKind(w->stack[i]) == CXCursor_FunctionDecl)
			return cursor_name(w->stack[i]);
	return xstrdup("");
}

/* A function named by an argument: its USR, else NULL. */
static char *func_arg(CXCursor call, int i)
{
	CXCursor c = strip(clang_Cursor_getArgument(call, i)), ref;

	if (clang_getCursorKind(c) != CXCursor_DeclRefExpr)
		return NULL;
	ref = clang_getCursorReferenced(c);
	if (clang_getCursorKind(ref) != CXCursor_FunctionDecl)
		return NULL;
	return cursor_usr(ref);
}

/* The variable an areas argument names (&area -> "area"), else NULL. */
static char *areas_arg(CXCursor call, int i)
{
	CXCursor c = strip(clang_Cursor_getArgument(call, i));
	char *t;

	if (is_null(c))
		return NULL;
	t = cursor_text(c);
	if (t[0] == '&') {
		char *v = xstrdup(t + 1);

		free(t);
		return v;
	}
	free(t);
	return NULL;
}

/*
 * The call's argument is &local of a structure or array: its bytes are
 * copied into the task's argument buffer, so any pointer in it must point
 * into an area (a pointer local, &p, passes p's value: the object p
 * points to is found as an allocation).
 */
static void stack_arg(struct analysis *a, CXCursor call, int i,
		      const char *func)
{
	CXCursor c = strip(clang_Cursor_getArgument(call, i)), ref;
	enum CXTypeKind k;
	struct stack_obj *o;

	if (clang_getCursorKind(c) != CXCursor_UnaryOperator ||
	    !child_count(c))
		return;
	ref = strip(child(c, 0));
	if (clang_getCursorKind(ref) != CXCursor_DeclRefExpr)
		return;
	ref = clang_getCursorReferenced(ref);
	if (clang_getCursorKind(ref) != CXCursor_VarDecl ||
	    is_global_var(ref))
		return;
	k = clang_getCanonicalType(clang_getCursorType(ref)).kind;
	if (k != CXType_Record && k != CXType_ConstantArray)
		return;
	a->stack = xrealloc(a->stack, sizeof(*a->stack) * (a->nstack + 1));
	o = &a->stack[a->nstack++];
	o->at = cursor_loc(c);
	o->decl = cursor_loc(ref);
	o->name = cursor_name(ref);
	o->type = cx_string(clang_getTypeSpelling(clang_getCursorType(ref)));
	o->func = xstrdup(func);
}

static void call_cb(struct walk *w, CXCursor c, void *arg)
{
	static const struct { const char *name; int create, func, init, areas; } api[] = {
		{ "orbit_create", 1, 1, 2, -1 },
		{ "orbit_create_ex", 1, 1, 2, -1 },
		{ "orbit_call", 0, 3, -1, 2 },
		{ "orbit_call_async", 0, 4, -1, 3 },
	};
	struct analysis *a = arg;
	struct callsite *s;
	char *name, *usr;
	size_t k;

	if (clang_getCursorKind(c) != CXCursor_CallExpr || !in_user_code(c))
		return;
	name = cursor_name(c);
	for (k = 0; k < sizeof(api) / sizeof(api[0]); k++)
		if (!strcmp(name, api[k].name))
			break;
	free(name);
	if (k == sizeof(api) / sizeof(api[0]) ||
	    clang_Cursor_getNumArguments(c) <= api[k].func)
		return;
	a->calls = xrealloc(a->calls, sizeof(*a->calls) * (a->ncalls + 1));
	s = &a->calls[a->ncalls++];
	s->at = cursor_loc(c);
	s->end = cursor_end(c);
	s->create = api[k].create;
	s->areas = api[k].areas >= 0 ? areas_arg(c, api[k].areas) : NULL;
	s->func = enclosing(w);
	if (!s->create)
		stack_arg(a, c, api[k].func + 1, s->func);
	usr = func_arg(c, api[k].func);
	if (usr && !has_str(a->task_names, a->ntask_names, usr))
		add_str(&a->task_names, &a->ntask_names, usr);
	free(usr);
	usr = api[k].init >= 0 ? func_arg(c, api[k].init) : NULL;
	if (usr && !has_str(a->task_names, a->ntask_names, usr))
		add_str(&a->task_names, &a->ntask_names, usr);
	free(usr);
}

void collect_calls(struct analysis *a)
{
	int i;

	for (i = 0; i < a->ntus; i++)
		walk_tree(clang_getTranslationUnitCursor(a->tus[i]), call_cb, a);
}

/* ---- one function of a task, with the parameters that are safe ---- */
struct fnwalk {
	struct analysis *a;
	const char *task;
	CXCursor *alias;	/* the argument buffer, the store, and copies */
	int nalias;
	struct typed { CXCursor decl; CXType t; } *typed;
	int ntyped;		/* pointers cast from a record pointer */
	struct work *work;
};

struct work {
	struct item { char *usr; unsigned int mask; } *v;
	int n, done;
};

static void push_work(struct work *wk, const char *usr, unsigned int mask)
{
	int i;

	for (i = 0; i < wk->n; i++)
		if (!strcmp(wk->v[i].usr, usr) && wk->v[i].mask == mask)
			return;
	wk->v = xrealloc(wk->v, sizeof(*wk->v) * (wk->n + 1));
	wk->v[wk->n].usr = xstrdup(usr);
	wk->v[wk->n].mask = mask;
	wk->n++;
}

static int is_alias(struct fnwalk *f, CXCursor c)
{
	CXCursor ref;
	int i;

	c = strip(c);
	if (clang_getCursorKind(c) != CXCursor_DeclRefExpr)
		return 0;
	ref = clang_getCursorReferenced(c);
	for (i = 0; i < f->nalias; i++)
		if (clang_equalCursors(ref, f->alias[i]))
			return 1;
	return 0;
}

static void add_alias(struct fnwalk *f, CXCursor decl)
{
	f->alias = xrealloc(f->alias, sizeof(*f->alias) * (f->nalias + 1));
	f->alias[f->nalias++] = decl;
}

/*
 * The record pointer type an expression's pointer comes from: its own, or
 * for a variable set from a cast record pointer (char *p = (char *)rows)
 * that one's, through pointer arithmetic.  0 when none, or when it points
 * into the orbit's own argument buffer or store.
 */
static int origin(struct fnwalk *f, CXCursor e, CXType *out)
{
	CXCursor s = strip(e), ref;
	CXType t = clang_getCursorType(s);
	char *usr;
	int i;

	if (is_alias(f, s))
		return 0;
	if (t.kind == CXType_Pointer) {
		usr = record_usr(t, NULL);
		if (usr) {
			free(usr);
			*out = t;
			return 1;
		}
	}
	if (clang_getCursorKind(s) == CXCursor_DeclRefExpr) {
		ref = clang_getCursorReferenced(s);
		for (i = 0; i < f->ntyped; i++) {
			if (clang_equalCursors(ref, f->typed[i].decl)) {
				*out = f->typed[i].t;
				return 1;
			}
		}
		return 0;
	}
	if (clang_getCursorKind(s) == CXCursor_BinaryOperator &&
	    t.kind == CXType_Pointer && child_count(s) == 2)
		return origin(f, child(s, 0), out) ||
		       origin(f, child(s, 1), out);
	return 0;
}

/* The library's own types are never the program's allocations. */
static int library_type(const char *spelling)
{
	return !strncmp(spelling, "struct orbit_", 13) ||
	       !strncmp(spelling, "const struct orbit_", 19);
}

/*
 * A pointer to something other than a record, read from a field or a
 * global (it->name, g_buf): that field or variable is what main must
 * point into an area.  Its USR and type, or NULL.
 */
static char *pointer_sink(struct fnwalk *f, CXCursor base, char **sp)
{
	CXCursor s = strip(base), ref;
	enum CXCursorKind k = clang_getCursorKind(s);

	if (clang_getCursorType(s).kind != CXType_Pointer || is_alias(f, s) ||
	    (k != CXCursor_MemberRefExpr && k != CXCursor_DeclRefExpr))
		return NULL;
	ref = clang_getCursorReferenced(s);
	if (clang_getCursorKind(ref) != CXCursor_FieldDecl &&
	    !is_global_var(ref))
		return NULL;
	*sp = cx_string(clang_getTypeSpelling(clang_getCursorType(ref)));
	return cursor_usr(ref);
}

/* base is dereferenced by c: note its record type, unless it is safe. */
static void deref(struct fnwalk *f, CXCursor c, CXCursor base)
{
	struct analysis *a = f->a;
	struct need *n;
	char *usr = NULL, *sp = NULL;
	CXType t;
	int i;

	if (origin(f, base, &t))
		usr = record_usr(t, &sp);
	else
		usr = pointer_sink(f, base, &sp);
	if (!usr)
		return;
	if (library_type(sp)) {
		free(usr);
		free(sp);
		return;
	}
	for (i = 0; i < a->nneeds; i++) {
		if (!strcmp(a->needs[i].usr, usr)) {
			free(usr);
			free(sp);
			return;
		}
	}
	a->needs = xrealloc(a->needs, sizeof(*a->needs) * (a->nneeds + 1));
	n = &a->needs[a->nneeds++];
	n->usr = usr;
	n->type = sp;
	n->path = cursor_text(c);
	n->at = cursor_loc(c);
	n->task = xstrdup(f->task);
}

static void global_read(struct fnwalk *f, CXCursor c, CXCursor decl)
{
	struct analysis *a = f->a;
	struct global_read *g;
	char *usr = cursor_usr(decl);
	int i;

	for (i = 0; i < a->nglobals; i++) {
		if (!strcmp(a->globals[i].usr, usr)) {
			free(usr);
			return;
		}
	}
	a->globals = xrealloc(a->globals,
			      sizeof(*a->globals) * (a->nglobals + 1));
	g = &a->globals[a->nglobals++];
	g->usr = usr;
	g->name = cursor_name(decl);
	g->type = cx_string(clang_getTypeSpelling(clang_getCursorType(decl)));
	g->decl = cursor_loc(decl);
	g->at = cursor_loc(c);
	g->task = xstrdup(f->task);
}

static void fn_cb(struct walk *w, CXCursor c, void *arg)
{
	struct fnwalk *f = arg;
	enum CXCursorKind k = clang_getCursorKind(c);
	CXCursor ref, last;
	char *usr;
	int i, n;

	switch (k) {
	case CXCursor_VarDecl:
		n = child_count(c);
		last = n ? child(c, n - 1) : clang_getNullCursor();
		if (!n || !clang_isExpression(clang_getCursorKind(last)))
			break;
		if (is_alias(f, last)) {
			add_alias(f, c);
		} else if (clang_getCursorType(c).kind == CXType_Pointer) {
			CXType t;

			if (origin(f, last, &t)) {
				f->typed = xrealloc(f->typed, sizeof(*f->typed) *
						    (f->ntyped + 1));
				f->typed[f->ntyped].decl = c;
				f->typed[f->ntyped].t = t;
				f->ntyped++;
			}
		}
		break;
	case CXCursor_CallExpr:
		ref = clang_getCursorReferenced(c);
		if (clang_getCursorKind(ref) != CXCursor_FunctionDecl)
			break;
		usr = cursor_usr(ref);
		if (!find_def(f->a, usr)) {
			/* A library function reads (or writes) what it is given. */
			n = clang_Cursor_getNumArguments(c);
			for (i = 0; i < n; i++)
				deref(f, c, clang_Cursor_getArgument(c, i));
		} else {
			unsigned int mask = 0;

			n = clang_Cursor_getNumArguments(c);
			for (i = 0; i < n && i < 32; i++)
				if (is_alias(f, clang_Cursor_getArgument(c, i)))
					mask |= 1U << i;
			push_work(f->work, usr, mask);
		}
		free(usr);
		break;
	case CXCursor_MemberRefExpr:
	case CXCursor_ArraySubscriptExpr:
		if (child_count(c))
			deref(f, c, child(c, 0));
		break;
	case CXCursor_UnaryOperator:
		if (is_deref(c) && child_count(c))
			deref(f, c, child(c, 0));
		break;
	case CXCursor_DeclRefExpr:
		ref = clang_getCursorReferenced(c);
		if (is_global_var(ref) && in_user_code(ref))
			global_read(f, c, ref);
		break;
	default:
		break;
	}
}

static void analyse_fn(struct analysis *a, const char *task,
		       const struct fdef *d, unsigned int mask,
		       struct work *wk)
{
	struct fnwalk f = { a, task, NULL, 0, NULL, 0, wk };
	int i, n = clang_Cursor_getNumArguments(d->def);

	for (i = 0; i < n && i < 32; i++)
		if (mask & (1U << i))
			add_alias(&f, clang_Cursor_getArgument(d->def, i));
	if (!is_orbit_side(a, d->usr))
		add_str(&a->orbit_side, &a->norbit_side, d->usr);
	walk_tree(d->def, fn_cb, &f);
	free(f.alias);
	free(f.typed);
}

static int selected(struct analysis *a, const char *name)
{
	int i;

	if (!a->ntasks)
		return 1;
	for (i = 0; i < a->ntasks; i++)
		if (!strcmp(a->tasks[i], name))
			return 1;
	return 0;
}

void analyse_tasks(struct analysis *a)
{
	int t, i;

	/* --task names a function the calls do not show: add it. */
	for (i = 0; i < a->ntasks; i++)
		for (t = 0; t < a->nfdefs; t++)
			if (!strcmp(a->fdefs[t].name, a->tasks[i]) &&
			    !has_str(a->task_names, a->ntask_names,
				     a->fdefs[t].usr))
				add_str(&a->task_names, &a->ntask_names,
					a->fdefs[t].usr);
	for (t = 0; t < a->ntask_names; t++) {
		const struct fdef *d = find_def(a, a->task_names[t]);
		struct work wk = { NULL, 0, 0 };

		if (!d || !selected(a, d->name))
			continue;
		/* A task's argument buffer and store are the orbit's. */
		push_work(&wk, d->usr, 3);
		while (wk.done < wk.n) {
			struct item it = wk.v[wk.done++];
			const struct fdef *f = find_def(a, it.usr);

			if (f)
				analyse_fn(a, d->name, f, it.mask, &wk);
		}
		for (i = 0; i < wk.n; i++)
			free(wk.v[i].usr);
		free(wk.v);
	}
}
