// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/orbit: the misc device.  Each open is a main context (ctx.c); the
 * file holds one reference on it and ends it at its last release.  The
 * handshake and the listing and counters go through here; everything
 * else is the context's (ctx_ioctl).
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>

#include "orbit_internal.h"

static int orbit_dev_open(struct inode *inode, struct file *file)
{
	struct orbit_ctx *ctx = ctx_alloc();

	if (!ctx)
		return -ENOMEM;
	file->private_data = ctx;
	return 0;
}

static int orbit_dev_release(struct inode *inode, struct file *file)
{
	struct orbit_ctx *ctx = file->private_data;

	ctx_teardown(ctx);
	ctx_unmap_anchor(ctx);
	ctx_put(ctx);
	return 0;
}

static long orbit_dev_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	struct orbit_ctx *ctx = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case ORBIT_IOC_API:
		return ctx_handshake(ctx, uarg);
	case ORBIT_IOC_STATS:
		return orbit_stats_ioctl(uarg);
	case ORBIT_IOC_LIST:
		return orbit_list_ioctl(uarg);
	}
	if (_IOC_TYPE(cmd) != ORBIT_IOC_MAGIC)
		return -ENOTTY;
	return ctx_ioctl(ctx, cmd, uarg);
}

static const struct file_operations orbit_dev_fops = {
	.owner		= THIS_MODULE,
	.open		= orbit_dev_open,
	.release	= orbit_dev_release,
	.unlocked_ioctl	= orbit_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice orbit_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "orbit",
	.fops	= &orbit_dev_fops,
	.mode	= 0666,
};

int orbit_dev_init(void)
{
	return misc_register(&orbit_misc);
}

void orbit_dev_exit(void)
{
	misc_deregister(&orbit_misc);
}
