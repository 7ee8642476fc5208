// SPDX-License-Identifier: GPL-2.0
/*
 * Allocation and free sites in main's code (every function the tasks do
 * not reach).  An allocation is a call of malloc, calloc, realloc,
 * strdup, strndup, aligned_alloc, a name given with --alloc, or a
 * detected wrapper (a function that returns what it allocated).  Where
 * its result goes decides whether a task needs it: the variable, field or
 * cast it is stored to has a pointer type, and when that points to a
 * record type the tasks dereference, the object must live in an area.
 *
 * An allocation on one side of an if/else whose other side creates or
 * calls an orbit and whose own side does neither (a program's thread or
 * fork mode next to its orbit mode) is left out: the orbit never sees it.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"

static const char *const std_allocators[] = {
	"malloc", "calloc", "realloc", "strdup", "strndup", "aligned_alloc",
};

int is_std_allocator(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(std_allocators) / sizeof(std_allocators[0]); i++)
		if (!strcmp(name, std_allocators[i]))
			return 1;
	return 0;
}

int is_allocator(struct analysis *a, const char *name)
{
	int k;

	if (is_std_allocator(name))
		return 1;
	for (k = 0; k < a->nallocators; k++)
		if (!strcmp(name, a->allocators[k]))
			return 1;
	for (k = 0; k < a->nwrappers; k++)
		if (!strcmp(name, a->wrappers[k]))
			return 1;
	return 0;
}

/* The function being walked through: its cursor, or a null cursor. */
static CXCursor enclosing_fn(struct walk *w)
{
	int i;

	for (i = w->depth - 1; i >= 0; i--)
		if (clang_getCursorKind(w->stack[i]) == CXCursor_FunctionDecl)
			return w->stack[i];
	return clang_getNullCursor();
}

struct dest {
	char *text, *type, *usr;
	char *ref_usr;		/* the field or variable stored to */
	int returned;
	CXCursor var;		/* a local or global the result is stored to */
};

static char *ref_usr(CXCursor e)
{
	CXCursor s = strip(e);
	enum CXCursorKind k = clang_getCursorKind(s);

	if (k != CXCursor_MemberRefExpr && k != CXCursor_DeclRefExpr)
		return NULL;
	return cursor_usr(clang_getCursorReferenced(s));
}

/* Where the value of the call being visited goes. */
static struct dest find_dest(struct walk *w)
{
	struct dest d = { NULL, NULL, NULL, NULL, 0, clang_getNullCursor() };
	int up;

	for (up = 0; up < w->depth - 1; up++) {
		CXCursor p = walk_parent(w, up), lhs;
		enum CXCursorKind k = clang_getCursorKind(p);
		CXType t;

		if (k == CXCursor_UnexposedExpr || k == CXCursor_ParenExpr ||
		    k == CXCursor_ConditionalOperator)
			continue;
		if (k == CXCursor_CStyleCastExpr) {
			t = clang_getCursorType(p);
			if (!d.usr)
				d.usr = record_usr(t, &d.type);
			continue;
		}
		if (k == CXCursor_BinaryOperator && is_assign(p)) {
			lhs = child(p, 0);
			d.text = cursor_text(lhs);
			d.ref_usr = ref_usr(lhs);
			if (!d.usr)
				d.usr = record_usr(clang_getCursorType(lhs),
						   &d.type);
			if (clang_getCursorKind(strip(lhs)) ==
			    CXCursor_DeclRefExpr)
				d.var = clang_getCursorReferenced(strip(lhs));
		} else if (k == CXCursor_VarDecl) {
			d.text = cursor_name(p);
			d.ref_usr = cursor_usr(p);
			if (!d.usr)
				d.usr = record_usr(clang_getCursorType(p),
						   &d.type);
			d.var = p;
		} else if (k == CXCursor_ReturnStmt) {
			d.returned = 1;
		}
		break;
	}
	return d;
}

/*
 * An allocation stored to an untyped pointer (void *, char *) gets its
 * type where the pointer is cast to a record pointer: in the function
 * that stores it, or in a function it is passed to, up to CAST_DEPTH
 * calls down (memcached carves items out of a char * slab page in a
 * callee of a callee).
 */
#define CAST_DEPTH	3

struct cast_scan {
	CXCursor var;		/* the local or parameter followed */
	int depth;
	char *usr, *type;	/* the first record pointer it is cast to */
};

static void cast_find(CXCursor fn, CXCursor var, int depth,
		      struct cast_scan *out);

static int refers_to(CXCursor e, CXCursor var)
{
	e = strip(e);
	return clang_getCursorKind(e) == CXCursor_DeclRefExpr &&
	       clang_equalCursors(clang_getCursorReferenced(e), var);
}

/* The parameter i of the function a call calls, with its definition. */
static CXCursor callee_param(CXCursor call, int i, CXCursor *def)
{
	CXCursor f = clang_getCursorReferenced(call);

	*def = clang_getCursorDefinition(f);
	if (clang_Cursor_isNull(*def) ||
	    i >= clang_Cursor_getNumArguments(*def))
		return clang_getNullCursor();
	return clang_Cursor_getArgument(*def, i);
}

static void cast_cb(struct walk *w, CXCursor c, void *arg)
{
	struct cast_scan *s = arg;
	enum CXCursorKind k = clang_getCursorKind(c);
	CXCursor def, param;
	int i, n;

	if (s->usr)
		return;
	if (k == CXCursor_CStyleCastExpr && child_count(c) &&
	    refers_to(child(c, child_count(c) - 1), s->var)) {
		s->usr = record_usr(clang_getCursorType(c), &s->type);
		return;
	}
	if (k != CXCursor_CallExpr || s->depth >= CAST_DEPTH)
		return;
	n = clang_Cursor_getNumArguments(c);
	for (i = 0; i < n && !s->usr; i++) {
		if (!refers_to(clang_Cursor_getArgument(c, i), s->var))
			continue;
		param = callee_param(c, i, &def);
		if (!clang_Cursor_isNull(param))
			cast_find(def, param, s->depth + 1, s);
	}
}

static void cast_find(CXCursor fn, CXCursor var, int depth,
		      struct cast_scan *out)
{
	struct cast_scan s = { var, depth, NULL, NULL };

	walk_tree(fn, cast_cb, &s);
	if (s.usr) {
		out->usr = s.usr;
		out->type = s.type;
	}
}

/* The record an untyped local's allocation is cast to, if any. */
static void dest_by_cast(CXCursor fn, struct dest *d)
{
	CXType t = clang_getCanonicalType(clang_getCursorType(d->var));
	CXType p = clang_getCanonicalType(clang_getPointeeType(t));
	struct cast_scan s = { d->var, 0, NULL, NULL };

	if (d->usr || clang_Cursor_isNull(d->var) || t.kind != CXType_Pointer ||
	    (p.kind != CXType_Void && p.kind != CXType_Char_S &&
	     p.kind != CXType_Char_U && p.kind != CXType_UChar &&
	     p.kind != CXType_SChar) || is_global_var(d->var))
		return;
	cast_find(fn, d->var, 0, &s);
	d->usr = s.usr;
	if (s.usr) {
		free(d->type);
		d->type = s.type;
	}
}

/* ---- pass 1: wrappers (functions that return what they allocated) ---- */
struct wrap_scan {
	struct analysis *a;
	struct pair { CXCursor fn, var; int direct; } *v;
	int n;
	struct pair *ret;	/* (function, variable returned) */
	int nret;
};

static void wrap_cb(struct walk *w, CXCursor c, void *arg)
{
	struct wrap_scan *s = arg;
	enum CXCursorKind k = clang_getCursorKind(c);
	CXCursor fn = enclosing_fn(w), e;
	char *name;

	if (clang_Cursor_isNull(fn) || !in_user_code(c))
		return;
	if (k == CXCursor_ReturnStmt && child_count(c)) {
		e = strip(child(c, 0));
		if (clang_getCursorKind(e) != CXCursor_DeclRefExpr)
			return;
		s->ret = xrealloc(s->ret, sizeof(*s->ret) * (s->nret + 1));
		s->ret[s->nret].fn = fn;
		s->ret[s->nret].var = clang_getCursorReferenced(e);
		s->nret++;
		return;
	}
	if (k != CXCursor_CallExpr)
		return;
	name = cursor_name(c);
	if (is_allocator(s->a, name)) {
		struct dest d = find_dest(w);

		if (d.returned || !clang_Cursor_isNull(d.var)) {
			s->v = xrealloc(s->v, sizeof(*s->v) * (s->n + 1));
			s->v[s->n].fn = fn;
			s->v[s->n].var = d.var;
			s->v[s->n].direct = d.returned;
			s->n++;
		}
		free(d.text);
		free(d.type);
		free(d.usr);
		free(d.ref_usr);
	}
	free(name);
}

static void add_wrapper(struct analysis *a, CXCursor fn)
{
	char *name = cursor_name(fn);
	int i;

	for (i = 0; i < a->nwrappers; i++) {
		if (!strcmp(a->wrappers[i], name)) {
			free(name);
			return;
		}
	}
	a->wrappers = xrealloc(a->wrappers,
			       sizeof(*a->wrappers) * (a->nwrappers + 1));
	a->wrappers[a->nwrappers++] = name;
}

static void find_wrappers(struct analysis *a)
{
	struct wrap_scan s = { a, NULL, 0, NULL, 0 };
	char *name;
	int i, j;

	for (i = 0; i < a->ntus; i++)
		walk_tree(clang_getTranslationUnitCursor(a->tus[i]), wrap_cb,
			  &s);
	for (i = 0; i < s.n; i++) {
		char *usr = cursor_usr(s.v[i].fn);
		int hit = s.v[i].direct;

		for (j = 0; j < s.nret && !hit; j++)
			hit = clang_equalCursors(s.ret[j].fn, s.v[i].fn) &&
			      clang_equalCursors(s.ret[j].var, s.v[i].var) &&
			      !is_global_var(s.v[i].var);
		name = cursor_name(s.v[i].fn);
		if (hit && !is_orbit_side(a, usr) && strcmp(name, "main"))
			add_wrapper(a, s.v[i].fn);
		free(name);
		free(usr);
	}
	free(s.v);
	free(s.ret);
}

/* ---- pass 2: allocation and free sites ---- */
static int is_wrapper_fn(struct analysis *a, CXCursor fn)
{
	char *name = cursor_name(fn);
	int i, r = 0;

	for (i = 0; i < a->nwrappers && !r; i++)
		r = !strcmp(a->wrappers[i], name);
	free(name);
	return r;
}

/* Does [lo, hi) of file hold an orbit_create*() or orbit_call*() call? */
static int orbit_site_in(struct analysis *a, const char *file,
			 unsigned int lo, unsigned int hi)
{
	int i;

	for (i = 0; i < a->ncalls; i++)
		if (a->calls[i].at.file == file &&
		    a->calls[i].at.off >= lo && a->calls[i].at.off < hi)
			return 1;
	return 0;
}

/* Why an allocation at this point of the walk is not on an orbit's path. */
static const char *off_orbit_path(struct analysis *a, struct walk *w,
				  CXCursor call)
{
	int i;

	for (i = 1; i < w->depth; i++) {
		CXCursor p = w->stack[i], mine, other;

		if (clang_getCursorKind(p) != CXCursor_IfStmt ||
		    child_count(p) < 3)
			continue;
		mine = i + 1 < w->depth ? w->stack[i + 1] : call;
		if (clang_equalCursors(mine, child(p, 1)))
			other = child(p, 2);
		else if (clang_equalCursors(mine, child(p, 2)))
			other = child(p, 1);
		else
			continue;
		if (orbit_site_in(a, cursor_loc(other).file,
				  cursor_loc(other).off, cursor_end(other).off) &&
		    !orbit_site_in(a, cursor_loc(mine).file,
				   cursor_loc(mine).off, cursor_end(mine).off))
			return "on the side of an if/else that neither creates nor calls an orbit; the other side does";
	}
	return NULL;
}

static int need_of(struct analysis *a, const char *usr)
{
	int i;

	for (i = 0; usr && i < a->nneeds; i++)
		if (!strcmp(a->needs[i].usr, usr))
			return i;
	return -1;
}

static int seen_at(struct analysis *a, struct loc l)
{
	int i;

	for (i = 0; i < a->nallocs; i++)
		if (a->allocs[i].at.file == l.file && a->allocs[i].at.off == l.off)
			return 1;
	for (i = 0; i < a->nfrees; i++)
		if (a->frees[i].at.file == l.file && a->frees[i].at.off == l.off)
			return 1;
	return 0;
}

static void site_cb(struct walk *w, CXCursor c, void *arg)
{
	struct analysis *a = arg;
	CXCursor fn;
	struct loc at;
	char *name, *usr;

	if (clang_getCursorKind(c) != CXCursor_CallExpr || !in_user_code(c))
		return;
	fn = enclosing_fn(w);
	if (clang_Cursor_isNull(fn))
		return;
	name = cursor_name(c);
	if (!is_allocator(a, name) && strcmp(name, "free")) {
		free(name);
		return;
	}
	usr = cursor_usr(fn);
	at = cursor_loc(c);
	if (is_orbit_side(a, usr) || is_wrapper_fn(a, fn) || seen_at(a, at)) {
		free(usr);
		free(name);
		return;
	}
	free(usr);
	if (!strcmp(name, "free")) {
		struct freesite *f;

		free(name);
		if (clang_Cursor_getNumArguments(c) != 1)
			return;
		a->frees = xrealloc(a->frees, sizeof(*a->frees) * (a->nfrees + 1));
		f = &a->frees[a->nfrees++];
		f->at = at;
		f->callee_end = cursor_end(child(c, 0));
		f->arg = cursor_text(strip(clang_Cursor_getArgument(c, 0)));
		f->func = cursor_name(fn);
		return;
	}
	{
		struct dest d = find_dest(w);
		struct alloc *s;

		dest_by_cast(fn, &d);

		a->allocs = xrealloc(a->allocs,
				     sizeof(*a->allocs) * (a->nallocs + 1));
		s = &a->allocs[a->nallocs++];
		memset(s, 0, sizeof(*s));
		s->at = at;
		s->end = cursor_end(c);
		s->callee_end = cursor_end(child(c, 0));
		s->callee = name;
		s->callee_usr = cursor_usr(clang_getCursorReferenced(c));
		s->text = cursor_text(c);
		s->func = cursor_name(fn);
		s->dest = d.text ? d.text : xstrdup("");
		s->dest_type = d.type ? d.type : xstrdup("");
		s->dest_usr = d.usr;
		s->need_idx = need_of(a, d.usr);
		if (s->need_idx < 0)
			s->need_idx = need_of(a, d.ref_usr);
		free(d.ref_usr);
		s->excluded = off_orbit_path(a, w, c);
		s->needed = s->need_idx >= 0 && !s->excluded;
	}
}

void collect_sites(struct analysis *a)
{
	int i;

	find_wrappers(a);
	for (i = 0; i < a->ntus; i++)
		walk_tree(clang_getTranslationUnitCursor(a->tus[i]), site_cb, a);
}
