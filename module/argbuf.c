// SPDX-License-Identifier: GPL-2.0
/*
 * Argument buffers: where a call's argument lives when it is too large to
 * sit inline in the call.  A buffer belongs to one call, from the issue
 * that copies the argument in until the call is freed; then it is kept in
 * the call's context (struct argbuf_keep, ARGBUF_KEEP buffers at most) and
 * a later large argument of that context reuses it.  A main that sends a
 * batch per call (a log, a queue) would otherwise pay, per call, an
 * allocation that zeroes the whole buffer (init_on_alloc, on in Debian's
 * kernels) only for the copy to overwrite it, and a free.  More than one
 * is kept because a fire-and-forget main issues its next call while the
 * orbit still runs the last.
 *
 * A kept buffer holds bytes of that context's own earlier arguments only;
 * a call copies its argsize bytes in before anyone sees them and hands the
 * orbit those bytes only.  Every buffer is charged to the context's user
 * from its allocation to its free, kept or not; the kept ones are freed
 * with the context (argbuf_drop from ctx_release, when no call of the
 * context is left to keep one).
 */
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "orbit_internal.h"

/* Bytes to allocate for size bytes: what the allocators hand out anyway. */
static size_t argbuf_alloc_size(size_t size)
{
	return size <= PAGE_SIZE ? roundup_pow_of_two(size) : PAGE_ALIGN(size);
}

static void argbuf_free(struct orbit_ctx *ctx, void *data, size_t alloc)
{
	if (!data)
		return;
	orbit_uncharge(&ctx->acct, alloc);
	kvfree(data);
}

void argbuf_init(struct argbuf_keep *keep)
{
	spin_lock_init(&keep->lock);
	keep->n = 0;
}

/*
 * A buffer for size bytes (more than the inline limit, at most max_arg),
 * its allocated bytes in *alloc: a kept one that holds them without being
 * more than twice what is needed, else a new one.  NULL: EDQUOT or
 * ENOMEM in *err.
 */
void *argbuf_get(struct orbit_ctx *ctx, size_t size, size_t *alloc, int *err)
{
	struct argbuf_keep *keep = &ctx->argbufs;
	size_t want = argbuf_alloc_size(size);
	struct argbuf_kept evict = { NULL, 0 };
	void *data = NULL;
	unsigned int i;

	spin_lock(&keep->lock);
	for (i = 0; i < keep->n; i++) {
		if (keep->buf[i].alloc >= want && keep->buf[i].alloc / 2 < want)
			break;
	}
	if (i < keep->n) {
		data = keep->buf[i].data;
		*alloc = keep->buf[i].alloc;
		keep->buf[i] = keep->buf[--keep->n];
	} else if (keep->n == ARGBUF_KEEP) {
		evict = keep->buf[0];	/* none fits: one makes room */
		keep->buf[0] = keep->buf[--keep->n];
	}
	spin_unlock(&keep->lock);
	argbuf_free(ctx, evict.data, evict.alloc);
	if (data)
		return data;

	*err = orbit_charge(&ctx->acct, want);
	if (*err)
		return NULL;
	data = kvmalloc(want, GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!data) {
		orbit_uncharge(&ctx->acct, want);
		*err = -ENOMEM;
		return NULL;
	}
	*alloc = want;
	return data;
}

/* The call that had data is freed: kept for the next, or freed if full. */
void argbuf_put(struct orbit_ctx *ctx, void *data, size_t alloc)
{
	struct argbuf_keep *keep = &ctx->argbufs;

	if (!data)
		return;
	spin_lock(&keep->lock);
	if (keep->n < ARGBUF_KEEP) {
		keep->buf[keep->n].data = data;
		keep->buf[keep->n].alloc = alloc;
		keep->n++;
		data = NULL;
	}
	spin_unlock(&keep->lock);
	argbuf_free(ctx, data, alloc);
}

/* The context goes: its kept buffers with it (nobody else can see them). */
void argbuf_drop(struct orbit_ctx *ctx)
{
	struct argbuf_keep *keep = &ctx->argbufs;

	while (keep->n) {
		keep->n--;
		argbuf_free(ctx, keep->buf[keep->n].data,
			    keep->buf[keep->n].alloc);
	}
}
