// SPDX-License-Identifier: GPL-2.0
/*
 * Base allocators: the malloc, calloc, realloc, strdup, ... calls that
 * the needed allocation points reach through wrappers (a detected wrapper
 * or a name given with --alloc whose definition is among the sources).
 * A program whose objects all come from one allocator (Redis's zmalloc,
 * memcached's slab pages) is ported by switching that allocator to an
 * area, as the hand-made ports do; these are the lines to switch.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "analyze.h"

#define BASE_DEPTH	4	/* wrappers of wrappers followed */

static void base_add(struct analysis *a, CXCursor call, CXCursor fn,
		     const char *via)
{
	struct loc at = cursor_loc(call);
	struct base *b;
	int i;

	for (i = 0; i < a->nbases; i++) {
		b = &a->bases[i];
		if (b->at.file == at.file && b->at.off == at.off) {
			b->points++;
			if (!strstr(b->via, via)) {
				b->via = xrealloc(b->via, strlen(b->via) +
						  strlen(via) + 3);
				strcat(strcat(b->via, ", "), via);
			}
			return;
		}
	}
	a->bases = xrealloc(a->bases, sizeof(*a->bases) * (a->nbases + 1));
	b = &a->bases[a->nbases++];
	b->at = at;
	b->text = cursor_text(call);
	b->func = cursor_name(fn);
	b->via = xstrdup(via);
	b->points = 1;
}

struct base_scan {
	struct analysis *a;
	CXCursor fn;		/* the function being scanned */
	const char *via;	/* the wrapper the needed point calls */
	int depth;
};

static void base_in(struct analysis *a, const char *usr, const char *via,
		    int depth);

/*
 * In a wrapper: every base allocator call, and every call of a function
 * defined in the sources that returns a pointer (the next wrapper down).
 */
static void base_cb(struct walk *w, CXCursor c, void *arg)
{
	struct base_scan *s = arg;
	CXCursor callee;
	CXType rt;
	char *name, *usr;

	if (clang_getCursorKind(c) != CXCursor_CallExpr)
		return;
	name = cursor_name(c);
	callee = clang_getCursorReferenced(c);
	if (is_std_allocator(name)) {
		base_add(s->a, c, s->fn, s->via);
	} else if (!clang_Cursor_isNull(callee)) {
		rt = clang_getCanonicalType(clang_getCursorResultType(callee));
		usr = cursor_usr(callee);
		if (rt.kind == CXType_Pointer)
			base_in(s->a, usr, s->via, s->depth + 1);
		free(usr);
	}
	free(name);
}

static void base_in(struct analysis *a, const char *usr, const char *via,
		    int depth)
{
	const struct fdef *d = find_def(a, usr);
	struct base_scan s = { a, clang_getNullCursor(), via, depth };

	if (!d || depth > BASE_DEPTH)
		return;
	s.fn = d->def;
	walk_tree(d->def, base_cb, &s);
}

void collect_bases(struct analysis *a)
{
	int i;

	for (i = 0; i < a->nallocs; i++) {
		struct alloc *s = &a->allocs[i];

		if (s->needed && s->callee_usr && !is_std_allocator(s->callee))
			base_in(a, s->callee_usr, s->callee, 0);
	}
}
