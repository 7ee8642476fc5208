// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/orbit: the misc device, the API handshake and ioctl dispatch.
 */
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "orbit_internal.h"

#define ORBIT_IOCTLS	(BIT_ULL(_IOC_NR(ORBIT_IOC_API)) |		\
			 BIT_ULL(_IOC_NR(ORBIT_IOC_STATS)))

static int orbit_dev_open(struct inode *inode, struct file *file)
{
	struct orbit_ctx *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	mutex_init(&ctx->lock);
	ctx->tgid = task_tgid_nr(current);
	file->private_data = ctx;
	ostat_inc(OS_CONTEXTS);
	return 0;
}

static int orbit_dev_release(struct inode *inode, struct file *file)
{
	struct orbit_ctx *ctx = file->private_data;

	kfree(ctx);
	ostat_dec(OS_CONTEXTS);
	return 0;
}

static long orbit_api(struct orbit_ctx *ctx, void __user *uarg)
{
	struct orbit_api api;
	int i;

	if (copy_from_user(&api, uarg, sizeof(api)))
		return -EFAULT;
	if (api.api != ORBIT_API_VERSION)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(api.reserved); i++)
		if (api.reserved[i])
			return -EINVAL;
	if (api.features & ~ORBIT_FEATURES)
		return -EINVAL;

	mutex_lock(&ctx->lock);
	if (ctx->ready) {
		mutex_unlock(&ctx->lock);
		return -EBUSY;
	}
	ctx->ready = true;
	ctx->tgid = task_tgid_nr(current);
	mutex_unlock(&ctx->lock);

	api.features = ORBIT_FEATURES;
	api.ioctls = ORBIT_IOCTLS;
	api.max_arg_size = orbit_max_arg;
	api.max_call_areas = orbit_max_call_areas;
	api.max_area_size = orbit_max_area_size;
	if (copy_to_user(uarg, &api, sizeof(api)))
		return -EFAULT;
	return 0;
}

static long orbit_dev_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	struct orbit_ctx *ctx = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case ORBIT_IOC_API:
		return orbit_api(ctx, uarg);
	case ORBIT_IOC_STATS:
		return orbit_stats_ioctl(uarg);
	}
	if (_IOC_TYPE(cmd) != ORBIT_IOC_MAGIC)
		return -ENOTTY;
	if (!READ_ONCE(ctx->ready))
		return -EINVAL;
	if (task_tgid_nr(current) != ctx->tgid)
		return -EPERM;
	return -ENOTTY;
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
