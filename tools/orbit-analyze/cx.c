// SPDX-License-Identifier: GPL-2.0
/*
 * libclang helpers: strings, source text and locations, tokens (libclang
 * 14 names no operator, so the operator is read from the tokens), types,
 * and a walk that keeps each cursor's ancestors.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze.h"

void *xmalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);

	if (!p) {
		perror("orbit-analyze");
		exit(1);
	}
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		perror("orbit-analyze");
		exit(1);
	}
	return p;
}

char *xstrdup(const char *s)
{
	char *d = strdup(s ? s : "");

	if (!d) {
		perror("orbit-analyze");
		exit(1);
	}
	return d;
}

char *cx_string(CXString s)
{
	char *r = xstrdup(clang_getCString(s));

	clang_disposeString(s);
	return r;
}

/* Interned strings: file names, compared by pointer. */
struct istr {
	struct istr *next;
	char s[];
};

static struct istr *interned;

const char *intern(const char *s)
{
	struct istr *i;

	for (i = interned; i; i = i->next)
		if (!strcmp(i->s, s))
			return i->s;
	i = xmalloc(sizeof(*i) + strlen(s) + 1);
	strcpy(i->s, s);
	i->next = interned;
	interned = i;
	return i->s;
}

/* A path as the user would write it: relative to the working directory. */
const char *display_path(const char *abs)
{
	static char cwd[PATH_MAX];
	size_t n;

	if (!cwd[0] && !getcwd(cwd, sizeof(cwd)))
		return abs;
	n = strlen(cwd);
	if (!strncmp(abs, cwd, n) && abs[n] == '/')
		return abs + n + 1;
	return abs;
}

static struct loc source_loc(CXSourceLocation sl)
{
	struct loc l = { "", 0, 0, 0 };
	char real[PATH_MAX];
	CXFile f;
	char *name;

	clang_getExpansionLocation(sl, &f, &l.line, &l.col, &l.off);
	if (!f)
		return l;
	name = cx_string(clang_getFileName(f));
	l.file = intern(realpath(name, real) ? real : name);
	free(name);
	return l;
}

struct loc cursor_loc(CXCursor c)
{
	return source_loc(clang_getRangeStart(clang_getCursorExtent(c)));
}

struct loc cursor_end(CXCursor c)
{
	return source_loc(clang_getRangeEnd(clang_getCursorExtent(c)));
}

/* Code the program wrote: not a system header, not a builtin. */
int in_user_code(CXCursor c)
{
	CXSourceLocation sl = clang_getCursorLocation(c);
	CXFile f;

	if (clang_Location_isInSystemHeader(sl))
		return 0;
	clang_getExpansionLocation(sl, &f, NULL, NULL, NULL);
	return f != NULL;
}

/* Files read once, for source text and for the patch. */
struct ftext {
	struct ftext *next;
	const char *name;
	char *buf;
	size_t len;
};

static struct ftext *files;

const char *file_text(const char *file, size_t *len)
{
	struct ftext *t;
	FILE *fp;
	long n;

	for (t = files; t; t = t->next)
		if (t->name == file)
			break;
	if (!t) {
		t = xmalloc(sizeof(*t));
		t->name = file;
		fp = fopen(file, "rb");
		if (fp && !fseek(fp, 0, SEEK_END) && (n = ftell(fp)) >= 0 &&
		    !fseek(fp, 0, SEEK_SET)) {
			t->buf = xmalloc((size_t)n + 1);
			t->len = fread(t->buf, 1, (size_t)n, fp);
		}
		if (fp)
			fclose(fp);
		if (!t->buf)
			t->buf = xstrdup("");
		t->next = files;
		files = t;
	}
	*len = t->len;
	return t->buf;
}

/* The cursor's source text (its expansion's, for a macro). */
char *cursor_text(CXCursor c)
{
	struct loc a = cursor_loc(c), b = cursor_end(c);
	const char *buf;
	size_t len;
	char *s;

	if (!a.file[0] || a.file != b.file || b.off < a.off)
		return cx_string(clang_getCursorSpelling(c));
	buf = file_text(a.file, &len);
	if (b.off > len)
		return cx_string(clang_getCursorSpelling(c));
	s = xmalloc(b.off - a.off + 1);
	memcpy(s, buf + a.off, b.off - a.off);
	return s;
}

char *cursor_usr(CXCursor c)
{
	return cx_string(clang_getCursorUSR(c));
}

char *cursor_name(CXCursor c)
{
	return cx_string(clang_getCursorSpelling(c));
}

/* Through implicit conversions, parentheses and casts. */
CXCursor strip(CXCursor c)
{
	for (;;) {
		enum CXCursorKind k = clang_getCursorKind(c);
		int n;

		if (k != CXCursor_UnexposedExpr && k != CXCursor_ParenExpr &&
		    k != CXCursor_CStyleCastExpr)
			return c;
		n = child_count(c);
		if (!n)
			return c;
		c = child(c, n - 1);
	}
}

struct kids {
	int want, n;
	CXCursor found;
};

static enum CXChildVisitResult kid_cb(CXCursor c, CXCursor parent,
				      CXClientData d)
{
	struct kids *k = d;

	if (k->n++ == k->want)
		k->found = c;
	return CXChildVisit_Continue;
}

int child_count(CXCursor c)
{
	struct kids k = { -1, 0, clang_getNullCursor() };

	clang_visitChildren(c, kid_cb, &k);
	return k.n;
}

CXCursor child(CXCursor c, int i)
{
	struct kids k = { i, 0, clang_getNullCursor() };

	clang_visitChildren(c, kid_cb, &k);
	return k.found;
}

/* The spelling of the first token of c at or after offset off. */
static char *token_at(CXCursor c, unsigned int off)
{
	CXTranslationUnit tu = clang_Cursor_getTranslationUnit(c);
	CXToken *t = NULL;
	unsigned int n = 0, i;
	char *s = NULL;

	clang_tokenize(tu, clang_getCursorExtent(c), &t, &n);
	for (i = 0; i < n && !s; i++) {
		unsigned int o;

		clang_getExpansionLocation(clang_getRangeStart(
				clang_getTokenExtent(tu, t[i])),
				NULL, NULL, NULL, &o);
		if (o >= off)
			s = cx_string(clang_getTokenSpelling(tu, t[i]));
	}
	if (t)
		clang_disposeTokens(tu, t, n);
	return s ? s : xstrdup("");
}

int is_assign(CXCursor c)
{
	char *op;
	int r;

	if (clang_getCursorKind(c) != CXCursor_BinaryOperator ||
	    child_count(c) < 2)
		return 0;
	op = token_at(c, cursor_end(child(c, 0)).off);
	r = !strcmp(op, "=");
	free(op);
	return r;
}

int is_deref(CXCursor c)
{
	char *op;
	int r;

	if (clang_getCursorKind(c) != CXCursor_UnaryOperator)
		return 0;
	op = token_at(c, cursor_loc(c).off);
	r = !strcmp(op, "*");
	free(op);
	return r;
}

int is_null(CXCursor c)
{
	char *t = cursor_text(strip(c));
	int r = !strcmp(t, "NULL") || !strcmp(t, "0") ||
		!strcmp(t, "((void *)0)");

	free(t);
	return r;
}

/* For a pointer type: the USR of the record it points to, else NULL. */
char *record_usr(CXType t, char **spelling)
{
	CXType p = clang_getCanonicalType(clang_getPointeeType(t));
	CXCursor d;
	char *usr, *sp;

	/* An array of pointers to records holds what leads to them. */
	while (p.kind == CXType_Pointer)
		p = clang_getCanonicalType(clang_getPointeeType(p));
	if (p.kind != CXType_Record)
		return NULL;
	d = clang_getTypeDeclaration(p);
	usr = cursor_usr(d);
	if (!usr[0]) {
		free(usr);
		return NULL;
	}
	if (spelling) {
		sp = cx_string(clang_getTypeSpelling(clang_getCursorType(d)));
		*spelling = sp;
	}
	return usr;
}

/* A variable with static storage: in the data or bss of the program. */
int is_global_var(CXCursor decl)
{
	CXCursor parent;

	if (clang_getCursorKind(decl) != CXCursor_VarDecl)
		return 0;
	parent = clang_getCursorSemanticParent(decl);
	if (clang_getCursorKind(parent) == CXCursor_TranslationUnit)
		return 1;
	return clang_Cursor_getStorageClass(decl) == CX_SC_Static;
}

static enum CXChildVisitResult walk_cb(CXCursor c, CXCursor parent,
				       CXClientData d)
{
	struct walk *w = d;

	w->fn(w, c, w->arg);
	if (w->depth < MAX_STACK) {
		w->stack[w->depth++] = c;
		clang_visitChildren(c, walk_cb, w);
		w->depth--;
	}
	return CXChildVisit_Continue;
}

void walk_tree(CXCursor root, walk_fn fn, void *arg)
{
	struct walk *w = xmalloc(sizeof(*w));

	w->fn = fn;
	w->arg = arg;
	w->stack[0] = root;
	w->depth = 1;
	clang_visitChildren(root, walk_cb, w);
	free(w);
}

/* The ancestor up levels above the cursor being visited (0: parent). */
CXCursor walk_parent(struct walk *w, int up)
{
	if (up < 0 || up >= w->depth)
		return clang_getNullCursor();
	return w->stack[w->depth - 1 - up];
}
