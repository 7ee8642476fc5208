// SPDX-License-Identifier: GPL-2.0
/*
 * orbit-analyze [OPTIONS] FILE... [-- COMPILER-FLAGS]
 * orbit-analyze [OPTIONS] -p BUILD-DIR [FILE...]
 *
 * Reads a program's C sources with libclang, finds its orbit tasks and
 * reports the allocation points whose objects the tasks read (they must
 * move into an orbit area), the globals and stack objects they read, and
 * with --fix writes the patch.  See orbit-analyze(1).
 */
#define _GNU_SOURCE
#include <clang-c/CXCompilationDatabase.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze.h"

#define VERSION	"0.2.0"

static int parse_errors;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: orbit-analyze [OPTIONS] FILE... [-- COMPILER-FLAGS]\n"
		"       orbit-analyze [OPTIONS] -p BUILD-DIR [FILE...]\n"
		"options: -t, --task NAME    analyse this task (default: every task the\n"
		"                            program hands to orbit_create*/orbit_call*)\n"
		"         -a, --alloc NAME   NAME allocates like malloc (a wrapper)\n"
		"         -p, --build-dir D  read D/compile_commands.json\n"
		"         -j, --json         JSON output\n"
		"         -f, --fix          print a unified diff that moves the\n"
		"                            allocations into an area\n"
		"         -A, --all          also list the allocations left out, and why\n"
		"         -V, --version      -h, --help\n");
}

static void add_tu(struct analysis *a, const char *file, const char *const *args,
		   int nargs)
{
	CXTranslationUnit tu = NULL;
	enum CXErrorCode err;
	unsigned int i, n;

	err = clang_parseTranslationUnit2(a->index, file, args, nargs, NULL, 0,
					  CXTranslationUnit_KeepGoing, &tu);
	if (err != CXError_Success || !tu) {
		fprintf(stderr, "orbit-analyze: %s: cannot parse (libclang error %d)\n",
			file, (int)err);
		parse_errors++;
		return;
	}
	n = clang_getNumDiagnostics(tu);
	for (i = 0; i < n; i++) {
		CXDiagnostic d = clang_getDiagnostic(tu, i);

		if (clang_getDiagnosticSeverity(d) >= CXDiagnostic_Error) {
			char *m = cx_string(clang_formatDiagnostic(d,
				clang_defaultDiagnosticDisplayOptions()));

			fprintf(stderr, "orbit-analyze: %s\n", m);
			free(m);
			parse_errors++;
		}
		clang_disposeDiagnostic(d);
	}
	a->tus = xrealloc(a->tus, sizeof(*a->tus) * (a->ntus + 1));
	a->tus[a->ntus++] = tu;
}

/* One compile command: its flags without the compiler, -c, -o X, the file. */
static void add_command(struct analysis *a, CXCompileCommand cmd)
{
	char *dir = cx_string(clang_CompileCommand_getDirectory(cmd));
	char *file = cx_string(clang_CompileCommand_getFilename(cmd));
	unsigned int n = clang_CompileCommand_getNumArgs(cmd), i;
	char **args = xmalloc(sizeof(*args) * (n + 1)), cwd[PATH_MAX];
	int na = 0;

	for (i = 1; i < n; i++) {
		char *s = cx_string(clang_CompileCommand_getArg(cmd, i));

		if (!strcmp(s, "-c") || !strcmp(s, file)) {
			free(s);
			continue;
		}
		if (!strcmp(s, "-o")) {
			free(s);
			i++;
			continue;
		}
		args[na++] = s;
	}
	if (getcwd(cwd, sizeof(cwd)) && !chdir(dir)) {
		add_tu(a, file, (const char *const *)args, na);
		if (chdir(cwd))
			perror("orbit-analyze: chdir");
	} else {
		fprintf(stderr, "orbit-analyze: %s: cannot enter %s\n", file, dir);
		parse_errors++;
	}
	while (na)
		free(args[--na]);
	free(args);
	free(dir);
	free(file);
}

static int load_db(struct analysis *a, const char *dir, char **files,
		   int nfiles)
{
	CXCompilationDatabase_Error err;
	CXCompilationDatabase db = clang_CompilationDatabase_fromDirectory(dir, &err);
	CXCompileCommands cmds;
	unsigned int i, n;
	int f;

	if (err != CXCompilationDatabase_NoError) {
		fprintf(stderr, "orbit-analyze: %s: no compile_commands.json\n", dir);
		return -1;
	}
	for (f = 0; f < (nfiles ? nfiles : 1); f++) {
		char real[PATH_MAX];

		if (nfiles)
			cmds = clang_CompilationDatabase_getCompileCommands(db,
				realpath(files[f], real) ? real : files[f]);
		else
			cmds = clang_CompilationDatabase_getAllCompileCommands(db);
		n = clang_CompileCommands_getSize(cmds);
		if (nfiles && !n)
			fprintf(stderr, "orbit-analyze: %s: not in %s/compile_commands.json\n",
				files[f], dir);
		for (i = 0; i < n; i++)
			add_command(a, clang_CompileCommands_getCommand(cmds, i));
		clang_CompileCommands_dispose(cmds);
	}
	clang_CompilationDatabase_dispose(db);
	return 0;
}

/* ---- reports ---- */
static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c == '\n')
			printf("\\n");
		else if (c == '\t')
			printf("\\t");
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void json_loc(const char *key, struct loc l)
{
	printf("\"%s\": ", key);
	json_str(display_path(l.file));
	printf(", \"%s_line\": %u", key, l.line);
}

/* , "key": "value" */
static void json_kv(const char *key, const char *value)
{
	printf(", \"%s\": ", key);
	json_str(value);
}

static const char *task_name(struct analysis *a, int i)
{
	const struct fdef *d = find_def(a, a->task_names[i]);

	return d ? d->name : a->task_names[i];
}

static void report_json(struct analysis *a, int all)
{
	int i, first;

	printf("{\n  \"tasks\": [");
	for (i = 0; i < a->ntask_names; i++) {
		const struct fdef *d = find_def(a, a->task_names[i]);

		printf("%s\n    {\"name\": ", i ? "," : "");
		json_str(task_name(a, i));
		if (d) {
			printf(", ");
			json_loc("file", cursor_loc(d->def));
		}
		printf("}");
	}
	printf("\n  ],\n  \"allocations\": [");
	for (i = 0, first = 1; i < a->nallocs; i++) {
		struct alloc *s = &a->allocs[i];
		struct need *n = s->need_idx >= 0 ? &a->needs[s->need_idx] : NULL;

		if (!s->needed && !all)
			continue;
		printf("%s\n    {", first ? "" : ",");
		first = 0;
		json_loc("file", s->at);
		printf(", \"column\": %u, \"call\": ", s->at.col);
		json_str(s->text);
		json_kv("allocator", s->callee);
		json_kv("function", s->func);
		json_kv("stored_to", s->dest);
		json_kv("type", s->dest_type);
		printf(", \"needed\": %s", s->needed ? "true" : "false");
		if (n) {
			json_kv("task", n->task);
			json_kv("access_path", n->path);
			printf(", ");
			json_loc("access", n->at);
		}
		if (s->excluded) {
			json_kv("left_out", s->excluded);
		}
		printf("}");
	}
	printf("\n  ],\n  \"base_allocators\": [");
	for (i = 0; i < a->nbases; i++) {
		struct base *b = &a->bases[i];

		printf("%s\n    {", i ? "," : "");
		json_loc("file", b->at);
		printf(", \"column\": %u, \"call\": ", b->at.col);
		json_str(b->text);
		json_kv("function", b->func);
		json_kv("via", b->via);
		printf(", \"points\": %d}", b->points);
	}
	printf("\n  ],\n  \"globals\": [");
	for (i = 0; i < a->nglobals; i++) {
		struct global_read *g = &a->globals[i];

		printf("%s\n    {\"name\": ", i ? "," : "");
		json_str(g->name);
		json_kv("type", g->type);
		printf(", ");
		json_loc("file", g->decl);
		json_kv("task", g->task);
		printf(", ");
		json_loc("read_at", g->at);
		printf("}");
	}
	printf("\n  ],\n  \"stack\": [");
	for (i = 0; i < a->nstack; i++) {
		struct stack_obj *o = &a->stack[i];

		printf("%s\n    {\"name\": ", i ? "," : "");
		json_str(o->name);
		json_kv("type", o->type);
		json_kv("function", o->func);
		printf(", ");
		json_loc("file", o->decl);
		printf(", ");
		json_loc("passed_at", o->at);
		printf("}");
	}
	printf("\n  ],\n  \"wrappers\": [");
	for (i = 0; i < a->nwrappers; i++) {
		printf("%s", i ? ", " : "");
		json_str(a->wrappers[i]);
	}
	printf("]\n}\n");
}

static void report_text(struct analysis *a, int all)
{
	int i, n = 0;

	printf("tasks:");
	for (i = 0; i < a->ntask_names; i++)
		printf(" %s", task_name(a, i));
	printf("%s\n", a->ntask_names ? "" : " none found");
	for (i = 0; i < a->nallocs; i++)
		n += a->allocs[i].needed;
	printf("\nallocation points the tasks need in an area (%d):\n", n);
	for (i = 0; i < a->nallocs; i++) {
		struct alloc *s = &a->allocs[i];
		struct need *nd;

		if (!s->needed)
			continue;
		nd = &a->needs[s->need_idx];
		printf("  %s:%u:%u: %s in %s() -> %s (%s)\n",
		       display_path(s->at.file), s->at.line, s->at.col, s->text,
		       s->func, s->dest[0] ? s->dest : "?", nd->type);
		printf("      %s reads it: %s (%s:%u)\n", nd->task, nd->path,
		       display_path(nd->at.file), nd->at.line);
	}
	if (a->nbases) {
		printf("\nbase allocators those points reach through wrappers (switching one to\n"
		       "the area moves every object it allocates, as a whole-heap port does):\n");
		for (i = 0; i < a->nbases; i++)
			printf("  %s:%u:%u: %s in %s(), via %s (%d point%s)\n",
			       display_path(a->bases[i].at.file),
			       a->bases[i].at.line, a->bases[i].at.col,
			       a->bases[i].text, a->bases[i].func,
			       a->bases[i].via, a->bases[i].points,
			       a->bases[i].points == 1 ? "" : "s");
	}
	if (a->nglobals) {
		printf("\nglobals the tasks read (each orbit gets a copy made at its orbit_create;\n"
		       "a later change needs orbit_sync_globals or the call's argument, and a\n"
		       "pointer among them must point into an area):\n");
		for (i = 0; i < a->nglobals; i++)
			printf("  %s:%u: %s %s, read by %s at line %u\n",
			       display_path(a->globals[i].decl.file),
			       a->globals[i].decl.line, a->globals[i].type,
			       a->globals[i].name, a->globals[i].task,
			       a->globals[i].at.line);
	}
	if (a->nstack) {
		printf("\nstack objects passed by address (their bytes are copied into the task's\n"
		       "argument buffer; pointers in them must point into an area):\n");
		for (i = 0; i < a->nstack; i++)
			printf("  %s:%u: %s %s in %s()\n",
			       display_path(a->stack[i].at.file),
			       a->stack[i].at.line, a->stack[i].type,
			       a->stack[i].name, a->stack[i].func);
	}
	if (!all)
		return;
	printf("\nallocations left out:\n");
	for (i = 0; i < a->nallocs; i++) {
		struct alloc *s = &a->allocs[i];

		if (s->needed)
			continue;
		printf("  %s:%u:%u: %s in %s(): %s\n", display_path(s->at.file),
		       s->at.line, s->at.col, s->text, s->func,
		       s->excluded ? s->excluded :
		       "no task dereferences what it is stored to");
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "task", required_argument, NULL, 't' },
		{ "alloc", required_argument, NULL, 'a' },
		{ "build-dir", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "fix", no_argument, NULL, 'f' },
		{ "all", no_argument, NULL, 'A' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct analysis a;
	const char *dir = NULL;
	int json = 0, fix = 0, all = 0, c, i, nfiles, rc = 0;
	char **files;

	memset(&a, 0, sizeof(a));
	while ((c = getopt_long(argc, argv, "+t:a:p:jfAVh", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			a.tasks = xrealloc(a.tasks, sizeof(*a.tasks) * (a.ntasks + 1));
			a.tasks[a.ntasks++] = optarg;
			break;
		case 'a':
			a.allocators = xrealloc(a.allocators,
						sizeof(*a.allocators) * (a.nallocators + 1));
			a.allocators[a.nallocators++] = optarg;
			break;
		case 'p':
			dir = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'f':
			fix = 1;
			break;
		case 'A':
			all = 1;
			break;
		case 'V':
			printf("orbit-analyze %s (libclang: %s)\n", VERSION,
			       clang_getCString(clang_getClangVersion()));
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	files = argv + optind;
	for (nfiles = 0; optind + nfiles < argc; nfiles++)
		if (!strcmp(files[nfiles], "--"))
			break;
	if ((!nfiles && !dir) || (json && fix)) {
		usage(stderr);
		return 2;
	}
	a.index = clang_createIndex(0, 0);
	if (dir) {
		if (load_db(&a, dir, files, nfiles))
			return 1;
	} else {
		const char *const *flags = (const char *const *)files + nfiles;
		int nflags = argc - optind - nfiles;

		if (nflags) {	/* skip the "--" */
			flags++;
			nflags--;
		}
		for (i = 0; i < nfiles; i++)
			add_tu(&a, files[i], flags, nflags);
	}
	if (!a.ntus)
		return 1;
	collect_defs(&a);
	collect_calls(&a);
	analyse_tasks(&a);
	collect_sites(&a);
	collect_bases(&a);
	if (fix)
		rc = write_fix(&a) ? 1 : 0;
	else if (json)
		report_json(&a, all);
	else
		report_text(&a, all);
	for (i = 0; i < a.ntus; i++)
		clang_disposeTranslationUnit(a.tus[i]);
	clang_disposeIndex(a.index);
	return rc || parse_errors ? 1 : 0;
}
