// SPDX-License-Identifier: GPL-2.0
/*
 * --fix: a unified diff (on stdout) that moves every needed allocation
 * into an area: malloc(n) -> orbit_alloc(area, n), calloc -> orbit_calloc,
 * realloc -> orbit_realloc, and free(p) of what they allocated ->
 * orbit_free(area, p).  The area is the one the program already passes
 * to its orbit calls in that file when there is exactly one, visible
 * where the allocation is; else the patch adds a function that creates
 * one area once (orbit_analyze_area()), and the report asks for it to be
 * named in the calls.  What it cannot rewrite (strdup, wrappers, other
 * allocators) is listed on stderr.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze.h"

#define HELPER_NAME	"orbit_analyze_area()"
#define HELPER								\
	"\n/* orbit-analyze: the area that holds what the orbit's tasks read. */\n" \
	"static struct orbit_area *orbit_analyze_area(void)\n"		\
	"{\n"								\
	"\tstatic struct orbit_area *area;\n"				\
	"\n"								\
	"\tif (!area)\n"						\
	"\t\tarea = orbit_area_create(1 << 20, NULL);\n"		\
	"\treturn area;\n"						\
	"}\n"

struct edit {
	unsigned int off, len;
	char *text;
};

struct fedits {
	struct edit *v;
	int n;
};

static void add_edit(struct fedits *e, unsigned int off, unsigned int len,
		     const char *text)
{
	e->v = xrealloc(e->v, sizeof(*e->v) * (e->n + 1));
	e->v[e->n].off = off;
	e->v[e->n].len = len;
	e->v[e->n].text = xstrdup(text);
	e->n++;
}

static int by_off(const void *x, const void *y)
{
	const struct edit *a = x, *b = y;

	return a->off < b->off ? -1 : a->off > b->off;
}

/* Is name a variable at file scope in file? */
static int file_global(struct analysis *a, const char *file, const char *name)
{
	int i;

	for (i = 0; i < a->ntus; i++) {
		CXCursor tu = clang_getTranslationUnitCursor(a->tus[i]);
		int n = child_count(tu), k;

		for (k = 0; k < n; k++) {
			CXCursor c = child(tu, k);
			char *cn;
			int hit;

			if (clang_getCursorKind(c) != CXCursor_VarDecl ||
			    cursor_loc(c).file != file)
				continue;
			cn = cursor_name(c);
			hit = !strcmp(cn, name);
			free(cn);
			if (hit)
				return 1;
		}
	}
	return 0;
}

/* The area expression to use for an allocation in file, function fn. */
static const char *area_for(struct analysis *a, const char *file,
			    const char *fn)
{
	const char *name = NULL;
	int i;

	for (i = 0; i < a->ncalls; i++) {
		const struct callsite *c = &a->calls[i];

		if (c->at.file != file || !c->areas)
			continue;
		if (name && strcmp(name, c->areas))
			return NULL;	/* several: the user must choose */
		name = c->areas;
	}
	if (!name)
		return NULL;
	for (i = 0; i < a->ncalls; i++)
		if (a->calls[i].at.file == file && a->calls[i].areas &&
		    !strcmp(a->calls[i].func, fn))
			return name;	/* a local of the same function */
	return file_global(a, file, name) ? name : NULL;
}

/* Offset just past the '(' that follows the callee's name. */
static int paren_after(const char *file, unsigned int from, unsigned int *out)
{
	size_t len;
	const char *buf = file_text(file, &len);
	unsigned int i;

	for (i = from; i < len && (buf[i] == ' ' || buf[i] == '\t'); i++)
		;
	if (i >= len || buf[i] != '(')
		return -1;
	*out = i + 1;
	return 0;
}

static const char *orbit_name(const char *callee)
{
	if (!strcmp(callee, "malloc"))
		return "orbit_alloc";
	if (!strcmp(callee, "calloc"))
		return "orbit_calloc";
	if (!strcmp(callee, "realloc"))
		return "orbit_realloc";
	return NULL;
}

static int write_diff(const char *file, const struct fedits *e)
{
	char tmpl[] = "/tmp/orbit-analyze.XXXXXX", cmd[4096];
	const char *buf, *shown = display_path(file);
	unsigned int pos = 0;
	size_t len;
	FILE *fp;
	int fd, i, rc;

	buf = file_text(file, &len);
	fd = mkstemp(tmpl);
	if (fd < 0 || !(fp = fdopen(fd, "w"))) {
		perror("orbit-analyze: temporary file");
		return -1;
	}
	for (i = 0; i < e->n; i++) {
		fwrite(buf + pos, 1, e->v[i].off - pos, fp);
		fputs(e->v[i].text, fp);
		pos = e->v[i].off + e->v[i].len;
	}
	fwrite(buf + pos, 1, len - pos, fp);
	fclose(fp);
	fflush(stdout);
	snprintf(cmd, sizeof(cmd),
		 "diff -u --label 'a/%s' --label 'b/%s' '%s' '%s'",
		 shown, shown, file, tmpl);
	rc = system(cmd);
	unlink(tmpl);
	return rc == -1 ? -1 : 0;
}

int write_fix(struct analysis *a)
{
	const char *files[256];
	int nfiles = 0, i, j, unrewritten = 0;

	for (i = 0; i < a->nallocs; i++) {
		if (!a->allocs[i].needed)
			continue;
		for (j = 0; j < nfiles; j++)
			if (files[j] == a->allocs[i].at.file)
				break;
		if (j == nfiles && nfiles < 256)
			files[nfiles++] = a->allocs[i].at.file;
	}
	for (j = 0; j < nfiles; j++) {
		const char *file = files[j];
		struct fedits e = { NULL, 0 };
		int helper = 0;
		size_t len;
		const char *buf = file_text(file, &len);

		for (i = 0; i < a->nallocs; i++) {
			struct alloc *s = &a->allocs[i];
			const char *area, *nm = orbit_name(s->callee);
			unsigned int p;
			char rep[512];
			int k;

			if (!s->needed || s->at.file != file)
				continue;
			if (!nm || paren_after(file, s->callee_end.off, &p)) {
				fprintf(stderr, "orbit-analyze: %s:%u: cannot rewrite %s: put the object in an area by hand\n",
					display_path(file), s->at.line, s->text);
				unrewritten++;
				continue;
			}
			area = area_for(a, file, s->func);
			if (!area) {
				area = HELPER_NAME;
				helper = 1;
			}
			snprintf(rep, sizeof(rep), "%s(%s, ", nm, area);
			add_edit(&e, s->at.off, p - s->at.off, rep);
			for (k = 0; k < a->nfrees; k++) {
				struct freesite *f = &a->frees[k];

				if (f->at.file != file || strcmp(f->arg, s->dest) ||
				    !s->dest[0] ||
				    paren_after(file, f->callee_end.off, &p))
					continue;
				snprintf(rep, sizeof(rep), "orbit_free(%s, ", area);
				add_edit(&e, f->at.off, p - f->at.off, rep);
				f->arg[0] = 0;	/* rewritten once */
			}
		}
		if (helper) {
			const char *inc = NULL, *q = buf;
			unsigned int at;

			/* After the last #include line. */
			while ((q = strstr(q, "#include")) && q < buf + len) {
				inc = q;
				q += 8;
			}
			at = inc ? (unsigned int)(strchr(inc, '\n') - buf) + 1 : 0;
			add_edit(&e, at, 0, strstr(buf, "orbit.h") ? HELPER :
				 "#include <orbit.h>\n" HELPER);
			for (i = 0; i < a->ncalls; i++)

				if (a->calls[i].at.file == file &&
				    !a->calls[i].create && !a->calls[i].areas)
					fprintf(stderr, "orbit-analyze: %s:%u: name %s in this call's areas\n",
						display_path(file),
						a->calls[i].at.line,
						HELPER_NAME);
		}
		qsort(e.v, e.n, sizeof(*e.v), by_off);
		if (e.n && write_diff(file, &e))
			return -1;
		for (i = 0; i < e.n; i++)
			free(e.v[i].text);
		free(e.v);
	}
	return unrewritten ? 1 : 0;
}
